"""Customers as CSV, streamed: for a search, a filter or a segment.

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


def safe_cell(value: Any) -> str:
    """One cell's text, defused when a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = LIST_JOIN.join(str(v) for v in value)
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


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


async def stream_csv(
    core: Core, workspace_id: str, query: Mapping[str, Any] | None = None
) -> AsyncIterator[str]:
    """The workspace's customers matching `query` (a MongoDB filter Kith built: a search's,
    or `kith.segments.filters.to_query`'s; never user operators) as CSV text, in pieces."""
    scope = _scope(workspace_id, query or {})
    attributes = await _attribute_keys(core, scope)
    consent_types = sorted(core.channels.names())
    head = ["id", "name", "emails", "phones", "tags", "locale", "timezone", "channels"]
    head += [f"consent.{t}" for t in consent_types] + [f"attributes.{k}" for k in attributes]
    yield "\ufeff" + _line([*head, "first_seen", "last_seen"])
    lines: list[str] = []
    async for doc in core.store.customers.find(scope).sort("_id", 1):
        consent = doc.get("consent") or {}
        values: list[Any] = [doc.get(k) for k in head[1:8]]
        values += [(consent.get(t) or {}).get("state", "unknown") for t in consent_types]
        values += [(doc.get("attributes") or {}).get(k) for k in attributes]
        values += [doc.get("first_seen"), doc.get("last_seen")]
        lines.append(_line([str(doc["_id"]), *(safe_cell(v) for v in values)]))
        if len(lines) >= BATCH:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)
