"""Rows as CSV text for a spreadsheet: what every CSV export of Kith writes (contacts,
segments, a broadcast's recipients).

The text starts with a UTF-8 byte-order mark, so that Excel reads Chinese right. Lists are
joined with "; ", dates written in ISO 8601. A cell that starts with = + - @ (or a tab or
carriage return) is prefixed with `'`: a spreadsheet would otherwise run it as a formula (CSV
injection, OWASP); the contacts import strips it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

from starlette.responses import StreamingResponse

BATCH = 500
# What a CSV download route says it answers (its OpenAPI `responses`).
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}}
}
LIST_JOIN = "; "
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_text(value: Any) -> str:
    """One cell's text as the exports write it (lists joined, dates in ISO 8601)."""
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


def csv_line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


async def csv_text(rows: AsyncIterator[list[Any]], trusted: int = 0) -> AsyncIterator[str]:
    """The header row, then every row, as CSV text in pieces of `BATCH` lines. The first
    `trusted` cells of a row are Kith's own (ids) and written as they are; the rest through
    `safe_cell`."""
    yield "\ufeff" + csv_line([str(name) for name in await anext(rows)])
    lines: list[str] = []
    async for values in rows:
        cells = [cell_text(v) for v in values[:trusted]] + [safe_cell(v) for v in values[trusted:]]
        lines.append(csv_line(cells))
        if len(lines) >= BATCH:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def csv_download(
    pieces: AsyncIterator[str], name: str, ascii_name: str | None = None
) -> StreamingResponse:
    """CSV text, streamed as a file the browser saves as `name`; a `name` not all ASCII goes
    as RFC 6266's `filename*` (UTF-8, RFC 5987), with `ascii_name` for older clients."""
    return StreamingResponse(
        (piece.encode() async for piece in pieces),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(name, ascii_name or name)},
    )


def _attachment(name: str, ascii_name: str) -> str:
    if name == ascii_name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"
