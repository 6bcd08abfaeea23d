"""The satisfaction survey as a feature: it follows solved tickets and inbound messages,
runs its delays and waits on durable timers, keeps its surveys with the customer's data, and
tells the bots which messages it answers."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index
from kith.core.models import Event, Message
from kith.tickets.csat import answer_of, is_survey_answer
from kith.tickets.csat_actions import (
    ASK_TIMER,
    EXPIRE_TIMER,
    do_ask,
    do_open_survey,
    do_record_answer,
    run_ask_timer,
    run_expire_timer,
)
from kith.tickets.csat_store import SURVEYS, State, load_settings, surveys
from kith.tickets.store import tickets


async def on_ticket_moved(core: Core, event: Event) -> None:
    """A ticket solved: open the survey of this resolution (a ticket reopened since is
    not asked about; `do_ask` checks again when the question is due)."""
    if event.data.get("to") != "solved":
        return
    doc = await tickets(core).find_one({"_id": event.data.get("ticket_id")})
    if doc is None or doc.get("status") not in ("solved", "closed"):
        return
    await do_open_survey(core, doc, event.created_at)


async def on_message(core: Core, event: Event) -> None:
    """An inbound message: the answer to an open survey, or the message a survey waited
    for (a shut reply window is open again: ask right after it)."""
    if event.data.get("control") or event.message_id is None:
        return
    doc = await core.store.messages.find_one({"_id": event.message_id})
    if doc is None:
        return
    message = Message.from_doc(doc)
    answer = await answer_of(core, message)
    if answer is not None:
        settings = await load_settings(core, message.workspace_id)
        await do_record_answer(core, answer, settings)
        return
    waiting = surveys(core).find(
        {"conversation_id": message.conversation_id, "status": State.waiting}, {"_id": 1}
    )
    async for survey in waiting:
        await do_ask(core, survey["_id"], after=message)


def feature(core: Core) -> Feature:
    return Feature(
        name="csat",
        indexes=(
            # The open survey of a conversation, latest asked first.
            Index(SURVEYS, (("conversation_id", ASCENDING), ("asked_at", DESCENDING))),
            # The report: a workspace's surveys by when the ticket was solved.
            Index(SURVEYS, (("workspace_id", ASCENDING), ("solved_at", ASCENDING))),
            Index(SURVEYS, (("customer_id", ASCENDING),)),
        ),
        customer_data=(CustomerData(SURVEYS),),
        timers={ASK_TIMER: run_ask_timer, EXPIRE_TIMER: run_expire_timer},
        consumers=(
            Consumer("csat-solved", ("ticket.status_changed",), on_ticket_moved),
            Consumer("csat-answers", ("message.received",), on_message),
        ),
        answers=(is_survey_answer,),
    )
