"""A bot's messages read back and go out in the order it said them, after the message they
answer, however fast it said them: the test clock stands still, so every message is written
in one millisecond."""

from __future__ import annotations

from kith.bots.engine import BotEngine
from kith.bots.knowledge import KnowledgeBase
from kith.core.context import Core
from kith.core.conversations import get_conversation, list_messages
from kith.core.features import install
from kith.core.outbox import OutboxWorker
from tests.bots.conftest import BotSetup
from tests.support.callbacks import CallbackServer
from tests.support.cast import api_channel

SAID = ["one", "two", "three", "four", "five", "six"]


def say_all(flow_id: str, trigger: dict[str, object], texts: list[str]) -> dict[str, object]:
    steps = [{"id": f"s{n}", "type": "send_text", "text": t} for n, t in enumerate(texts)]
    return {"id": flow_id, "trigger": trigger, "steps": steps}


async def test_one_replys_messages_read_back_and_go_out_in_the_order_said(
    core: Core, workspace_id: str, callbacks: CallbackServer
) -> None:
    install(core, [BotEngine(KnowledgeBase()).feature()])
    channel, _ = await api_channel(core, workspace_id)  # delivers to `callbacks`
    bots = BotSetup(core, channel, workspace_id)
    await bots.install(
        knowledge_base=False,
        flows=[
            say_all("hello", {"kind": "first_message"}, SAID[:5]),
            say_all("more", {"kind": "keyword", "values": ["more"]}, SAID[5:]),
        ],
    )
    first = await bots.say("hi")
    await bots.say("more")  # the next reply's come after the first's, though the clock stood

    conversation = await get_conversation(core, workspace_id, first.conversation.id)
    messages, _ = await list_messages(core, conversation)
    replies = [m for m in messages if m.direction == "out"]
    assert [m.text for m in replies] == SAID
    moments = [m.created_at for m in replies]
    assert moments == sorted(set(moments))  # each later than the one before
    hi = next(m for m in messages if m.text == "hi")
    assert moments[0] > hi.created_at  # after what it answers, though said in its millisecond

    await OutboxWorker(core).run_once()
    assert [r.json()["message"]["text"] for r in callbacks.requests] == SAID
