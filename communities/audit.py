"""The moderation log (`community_audit`): one row per action taken or refused, by a rule or a
moderator, with the member, the message's excerpt and, later, the member's appeal and who
lifted it. Row ids are derived from their cause, so a consumer run twice writes one row."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.ids import derived_id
from kith.core.models import Author, Record

AUDIT = "community_audit"
EXCERPT = 200  # characters of the message kept with the row


class Outcome(StrEnum):
    pending = "pending"  # being taken (a run killed here is taken again by the next)
    taken = "taken"
    refused = "refused"  # the platform (or its connector) said no: `reason` says why


class Appeal(BaseModel):
    at: datetime
    text: str = ""
    via: str  # "button" or "command"
    note_id: str | None = None  # the note agents see on the community's conversation


class AuditRow(Record):
    community_id: str
    customer_id: str | None = None
    platform_user_id: str
    member_name: str | None = None
    rule: str  # words, links, flood, repeat, media, or "moderator"
    detail: str | None = None  # the word or pattern matched, the count … (in English)
    facts: dict[str, int | str] = Field(
        default={},
        description="The detail's numbers and names, for a page to word in its language: "
        "flood {messages, seconds}, repeat {members}, lift {action}.",
    )
    action: str  # delete, warn, mute, ban, report, lift
    message_id: str | None = None
    excerpt: str = ""
    until: datetime | None = None  # of a mute or a ban
    outcome: Outcome = Outcome.pending
    reason: str | None = None
    by: Author
    at: datetime
    lifts: str | None = Field(default=None, description="The row a lift undid.")
    lifted_at: datetime | None = None
    lifted_by: Author | None = None
    appealable: bool = False  # the heaviest action on a message: the one an appeal names
    appeal: Appeal | None = None


def audit(core: Core) -> Any:
    return core.store.collection(AUDIT)


def row_id(*cause: str) -> str:
    return derived_id("community-audit", *cause)


def excerpt(text: str) -> str:
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1] + "…"


async def begin(core: Core, row: AuditRow) -> AuditRow | None:
    """The row written as pending; None if its action was already taken or refused (a rerun).
    A pending row left by a killed run is handed back, to be taken again."""
    try:
        await audit(core).insert_one(row.to_doc())
        return row
    except DuplicateKeyError:
        doc = await audit(core).find_one({"_id": row.id})
    if doc is None or doc.get("outcome") != Outcome.pending.value:
        return None
    return AuditRow.from_doc(doc)


async def finish(core: Core, row: AuditRow, reason: str | None = None) -> AuditRow:
    outcome = Outcome.refused if reason else Outcome.taken
    doc = await audit(core).find_one_and_update(
        {"_id": row.id},
        {"$set": {"outcome": outcome.value, "reason": reason}},
        return_document=ReturnDocument.AFTER,
    )
    return AuditRow.from_doc(doc)


async def get_row(core: Core, community_id: str, row: str) -> AuditRow:
    doc = await audit(core).find_one({"_id": row, "community_id": community_id})
    if doc is None:
        raise NotFound("no such audit row", field="audit_id")
    return AuditRow.from_doc(doc)
