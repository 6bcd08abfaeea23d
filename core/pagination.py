"""Cursor pagination over a (sort field, _id) key: stable under inserts, cheap at any depth."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from kith.core.errors import InvalidInput


def encode_cursor(value: Any, doc_id: str) -> str:
    if isinstance(value, datetime):
        value = {"$dt": value.isoformat()}
    raw = json.dumps([value, doc_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, doc_id = json.loads(raw)
        if isinstance(value, dict):
            value = datetime.fromisoformat(value["$dt"])
        if not isinstance(doc_id, str) or not isinstance(value, (str, int, float, datetime)):
            raise ValueError
    except (ValueError, TypeError, KeyError):
        raise InvalidInput("malformed cursor", field="cursor") from None
    return value, doc_id


def after(field: str, cursor: str | None, descending: bool) -> dict[str, Any]:
    """The filter that continues a listing sorted by (field, _id) after `cursor`."""
    if not cursor:
        return {}
    value, doc_id = decode_cursor(cursor)
    op = "$lt" if descending else "$gt"
    if field == "_id":
        return {"_id": {op: doc_id}}
    return {"$or": [{field: {op: value}}, {field: value, "_id": {op: doc_id}}]}


async def page(
    collection: Any,
    query: dict[str, Any],
    field: str,
    *,
    cursor: str | None,
    limit: int,
    descending: bool,
    projection: dict[str, Any] | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of documents and the cursor of the next page (None at the end); a
    `projection` leaves out what the reader does not show (the sort field must stay)."""
    continuation = after(field, cursor, descending)
    full = {"$and": [query, continuation]} if continuation else query
    direction = -1 if descending else 1
    sort = [(field, direction)] if field == "_id" else [(field, direction), ("_id", direction)]
    found = collection.find(full, projection)
    docs = await found.sort(sort).limit(limit + 1).to_list(limit + 1)
    if len(docs) <= limit:
        return docs, None
    return docs[:limit], cursor_at(docs[limit - 1], field)


def cursor_at(doc: dict[str, Any], field: str) -> str:
    """The cursor of the page that continues after `doc` in a listing sorted by `field`."""
    return encode_cursor(doc.get(field) if field != "_id" else "", doc["_id"])
