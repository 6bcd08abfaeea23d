"""Listings the API and the page read: sequences and a sequence's enrolments, in cursor pages."""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.pagination import page
from kith.sequences.models import Enrolment, EnrolmentState, Sequence
from kith.sequences.store import enrolments, sequences


async def list_sequences(
    core: Core, workspace_id: str, *, cursor: str | None, limit: int
) -> tuple[list[Sequence], str | None]:
    docs, next_cursor = await page(
        sequences(core),
        {"workspace_id": workspace_id},
        "_id",
        cursor=cursor,
        limit=limit,
        descending=True,
    )
    return [Sequence.from_doc(d) for d in docs], next_cursor


async def list_enrolments(
    core: Core,
    workspace_id: str,
    sequence_id: str,
    *,
    state: EnrolmentState | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Enrolment], str | None]:
    """Latest enrolled first."""
    query: dict[str, Any] = {"workspace_id": workspace_id, "sequence_id": sequence_id}
    if state is not None:
        query["state"] = state.value
    docs, next_cursor = await page(
        enrolments(core), query, "enrolled_at", cursor=cursor, limit=limit, descending=True
    )
    return [Enrolment.from_doc(d) for d in docs], next_cursor


async def customer_names(core: Core, enrolments: list[Enrolment]) -> dict[str, str]:
    """The names of a page's customers, in one read (a list shows people, not ids)."""
    ids = sorted({e.customer_id for e in enrolments})
    cursor = core.store.customers.find({"_id": {"$in": ids}}, {"name": 1})
    return {doc["_id"]: doc["name"] async for doc in cursor if doc.get("name")}
