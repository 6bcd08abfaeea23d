"""A bot turn is an event consumer's run: a process that dies mid-turn leaves the turn to
another, which completes it without losing or repeating a reply."""

from __future__ import annotations

import asyncio
import contextlib

from kith.bots.engine import BotEngine
from kith.bots.knowledge import KnowledgeBase
from kith.core.clock import ManualClock
from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.features import install
from kith.core.pipeline import ingest
from tests.bots.conftest import BotSetup
from tests.support.cast import inbound
from tests.support.faults import freezing

TWO_REPLIES = {
    "id": "greet",
    "trigger": {"kind": "first_message"},
    "steps": [
        {"id": "hi", "type": "send_text", "text": "Hello!"},
        {"id": "help", "type": "send_text", "text": "How can I help?"},
    ],
}


async def test_a_turn_killed_between_two_replies_is_completed_once_by_another_process(
    bots: BotSetup, core: Core, second_process: Core, clock: ManualClock
) -> None:
    await bots.install(flows=[TWO_REPLIES], knowledge_base=False)
    install(second_process, [BotEngine(KnowledgeBase()).feature()])
    received = await ingest(core, bots.channel, inbound(bots.channel, "ada", "hi"))

    dying = ConsumerWorker(core, owner="dying", lease_seconds=60)
    # Replies are stored by `send()` through group commit: one `bulk_write` per reply here.
    messages = core.store.grouped("messages").collection
    with freezing(messages, "bulk_write", after=1) as frozen:
        turn = asyncio.create_task(dying.run_once())
        await frozen.reached.wait()  # the first reply is stored; the process dies here
        turn.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await turn
    assert await bots.bot_texts(received.conversation.id) == ["Hello!"]

    survivor = ConsumerWorker(second_process, owner="survivor")
    assert await survivor.drain() == 0  # the dead worker's claim still holds
    clock.advance(61)
    assert await survivor.drain() == 1
    assert await survivor.drain() == 0

    assert await bots.bot_texts(received.conversation.id) == ["Hello!", "How can I help?"]
    queued = await core.store.messages.count_documents({"delivery.status": "pending"})
    assert queued == 2


async def test_a_turn_run_twice_sends_its_replies_once(bots: BotSetup, core: Core) -> None:
    """At-least-once delivery: the same event handed to the bot again changes nothing."""
    await bots.install(flows=[TWO_REPLIES], knowledge_base=False)
    received = await bots.say("hi")
    event = await core.store.events.find_one(
        {"type": "message.received", "message_id": received.message.id}
    )
    await core.store.events.update_one({"_id": event["_id"]}, {"$set": {"pending": ["bots"]}})

    assert await ConsumerWorker(core).drain() == 1
    assert await bots.bot_texts(received.conversation.id) == ["Hello!", "How can I help?"]
