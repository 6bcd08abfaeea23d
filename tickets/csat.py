"""Which inbound messages answer a satisfaction survey, and with what.

A survey is open on the conversation it was asked in. The answer is a pressed star button
(its payload names the survey), or the first text reply after the question that is a score
("4", "４", "四", "五星", "★★★"), within the workspace's `answer_hours`; after a score of 1
or 2 the next text is the reason. This is read from the messages themselves, in order, not
from what a consumer has stored so far: so the bots and the reopen-on-reply consumer, which
run beside the survey's consumer in any order, get the same verdict from
`is_survey_answer()` before and after the answer is stored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kith.core.clock import aware
from kith.core.context import Core
from kith.core.models import Direction, Message
from kith.tickets.csat_store import PAYLOAD_PREFIX, State, load_settings, surveys

LOW = 2  # a score at or below this asks for a reason
EARLIER_LIMIT = 50  # replies after the question read to place this one
TRIM = " \t\r\n\u3000.!。！~"
NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5}
SCORE = re.compile(r"^([1-5])\s*(?:星|分|颗星|stars?|/\s*5)?$", re.IGNORECASE)
STAR_RUN = re.compile(r"^[★⭐]{1,5}$")


def parse_score(text: str) -> int | None:
    """A whole message that is a 1–5 score, in ASCII or full-width digits, Chinese
    numerals, "五星" / "4分", or a run of stars; anything else is None."""
    said = text.strip(TRIM)
    said = said.translate({0xFF10 + n: str(n) for n in range(10)})  # full-width digits
    if said[:1] in NUMERALS:
        said = str(NUMERALS[said[0]]) + said[1:]
    if STAR_RUN.match(said.replace("\ufe0f", "")):
        return len(said.replace("\ufe0f", ""))
    found = SCORE.match(said)
    return int(found.group(1)) if found else None


def parse_payload(payload: str | None) -> tuple[str, int | None] | None:
    """(survey id, score) of a star button's payload; None for any other payload."""
    if not payload or not payload.startswith(PAYLOAD_PREFIX):
        return None
    survey, _, score = payload[len(PAYLOAD_PREFIX) :].partition(":")
    value = int(score) if score.isdigit() and 1 <= int(score) <= 5 else None
    return survey, value


@dataclass(frozen=True)
class Answer:
    """What one inbound message says to a survey: a `score`, or the `reason` after a low one
    (`score` None and `reason` None: a late or repeated press, ours but changing nothing)."""

    survey: dict[str, Any]
    message: Message
    score: int | None = None
    reason: str | None = None


async def answer_of(core: Core, message: Message) -> Answer | None:
    """What `message` answers, if it answers a survey (see the module docstring)."""
    if message.direction != Direction.inbound:
        return None
    pressed = parse_payload(message.payload)
    if pressed is not None:
        doc = await surveys(core).find_one({"_id": pressed[0], "customer_id": message.customer_id})
        if doc is None:
            return None
        return Answer(doc, message, score=pressed[1])
    doc = await surveys(core).find_one(
        {
            "conversation_id": message.conversation_id,
            "status": State.asked,
            "asked_at": {"$lte": message.created_at},
        },
        sort=[("asked_at", -1)],
    )
    if doc is None:
        return None
    if message.id == doc.get("score_message_id"):  # stored already: the same verdict
        return Answer(doc, message, score=doc.get("score"))
    if message.id == doc.get("reason_message_id"):
        return Answer(doc, message, reason=doc.get("reason"))
    return await _placed(core, doc, message)


async def _placed(core: Core, doc: dict[str, Any], message: Message) -> Answer | None:
    """Walk the replies since the question to see what `message` is: the score, the reason,
    or neither (already answered, too late, or just another message)."""
    settings = await load_settings(core, doc["workspace_id"])
    limit = timedelta(hours=settings.answer_hours)
    since: datetime = aware(doc["asked_at"])
    wanted = "score"
    earlier = (
        core.store.messages.find(
            {
                "conversation_id": message.conversation_id,
                "direction": Direction.inbound.value,
                "created_at": {"$gte": doc["asked_at"], "$lte": message.created_at},
                "_id": {"$nin": [message.id, doc.get("after_message_id")]},
            },
            {"text": 1, "payload": 1, "created_at": 1},
        )
        .sort([("created_at", 1), ("_id", 1)])
        .limit(EARLIER_LIMIT)
    )
    async for other in earlier:
        if aware(other["created_at"]) - since > limit:
            return None
        if wanted == "score":
            score = _score_in(doc, other.get("text", ""), other.get("payload"))
            if score is not None:
                since, wanted = aware(other["created_at"]), "reason" if score <= LOW else ""
        elif wanted == "reason" and other.get("text", "").strip():
            wanted = ""
        if not wanted:
            return None
    if aware(message.created_at) - since > limit:
        return None
    if wanted == "score":
        score = _score_in(doc, message.text, message.payload)
        return Answer(doc, message, score=score) if score is not None else None
    if message.text.strip():
        return Answer(doc, message, reason=message.text.strip())
    return None


def _score_in(doc: dict[str, Any], text: str, payload: str | None) -> int | None:
    pressed = parse_payload(payload)
    if pressed is not None:
        return pressed[1] if pressed[0] == doc["_id"] else None
    return parse_score(text)


async def is_survey_answer(core: Core, message: Message) -> bool:
    """Whether `message` answers a satisfaction survey: bots stay quiet on it
    (`Feature.answers`), and reopen-on-reply leaves the solved ticket solved."""
    return await answer_of(core, message) is not None
