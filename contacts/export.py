"""Customers as CSV, streamed: for a search, a filter or a segment (`export_rows` builds the
rows; `kith.contacts.xlsx_export` writes the same rows as an Excel workbook).

Columns: id, name, emails, phones, tags, locale, timezone, channels, one `consent.<type>` per
channel type Kith has, one `attributes.<key>` per key the exported customers use, first and
last seen; written by `kith.core.csv_text` (lists joined with "; ", formulas defused), so the
file reads back through the import (same column names).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from kith.core.context import Core
from kith.core.csv_text import csv_text


def _scope(workspace_id: str, query: Mapping[str, Any]) -> dict[str, Any]:
    own = {"workspace_id": workspace_id, "merged_into": None}
    return {"$and": [own, dict(query)]} if query else own


async def _attribute_keys(core: Core, scope: dict[str, Any]) -> list[str]:
    """The attribute names the exported customers use (one pass over their attributes)."""
    keys: dict[str, None] = {}
    async for doc in core.store.customers.find(scope, {"attributes": 1}):
        keys.update(dict.fromkeys(doc.get("attributes") or {}))
    return sorted(keys)


async def export_rows(
    core: Core, workspace_id: str, query: Mapping[str, Any] | None = None
) -> AsyncIterator[list[Any]]:
    """The header (column names), then one list of values per customer matching `query` (a
    MongoDB filter Kith built: a search's, or `kith.segments.filters.to_query`'s; never user
    operators), in the header's order: what every export format writes."""
    scope = _scope(workspace_id, query or {})
    attributes = await _attribute_keys(core, scope)
    consent_types = sorted(core.channels.names())
    head = ["id", "name", "emails", "phones", "tags", "locale", "timezone", "channels"]
    head += [f"consent.{t}" for t in consent_types] + [f"attributes.{k}" for k in attributes]
    yield [*head, "first_seen", "last_seen"]
    async for doc in core.store.customers.find(scope).sort("_id", 1):
        consent = doc.get("consent") or {}
        values: list[Any] = [str(doc["_id"])]
        values += [doc.get(k) for k in head[1:8]]
        values += [(consent.get(t) or {}).get("state", "unknown") for t in consent_types]
        values += [(doc.get("attributes") or {}).get(k) for k in attributes]
        values += [doc.get("first_seen"), doc.get("last_seen")]
        yield values


async def stream_csv(
    core: Core, workspace_id: str, query: Mapping[str, Any] | None = None
) -> AsyncIterator[str]:
    """`export_rows` as CSV text, in pieces."""
    async for piece in csv_text(export_rows(core, workspace_id, query), trusted=1):
        yield piece
