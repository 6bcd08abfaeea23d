"""Customers as CSV, streamed: for a search, a filter or a segment (`export_rows` builds the
rows; `kith.contacts.xlsx_export` writes the same rows as an Excel workbook).

Columns: id, name, emails, phones, tags, locale, timezone, channels, one `consent.<type>` per
channel type Kith has, one `attributes.<key>` per key the exported customers use, first and
last seen. Lists are joined with "; ". The file starts with a UTF-8 byte-order mark so that
Excel reads Chinese right, and reads back through the import (same column names).

A cell that starts with = + - @ (or a tab or carriage return) is prefixed with `'`: a
spreadsheet would otherwise run it as a formula (CSV injection, OWASP); the import strips it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from typing import Any

from kith.core.context import Core

BATCH = 500
LIST_JOIN = "; "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: Any) -> str:
    """One cell's text as the export writes it (lists joined, dates in ISO 8601)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_JOIN.join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def safe_cell(value: Any) -> str:
    """One cell's text, defused when a spreadsheet would read it as a formula."""
    text = cell_text(value)
    return f"'{text}" if looks_like_formula(text) else text


def _scope(workspace_id: str, query: Mapping[str, Any]) -> dict[str, Any]:
    own = {"workspace_id": workspace_id, "merged_into": None}
    return {"$and": [own, dict(query)]} if query else own


async def _attribute_keys(core: Core, scope: dict[str, Any]) -> list[str]:
    """The attribute names the exported customers use (one pass over their attributes)."""
    keys: dict[str, None] = {}
    async for doc in core.store.customers.find(scope, {"attributes": 1}):
        keys.update(dict.fromkeys(doc.get("attributes") or {}))
    return sorted(keys)


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


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
    rows = export_rows(core, workspace_id, query)
    yield "\ufeff" + _line(await anext(rows))
    lines: list[str] = []
    async for values in rows:
        lines.append(_line([values[0], *(safe_cell(v) for v in values[1:])]))
        if len(lines) >= BATCH:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
