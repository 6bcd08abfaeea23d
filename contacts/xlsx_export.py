"""Customers as an Excel workbook (.xlsx): the CSV export's rows (`export_rows`), one sheet.

Every cell is a text cell (an inline string), never a formula nor a number: Excel, LibreOffice
and Google Sheets show `=HYPERLINK(…)` as the text it is, and phones keep their `+`. A cell
that starts like a formula (= + - @) also carries Excel's quote prefix, the style a typed `'`
gives, so that editing it in Excel keeps it text. Unlike the CSV, no `'` is added to the
value: the sheet shows the customer's text as it is, and reads back through the import as it is.
Characters XML cannot hold (control characters but tab and line breaks) are left out.

openpyxl's write-only mode writes each row to a temporary file as it comes, so memory holds
one batch of rows whatever the export's size; writing runs in a worker thread, batch by
batch, and the workbook is zipped into a temporary file the response then streams.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kith.contacts.export import export_rows
from kith.core.context import Core
from kith.core.csv_text import BATCH, cell_text, looks_like_formula

if TYPE_CHECKING:  # openpyxl is imported by the export that writes a workbook, not at start-up
    from openpyxl import Workbook
    from openpyxl.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

SHEET = "customers"


def _append(sheet: WriteOnlyWorksheet, rows: list[list[Any]], header: bool = False) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    bold = Font(bold=True)

    def cell(value: Any) -> Cell:
        text = ILLEGAL_CHARACTERS_RE.sub("", cell_text(value))
        made = WriteOnlyCell(sheet, value=text)
        made.data_type = "s"  # text, even when it starts with "=" (openpyxl would make a formula)
        if looks_like_formula(text):
            made.quotePrefix = True
        if header:
            made.font = bold
        return made

    for values in rows:
        sheet.append([cell(v) for v in values])


async def write_xlsx(core: Core, workspace_id: str, query: Mapping[str, Any] | None = None) -> Path:
    """The customers `query` selects (see `export_rows`) as a workbook in a temporary file:
    the caller sends it and removes it."""
    rows = export_rows(core, workspace_id, query)
    book, sheet = await asyncio.to_thread(_new_book)  # openpyxl's first import, off the loop
    await asyncio.to_thread(_append, sheet, [await anext(rows)], True)
    batch: list[list[Any]] = []
    async for values in rows:
        batch.append(values)
        if len(batch) >= BATCH:
            await asyncio.to_thread(_append, sheet, batch)
            batch = []
    if batch:
        await asyncio.to_thread(_append, sheet, batch)
    return await asyncio.to_thread(_save, book)


def _new_book() -> tuple[Workbook, WriteOnlyWorksheet]:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    sheet.freeze_panes = "A2"  # the header stays in view
    return book, sheet


def _save(book: Workbook) -> Path:
    handle, name = tempfile.mkstemp(prefix="kith-export-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        book.save(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path
