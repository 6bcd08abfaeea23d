"""A group's conversation is many customers' talk: no rule opens, notes or reopens a ticket
there (its customer would be whoever opened it), and a sentiment escalation names who wrote.
Surveys: `test_csat.test_a_ticket_on_a_group_is_solved_without_asking_the_group`."""

from __future__ import annotations

from itertools import count

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel, GroupRef, InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.core.received import Received
from kith.nlp.feature import SentimentWorker
from kith.tickets.feature import feature
from kith.tickets.waiting import sweep
from tests.support.cast import api_channel
from tests.support.consumers import drain
from tests.support.sentiment import NegativeOn
from tests.tickets.test_ticketflow import all_tickets, quiet

GROUP = GroupRef(id="-100777", title="Kettle Club", kind="supergroup")
_ids = count()


async def said(
    core: Core, channel: Channel, who: str, text: str, group: GroupRef | None = GROUP
) -> Received:
    """`who` writes in the group (or, `group=None`, privately); every consumer runs."""
    message = InboundMessage.on(
        channel,
        channel_message_id=f"g-{next(_ids)}",
        user=InboundUser(id=who, name=who.title()),
        thread_key=group.id if group else None,
        group=group,
        text=text,
    )
    received = await ingest(core, channel, message)
    await drain(core)
    return received


@pytest.fixture
async def shop(core: Core, workspace_id: str) -> Channel:
    install(core, [feature(core)])
    made, _ = await api_channel(core, workspace_id, "Shop")
    return made


async def test_keywords_in_a_group_open_no_ticket_but_in_private_they_do(
    core: Core, shop: Channel
) -> None:
    await said(core, shop, "ada", "hello all")
    await said(core, shop, "grace", "I want a refund")
    assert await all_tickets(core) == []
    private = await said(core, shop, "grace", "I want a refund", group=None)
    [ticket] = await all_tickets(core)
    assert ticket.conversation_ids == [private.conversation.id]


async def test_an_escalation_in_a_group_names_who_wrote_and_opens_no_ticket(
    core: Core, shop: Channel
) -> None:
    await said(core, shop, "ada", "hello all")
    angry = await said(core, shop, "grace", "This kettle is terrible")
    await SentimentWorker(core, NegativeOn("terrible")).drain()
    await drain(core)
    [escalated] = await core.store.events.find({"type": "conversation.escalated"}).to_list(None)
    assert escalated["customer_id"] == angry.message.customer_id
    assert angry.conversation.customer_id != angry.message.customer_id  # ada opened it
    assert await all_tickets(core) == []


async def test_a_group_left_unanswered_opens_no_ticket(
    core: Core, workspace_id: str, shop: Channel, clock: ManualClock
) -> None:
    await quiet(core, workspace_id, waiting_minutes=30)
    await said(core, shop, "ada", "Anyone here?")
    clock.advance(31 * 60)
    assert await sweep(core, workspace_id) == 1  # the group waits, as the inbox shows
    await drain(core)
    assert await all_tickets(core) == []
