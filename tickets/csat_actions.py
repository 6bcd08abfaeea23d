"""The survey's writes: open one per resolution, ask it (now, after a delay, or once the
channel's reply window opens), store the score and the reason, or skip it with a reason.

Everything here may run twice (a consumer retried, two workers, a timer fired again): the
survey's id derives from (ticket, resolution), each message Kith sends from the survey's id
and its step, each event likewise, and every state change is conditional on the state it
leaves. So a second run finds the work done and changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from kith.connectors.wechat.sender import WINDOW as WECHAT_WINDOW
from kith.connectors.wechat.sender import last_interaction
from kith.core.channel_records import load as load_channel
from kith.core.clock import aware
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.ids import derived_id
from kith.core.models import (
    Author,
    AuthorKind,
    Button,
    Channel,
    Conversation,
    Message,
    OutboundContent,
)
from kith.core.outbox import send
from kith.core.timers import Timer, cancel_timer, schedule_timer
from kith.tickets.csat import LOW, Answer
from kith.tickets.csat_models import Csat, CsatSettings, SkipReason
from kith.tickets.csat_store import State, button_payload, load_settings, survey_id, surveys
from kith.tickets.csat_texts import STARS, customer_language, texts_for
from kith.tickets.store import tickets

CSAT_AUTHOR = Author(kind=AuthorKind.system, name="Kith")
ASK_TIMER = "csat.ask"
EXPIRE_TIMER = "csat.expire"
# Channels that may only answer for a while after the customer's last word (WeChat's
# customer-service messages: 48 hours); the others may always be written to.
REPLY_WINDOWS = {"wechat": WECHAT_WINDOW}
ASKABLE = (State.scheduled, State.waiting, State.asking)


async def do_open_survey(core: Core, ticket_doc: dict[str, Any], solved_at: datetime) -> None:
    """The survey of the ticket's current resolution: asked now, or at its delay's end on
    a durable timer. Opening it again (a retry) finds the first one."""
    settings = await load_settings(core, ticket_doc["workspace_id"])
    if not settings.enabled:
        return
    resolution = int(ticket_doc.get("resolutions", 0))
    sid = survey_id(ticket_doc["_id"], resolution)
    due = solved_at + timedelta(minutes=settings.delay_minutes)
    doc = await surveys(core).find_one_and_update(
        {"_id": sid},
        {
            "$setOnInsert": {
                "workspace_id": ticket_doc["workspace_id"],
                "ticket_id": ticket_doc["_id"],
                "ticket_number": ticket_doc["number"],
                "resolution": resolution,
                "customer_id": ticket_doc["customer_id"],
                "team_id": ticket_doc.get("team_id"),
                "assignee_id": ticket_doc.get("assignee_id"),
                "solved_at": solved_at,
                "due_at": due,
                "status": State.scheduled,
                "score": None,
                "reason": None,
            }
        },
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    if doc["status"] != State.scheduled:
        return
    if due > core.clock.now():
        await schedule_timer(core, f"csat:ask:{sid}", ASK_TIMER, due, {"survey_id": sid})
        return
    await do_ask(core, sid)


async def _conversation(core: Core, survey: dict[str, Any]) -> Conversation | None:
    """The ticket's most recently active linked conversation, else the customer's."""
    ticket = await tickets(core).find_one({"_id": survey["ticket_id"]}, {"conversation_ids": 1})
    linked = (ticket or {}).get("conversation_ids") or []
    query: dict[str, Any] = (
        {"_id": {"$in": linked}} if linked else {"customer_id": survey["customer_id"]}
    )
    doc = await core.store.conversations.find_one(query, sort=[("last_message_at", -1)])
    return Conversation.from_doc(doc) if doc else None


async def window_open(core: Core, channel: Channel, conversation: Conversation) -> bool:
    """Whether Kith may write on `conversation` now (always, unless its channel has a reply
    window and the customer last did something longer ago than it lasts)."""
    window = REPLY_WINDOWS.get(channel.type)
    if window is None:
        return True
    since = aware(await last_interaction(core, channel, conversation))
    return core.clock.now() - since <= window


async def do_ask(core: Core, sid: str, after: Message | None = None) -> None:
    """Ask the survey `sid` on the customer's channel, unless it was asked or skipped. Outside
    the channel's reply window it waits (for the next message, `after`, or its skip timer)."""
    survey = await surveys(core).find_one({"_id": sid})
    if survey is None or survey["status"] not in ASKABLE:
        return
    ticket = await tickets(core).find_one({"_id": survey["ticket_id"]})
    if ticket is None or ticket.get("resolutions") != survey["resolution"]:
        await do_skip(core, survey, SkipReason.reopened)
        return
    if ticket.get("status") not in ("solved", "closed") and not _reopened_by(ticket, after):
        await do_skip(core, survey, SkipReason.reopened)
        return
    conversation = await _conversation(core, survey)
    if after is not None:
        conversation = await _by_id(core, after.conversation_id) or conversation
    if conversation is None:
        await do_skip(core, survey, SkipReason.no_conversation)
        return
    if conversation.group is not None:
        await do_skip(core, survey, SkipReason.group_conversation)
        return
    channel_doc = await core.store.channels.find_one({"_id": conversation.channel_id})
    if channel_doc is None or not channel_doc.get("enabled", True):
        await do_skip(core, survey, SkipReason.channel_unavailable)
        return
    channel = load_channel(core, channel_doc, strict=False)
    if after is None and not await window_open(core, channel, conversation):
        await _wait(core, survey, conversation)
        return
    if survey["status"] == State.waiting and not await _claim(core, sid, State.waiting):
        return
    await _send_question(core, survey, conversation, channel, after)


