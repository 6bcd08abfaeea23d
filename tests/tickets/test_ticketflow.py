"""How tickets open and reopen by themselves: a customer's reply (pending → open, a solved
ticket reopened within the workspace's days, a new ticket after them), the rules (negative
sentiment, keywords, a bot that failed twice, a customer left waiting) each switched off too,
and the bot step; every event handled twice changes nothing the second time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from kith.bots.engine import BotEngine
from kith.bots.flows import BotDefinition, StepTypes
from kith.bots.knowledge import KnowledgeBase
from kith.bots.store import save_bot
from kith.consent.feature import feature as consent_feature
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.customers import do_erase_customer
from kith.core.features import install
from kith.core.models import Author, AuthorKind, Channel, Event, OutboundContent
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.core.timers import TimerWorker
from kith.nlp.feature import SentimentWorker
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.feature import feature
from kith.tickets.merge import do_merge_ticket
from kith.tickets.models import Status, Ticket, TicketIn
from kith.tickets.rules import matched_keyword
from kith.tickets.settings import TicketSettings, save_settings
from kith.tickets.timeline import timeline
from kith.tickets.waiting import sweep
from kith.web.app import BASE_FEATURES, bot_step_types
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain
from tests.support.sentiment import NegativeOn

DAY = 24 * 3600.0


@pytest.fixture(autouse=True)
def with_tickets(core: Core) -> None:
    install(core, [feature(core)])


@pytest.fixture
async def channel(core: Core, workspace_id: str) -> Channel:
    made, _ = await api_channel(core, workspace_id, "Shop")
    return made


async def say(core: Core, channel: Channel, text: str, who: str = "ada") -> str:
    """The customer writes; every consumer runs; the conversation's id."""
    received = await ingest(core, channel, inbound(channel, who, text))
    await drain(core)
    return received.conversation.id


async def all_tickets(core: Core) -> list[Ticket]:
    docs = await core.store.collection("tickets").find().sort("number", 1).to_list(None)
    return [Ticket.from_doc(d) for d in docs]


async def handle_again(core: Core, types: Sequence[str]) -> None:
    """Hand every event of `types` to the tickets consumer once more (a redelivery)."""
    tickets_consumer = core.consumers.get("tickets")
    assert tickets_consumer is not None
    for doc in await core.store.events.find({"type": {"$in": list(types)}}).to_list(None):
        await tickets_consumer.handle(core, Event.from_doc(doc))


async def quiet(core: Core, workspace_id: str, **changes: Any) -> None:
    await save_settings(core, workspace_id, TicketSettings(**changes))


# -- replies ----------------------------------------------------------------------------------


async def opened(core: Core, conversation_id: str, workspace_id: str) -> Ticket:
    return await do_create_ticket(
        core, workspace_id, TicketIn(subject="Broken", conversation_id=conversation_id)
    )


