"""A broadcast's recipients a page at a time: who received it, who is waiting, and who was
skipped or failed and why (a template that failed for them says so as a page can word it);
and all of them as the rows of a CSV file, for a spreadsheet or another tool."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from kith.broadcasts.audience import recipients
from kith.broadcasts.models import Broadcast, RecipientStatus
from kith.core.context import Core
from kith.core.customers import customers_by_id
from kith.core.pagination import page


class RecipientOut(BaseModel):
    """A row as stored (`Recipient`), with the customer's name and a failure's detail."""

    customer_id: str | None = None
    customer_name: str | None = None  # None once erased, or for a community
    community_id: str | None = None
    status: RecipientStatus
    reason: str | None = None
    detail: str | None = None  # the failure in English (a template's: Jinja's words)
    detail_reason: str | None = None  # the same, for a page to word (`reason_<it>`)
    detail_limits: dict[str, Any] = {}
    channel_id: str | None = None
    channel_type: str | None = None  # the channel's, read with the page
    due_at: datetime
    sent_at: datetime | None = None
    delivered_at: datetime | None = None
    replied_at: datetime | None = None
    clicked_at: datetime | None = None  # their first click on a link of it


async def list_recipients(
    core: Core,
    broadcast: Broadcast,
    statuses: list[RecipientStatus],
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[RecipientOut], str | None]:
    """In recipient order (stable while the send goes on); `statuses` narrows (none: all)."""
    wanted = [s.value for s in statuses or list(RecipientStatus)]
    query = {"broadcast_id": broadcast.id, "status": {"$in": wanted}}
    docs, next_cursor = await page(
        recipients(core), query, "_id", cursor=cursor, limit=limit, descending=False
    )
    ids = [str(d["customer_id"]) for d in docs if d.get("customer_id")]
    people = await customers_by_id(core, ids)
    kinds = await _channel_types(core, [str(d["channel_id"]) for d in docs if d.get("channel_id")])
    out = [RecipientOut.model_validate(doc) for doc in docs]
    for row in out:
        person = people.get(row.customer_id or "")
        row.customer_name = person.name if person else None
        row.channel_type = kinds.get(row.channel_id or "")
    return out, next_cursor


# The file's columns: RecipientOut's, in a reader's order (the failure's words, not its codes).
CSV_COLUMNS = (
    "customer_id",
    "customer_name",
    "community_id",
    "status",
    "reason",
    "detail",
    "channel_type",
    "channel_id",
    "due_at",
    "sent_at",
    "delivered_at",
    "replied_at",
    "clicked_at",
)
CSV_PAGE = 500
_NOT_WORD = re.compile(r"[\W_]+")  # not a letter or a digit, in any script
_NOT_ASCII_WORD = re.compile(r"[^a-z0-9]+")
SLUG_MAX = 60


def csv_names(broadcast: Broadcast, at: datetime) -> tuple[str, str]:
    """The recipients' file's name, after the broadcast and the time of the export
    (`broadcast-spring-sale-20261207-1200-recipients.csv`), and its ASCII form for clients
    that read no other (`csv_download`): the name's ASCII words, else the broadcast's id."""
    stamp = at.strftime("%Y%m%d-%H%M")
    words = _NOT_WORD.sub("-", broadcast.name.lower()).strip("-")[:SLUG_MAX].strip("-")
    ascii_words = _NOT_ASCII_WORD.sub("-", broadcast.name.lower()).strip("-")
    ascii_words = ascii_words[:SLUG_MAX].strip("-") or broadcast.id
    fallback = f"broadcast-{ascii_words}-{stamp}-recipients.csv"
    return f"broadcast-{words or broadcast.id}-{stamp}-recipients.csv", fallback


async def recipient_rows(
    core: Core, broadcast: Broadcast, statuses: list[RecipientStatus]
) -> AsyncIterator[list[Any]]:
    """The header, then each recipient's values (`CSV_COLUMNS`), in the list's order, read a
    page at a time (names and channels with each page, as the list reads them)."""
    yield list(CSV_COLUMNS)
    cursor: str | None = None
    while True:
        rows, cursor = await list_recipients(
            core, broadcast, statuses, cursor=cursor, limit=CSV_PAGE
        )
        for row in rows:
            values = row.model_dump(mode="json")
            yield [values[column] for column in CSV_COLUMNS]
        if cursor is None:
            return


async def _channel_types(core: Core, ids: list[str]) -> dict[str, str]:
    found = core.store.channels.find({"_id": {"$in": sorted(set(ids))}}, {"type": 1})
    return {doc["_id"]: doc["type"] async for doc in found}