def _reopened_by(ticket: dict[str, Any], after: Message | None) -> bool:
    """Whether the message a waiting survey followed is what reopened its ticket (a reply to
    a solved ticket reopens it): the survey of the resolution still goes out, whichever of the
    two consumers saw the message first."""
    if after is None:
        return False
    return aware(ticket["updated_at"]) >= aware(after.created_at)


async def _by_id(core: Core, conversation_id: str) -> Conversation | None:
    doc = await core.store.conversations.find_one({"_id": conversation_id})
    return Conversation.from_doc(doc) if doc else None


async def _claim(core: Core, sid: str, status: str) -> bool:
    """Move `status` → asking; False when another run (or the skip timer) moved it first,
    unless that run is still asking (then this one finishes the same send)."""
    doc = await surveys(core).find_one_and_update(
        {"_id": sid, "status": status},
        {"$set": {"status": State.asking}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is not None:
        return True
    again = await surveys(core).find_one({"_id": sid}, {"status": 1})
    return again is not None and again["status"] == State.asking


async def _wait(core: Core, survey: dict[str, Any], conversation: Conversation) -> None:
    """Hold the survey for the customer's next message on `conversation`, and skip it if
    none comes within the workspace's `wait_hours`."""
    if survey["status"] == State.scheduled:
        await surveys(core).update_one(
            {"_id": survey["_id"], "status": State.scheduled},
            {"$set": {"status": State.waiting, "conversation_id": conversation.id}},
        )
    settings = await load_settings(core, survey["workspace_id"])
    until = aware(survey["due_at"]) + timedelta(hours=settings.wait_hours)
    await schedule_timer(
        core, f"csat:expire:{survey['_id']}", EXPIRE_TIMER, until, {"survey_id": survey["_id"]}
    )


async def _send_question(
    core: Core,
    survey: dict[str, Any],
    conversation: Conversation,
    channel: Channel,
    after: Message | None,
) -> None:
    settings = await load_settings(core, survey["workspace_id"])
    language = await customer_language(core, survey["customer_id"], conversation.id, settings)
    texts = texts_for(settings, language, survey["ticket_number"])
    channel_type = core.channels.get(channel.type)
    buttons = []
    if channel_type is not None and channel_type.capabilities.buttons:
        buttons = [
            Button(label=STARS[n - 1], payload=button_payload(survey["_id"], n))
            for n in range(1, 6)
        ]
    question = await send(
        core,
        conversation,
        OutboundContent(text=texts.question, buttons=buttons),
        CSAT_AUTHOR,
        message_id=derived_id("csat-ask", survey["_id"]),
    )
    await surveys(core).update_one(
        {"_id": survey["_id"], "status": {"$in": list(ASKABLE)}},
        {
            "$set": {
                "status": State.asked,
                "asked_at": question.created_at,
                "conversation_id": conversation.id,
                "channel_type": channel.type,
                "language": language,
                "question_id": question.id,
                "after_message_id": after.id if after else None,
            }
        },
    )
    await cancel_timer(core, f"csat:expire:{survey['_id']}")
    asked = {**survey, "asked_at": question.created_at, "conversation_id": conversation.id}
    await _show(core, asked, "ticket.csat_requested", "csat-requested")


async def do_skip(core: Core, survey: dict[str, Any], reason: SkipReason) -> None:
    """Never ask this resolution, and say why on the ticket (`csat.skipped`)."""
    doc = await surveys(core).find_one_and_update(
        {"_id": survey["_id"], "status": {"$in": [State.scheduled, State.waiting]}},
        {"$set": {"status": State.skipped, "skipped": reason.value}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        doc = await surveys(core).find_one({"_id": survey["_id"], "skipped": reason.value})
        if doc is None:
            return  # asked meanwhile, or skipped for another reason
    await _show(core, doc, "ticket.csat_skipped", "csat-skipped")


async def do_record_answer(core: Core, answer: Answer, settings: CsatSettings) -> None:
    """Store a score (the first one counts) or the reason after a low one, show it on the
    ticket, and answer the customer: a reason asked for once, or thanks."""
    message, sid = answer.message, answer.survey["_id"]
    if answer.score is not None:
        doc = await surveys(core).find_one_and_update(
            {"_id": sid, "$or": [{"score": None}, {"score_message_id": message.id}]},
            {
                "$set": {
                    "score": answer.score,
                    "score_message_id": message.id,
                    "answered_at": message.created_at,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        follow_up = "reason" if answer.score <= LOW else "thanks"
    elif answer.reason is not None:
        doc = await surveys(core).find_one_and_update(
            {
                "_id": sid,
                "score": {"$lte": LOW},
                "$or": [{"reason": None}, {"reason_message_id": message.id}],
            },
            {"$set": {"reason": answer.reason[:2000], "reason_message_id": message.id}},
            return_document=ReturnDocument.AFTER,
        )
        follow_up = "thanks"
    else:
        return
    if doc is None:
        return  # answered already: the first answer stands
    step = "csat-score" if answer.score is not None else "csat-reason"
    await _show(core, doc, "ticket.csat_received", step)
    conversation = await _by_id(core, message.conversation_id)
    if conversation is None:
        return
    texts = texts_for(settings, doc.get("language") or "en", doc["ticket_number"])
    await send(
        core,
        conversation,
        OutboundContent(text=texts.reason if follow_up == "reason" else texts.thanks),
        CSAT_AUTHOR,
        message_id=derived_id(f"csat-{follow_up}", sid),
    )


async def _show(core: Core, survey: dict[str, Any], event_type: str, step: str) -> None:
    """Write the survey onto its ticket (unless a later resolution's is there already) and
    record `event_type` once."""
    csat = Csat(
        resolution=survey["resolution"],
        score=survey.get("score"),
        reason=survey.get("reason"),
        asked_at=survey.get("asked_at"),
        answered_at=survey.get("answered_at"),
        skipped=survey.get("skipped"),
    )
    await tickets(core).update_one(
        {
            "_id": survey["ticket_id"],
            "$or": [{"csat": None}, {"csat.resolution": {"$lte": survey["resolution"]}}],
        },
        {"$set": {"csat": {**csat.model_dump(), "skipped": survey.get("skipped")}}},
    )
    data = {"ticket_id": survey["ticket_id"], "number": survey["ticket_number"]}
    data |= csat.model_dump(mode="json", include={"resolution", "score", "reason", "skipped"})
    await record(
        core,
        build_event(
            core,
            survey["workspace_id"],
            event_type,
            event_id=derived_id(step, survey["_id"]),
            conversation_id=survey.get("conversation_id"),
            customer_id=survey["customer_id"],
            data=data,
        ),
    )


async def run_ask_timer(core: Core, timer: Timer) -> None:
    """A delayed survey's time has come."""
    await do_ask(core, str(timer.payload["survey_id"]))


async def run_expire_timer(core: Core, timer: Timer) -> None:
    """The reply window stayed shut for the whole wait: skip, saying why."""
    survey = await surveys(core).find_one({"_id": timer.payload["survey_id"]})
    if survey is not None and survey["status"] == State.waiting:
        await do_skip(core, survey, SkipReason.outside_window)