async def test_a_reply_moves_a_pending_ticket_to_open_once(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    conversation_id = await say(core, channel, "It broke")
    ticket = await opened(core, conversation_id, workspace_id)
    await do_move_ticket(core, workspace_id, ticket.id, Status.pending)
    await say(core, channel, "Here is the photo you asked for")
    [after] = await all_tickets(core)
    assert after.status == Status.open
    moved = await core.store.events.find({"type": "ticket.status_changed"}).to_list(None)
    assert [(e["data"]["from"], e["data"]["to"], e["actor"]["kind"]) for e in moved] == [
        ("new", "pending", "system"),
        ("pending", "open", "customer"),
    ]
    await handle_again(core, ["message.received"])
    assert await core.store.events.count_documents({"type": "ticket.status_changed"}) == 2


async def test_stop_and_a_reply_written_before_the_move_leave_the_ticket_as_set(
    core: Core, workspace_id: str, channel: Channel, clock: ManualClock
) -> None:
    install(core, [consent_feature])
    conversation_id = await say(core, channel, "It broke")
    ticket = await opened(core, conversation_id, workspace_id)
    await ingest(core, channel, inbound(channel, "ada", "Any news?"))  # not handled yet
    clock.advance(60)
    await do_move_ticket(core, workspace_id, ticket.id, Status.pending)
    await drain(core)  # the consumers trail the log: the agent had it when they moved it
    await say(core, channel, "STOP")  # a word to the platform, not an answer
    [after] = await all_tickets(core)
    assert after.status == Status.pending
    clock.advance(60)
    await say(core, channel, "Here is the photo")
    [after] = await all_tickets(core)
    assert after.status == Status.open

    await ingest(core, channel, inbound(channel, "ada", "Thanks!"))
    clock.advance(60)
    await do_move_ticket(core, workspace_id, ticket.id, Status.solved)
    await do_move_ticket(core, workspace_id, ticket.id, Status.closed)
    await drain(core)  # written before it was closed: no ticket after it
    assert [t.status for t in await all_tickets(core)] == [Status.closed]


async def test_a_reply_reopens_within_the_days_and_opens_a_new_ticket_after(
    core: Core, workspace_id: str, channel: Channel, clock: ManualClock
) -> None:
    await quiet(core, workspace_id, reopen_days=3)
    conversation_id = await say(core, channel, "It broke")
    ticket = await opened(core, conversation_id, workspace_id)
    await do_move_ticket(core, workspace_id, ticket.id, Status.solved)
    clock.advance(3 * DAY - 60)
    await say(core, channel, "It broke again")
    [reopened] = await all_tickets(core)
    assert (reopened.status, reopened.solved_at) == (Status.open, None)

    await do_move_ticket(core, workspace_id, ticket.id, Status.solved)
    clock.advance(3 * DAY + 60)
    await say(core, channel, "Still broken\nafter a week")
    old, new = await all_tickets(core)
    assert old.status == Status.solved  # left as it was
    assert (new.source, new.previous_ticket_id, new.status) == ("reply", old.id, Status.new)
    assert new.conversation_ids == [conversation_id]
    assert new.description == "> Still broken\n> after a week"
    await handle_again(core, ["message.received"])
    assert len(await all_tickets(core)) == 2


async def test_a_reply_reopens_the_ticket_a_newer_duplicate_was_merged_into(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    conversation_id = await say(core, channel, "It broke")
    kept = await opened(core, conversation_id, workspace_id)
    duplicate = await opened(core, conversation_id, workspace_id)
    await do_merge_ticket(core, workspace_id, duplicate.id, kept.id)
    await do_move_ticket(core, workspace_id, kept.id, Status.solved)
    await say(core, channel, "It broke again")
    assert [(t.id, t.status) for t in await all_tickets(core)] == [
        (kept.id, Status.open),
        (duplicate.id, Status.closed),
    ]


async def test_a_reply_after_closing_opens_a_new_ticket_and_an_active_one_is_left(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    conversation_id = await say(core, channel, "It broke")
    ticket = await opened(core, conversation_id, workspace_id)
    await do_move_ticket(core, workspace_id, ticket.id, Status.solved)
    await do_move_ticket(core, workspace_id, ticket.id, Status.closed)
    await say(core, channel, "Hello again")  # within the days, but closed is closed
    old, new = await all_tickets(core)
    assert (old.status, new.previous_ticket_id, new.source) == (Status.closed, old.id, "reply")
    await say(core, channel, "Any news?")
    assert [t.status for t in await all_tickets(core)] == [Status.closed, Status.new]


# -- rules ------------------------------------------------------------------------------------


def test_keywords_match_whole_latin_words_and_chinese_anywhere() -> None:
    keywords = ["refund", "投诉", "money back"]
    assert matched_keyword("I want a REFUND!", keywords) == "refund"
    assert matched_keyword("我要refund", keywords) == "refund"
    assert matched_keyword("refunds are slow", keywords) is None
    assert matched_keyword("prefund", keywords) is None
    assert matched_keyword("我要投诉你们", keywords) == "投诉"
    assert matched_keyword("Give my Money Back.", keywords) == "money back"
    assert matched_keyword("a" * 100_000 + "refunda", keywords) is None


async def test_a_keyword_opens_one_ticket_then_notes_on_it(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    await quiet(core, workspace_id, language="zh")
    conversation_id = await say(core, channel, "我要退款")
    [ticket] = await all_tickets(core)
    assert (ticket.source, ticket.subject) == ("rule", "客户提到“退款”")
    assert ticket.conversation_ids == [conversation_id]
    assert ticket.description == "> 我要退款"
    await say(core, channel, "I filed a complaint")
    [same] = await all_tickets(core)
    assert same.id == ticket.id
    notes = await core.store.collection("ticket_notes").find().to_list(None)
    assert [n["text"] for n in notes] == ["客户提到“complaint”"]
    await handle_again(core, ["message.received"])
    assert len(await all_tickets(core)) == 1
    assert await core.store.collection("ticket_notes").count_documents({}) == 1
    assert await core.store.events.count_documents({"type": "ticket.created"}) == 1


async def test_a_rules_ticket_is_titled_in_its_customers_language_after_what_opened_it(
    core: Core, workspace_id: str, channel: Channel, clock: ManualClock
) -> None:
    await quiet(core, workspace_id)  # no language chosen for the workspace: the customer's
    # No locale on Ada's profile: her words say Chinese. The rule reads them a moment later.
    chinese = (await ingest(core, channel, inbound(channel, "ada", "我要退款"))).conversation.id
    clock.advance(1)
    await drain(core)
    english = await say(core, channel, "I want a refund", who="grace")
    first, second = await all_tickets(core)
    assert (first.conversation_ids, first.subject) == ([chinese], "客户提到“退款”")
    assert (second.conversation_ids, second.subject) == ([english], "The customer wrote “refund”")
    # The message that opened the ticket is its timeline's first entry, though written before.
    page, cursor = await timeline(core, first, None, cursor=None, limit=1)
    assert [(i.kind, i.text) for i in page] == [("message", "我要退款")]
    assert cursor is not None
    rest, _ = await timeline(core, first, None, cursor=cursor, limit=10)
    assert [(i.kind, i.type) for i in rest] == [("event", "ticket.created")]
    await quiet(core, workspace_id, language="en")  # a workspace's choice wins
    await say(core, channel, "还有投诉")
    notes = await core.store.collection("ticket_notes").find().to_list(None)
    assert [n["text"] for n in notes] == ["The customer wrote “投诉”"]


async def test_a_keyword_rule_switched_off_opens_nothing(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    await quiet(core, workspace_id, keywords_enabled=False)
    await say(core, channel, "refund please")
    assert await all_tickets(core) == []


async def test_negative_sentiment_opens_a_high_ticket_or_raises_the_active_one(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    worker = SentimentWorker(core, NegativeOn("terrible"))
    conversation_id = await say(core, channel, "This is terrible")
    await worker.drain()
    await drain(core)
    [ticket] = await all_tickets(core)
    assert (ticket.priority, ticket.source) == ("high", "rule")
    assert ticket.subject == "Negative sentiment: the customer is unhappy"
    await handle_again(core, ["conversation.escalated"])
    assert len(await all_tickets(core)) == 1

    other = await say(core, channel, "Where is my parcel?", who="grace")
    mine = await opened(core, other, workspace_id)
    await say(core, channel, "terrible, just terrible", who="grace")
    await worker.drain()
    await drain(core)
    raised = next(t for t in await all_tickets(core) if t.id == mine.id)
    assert raised.priority == "high"
    assert len(await all_tickets(core)) == 2
    assert conversation_id != other


async def test_negative_sentiment_switched_off_opens_nothing(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    await quiet(core, workspace_id, negative_sentiment=False)
    await say(core, channel, "This is terrible")
    await SentimentWorker(core, NegativeOn("terrible")).drain()
    await drain(core)
    assert await core.store.events.count_documents({"type": "conversation.escalated"}) == 1
    assert await all_tickets(core) == []


SHY_BOT: dict[str, Any] = {
    "name": "Kithy",
    "flows": [
        {
            "id": "hi",
            "trigger": {"kind": "keyword", "values": ["hello"]},
            "steps": [{"id": "hi", "type": "send_text", "text": "Hi!"}],
        }
    ],
}


async def test_a_bot_that_failed_twice_opens_a_ticket(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    install(core, [BotEngine(KnowledgeBase()).feature()])
    definition = BotDefinition.model_validate({**SHY_BOT, "channel_ids": [channel.id]})
    await save_bot(core, workspace_id, definition)
    await say(core, channel, "hello")
    await say(core, channel, "qwzx")
    assert await all_tickets(core) == []
    await say(core, channel, "zzqq")
    [ticket] = await all_tickets(core)
    assert ticket.subject == "The bot failed to answer twice in a row"
    await handle_again(core, ["conversation.handoff"])
    assert len(await all_tickets(core)) == 1


async def test_a_bot_failing_twice_with_the_rule_off_opens_nothing(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    await quiet(core, workspace_id, bot_failures=False)
    install(core, [BotEngine(KnowledgeBase()).feature()])
    definition = BotDefinition.model_validate({**SHY_BOT, "channel_ids": [channel.id]})
    await save_bot(core, workspace_id, definition)
    for text in ("qwzx", "zzqq"):
        await say(core, channel, text)
    assert await core.store.events.count_documents({"type": "conversation.handoff"}) == 1
    assert await all_tickets(core) == []


async def test_a_customer_waiting_too_long_gets_a_ticket_once(
    core: Core, workspace_id: str, channel: Channel, clock: ManualClock
) -> None:
    await quiet(core, workspace_id, waiting_minutes=30)
    waited = await say(core, channel, "Hello?")
    answered = await say(core, channel, "Anyone?", who="grace")
    conversation = await get_conversation(core, workspace_id, answered)
    agent = Author(kind=AuthorKind.agent, id="u1", name="Alice")
    await send(core, conversation, OutboundContent(text="On it"), agent)
    clock.advance(29 * 60)
    assert await sweep(core, workspace_id) == 0
    clock.advance(2 * 60)
    timers = TimerWorker(core)
    assert await timers.run_once() == 1  # the workspace's sweep, scheduled by the consumer
    await drain(core)
    [ticket] = await all_tickets(core)
    assert ticket.conversation_ids == [waited]
    assert ticket.subject == "The customer has waited over 30 minutes for a reply"
    clock.advance(60)
    await sweep(core, workspace_id)  # later sweeps start after the last one
    await drain(core)
    await handle_again(core, ["conversation.wait_exceeded"])
    assert len(await all_tickets(core)) == 1


async def test_waiting_switched_off_opens_nothing(
    core: Core, workspace_id: str, channel: Channel, clock: ManualClock
) -> None:
    await quiet(core, workspace_id, waiting_enabled=False)
    await say(core, channel, "Hello?")
    clock.advance(3600)
    assert await sweep(core, workspace_id) == 0
    await quiet(core, workspace_id)  # on again: the old wait is not flagged
    clock.advance(60)
    assert await sweep(core, workspace_id) == 0
    assert await all_tickets(core) == []


# -- the bot step -----------------------------------------------------------------------------


async def test_the_bot_step_opens_a_ticket_once_per_turn(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    step_types = bot_step_types(BASE_FEATURES)
    assert "create_ticket" in {s.name for s in step_types}
    install(core, [BotEngine(KnowledgeBase(), step_types=step_types).feature()])
    flow = {
        "id": "help",
        "trigger": {"kind": "keyword", "values": ["help"]},
        "steps": [
            {
                "id": "open",
                "type": "create_ticket",
                "subject": {"en": "Help for {name}", "zh": "{name} 需要帮助"},
                "priority": "urgent",
            },
            {"id": "ok", "type": "send_text", "text": "A person will write to you."},
        ],
    }
    definition = BotDefinition.model_validate(
        {"name": "Kithy", "channel_ids": [channel.id], "flows": [flow]}
    )
    await save_bot(core, workspace_id, definition, step_types=StepTypes(step_types))
    conversation_id = await say(core, channel, "help")
    [ticket] = await all_tickets(core)
    assert (ticket.source, ticket.priority, ticket.conversation_ids) == (
        "bot",
        "urgent",
        [conversation_id],
    )
    assert ticket.subject.startswith("Help for ")
    assert ticket.created_by.kind == "bot"
    said = await core.store.messages.find_one({"text": "A person will write to you."})
    assert said is not None


async def test_erasing_the_customer_erases_their_tickets_and_notes(
    core: Core, workspace_id: str, channel: Channel
) -> None:
    await say(core, channel, "refund now")
    await say(core, channel, "I have a complaint too")
    [ticket] = await all_tickets(core)
    assert await core.store.collection("ticket_notes").count_documents({}) == 1
    await do_erase_customer(core, workspace_id, ticket.customer_id)
    assert await all_tickets(core) == []
    assert await core.store.collection("ticket_notes").count_documents({}) == 0
