"""Reading an Excel workbook (.xlsx) for the import: its first sheet that holds anything, as a
`Table`, the shape a CSV file is read into, so both go through the same mapping and rows.
Empty sheets before it are skipped (a workbook whose first sheet was left blank and whose
table is on "Sheet2" reads that table), and the sheets after it are not read.

The first row names the columns; each later row is one record, numbered as Excel numbers it.
A cell becomes the text a person reads in it: 13800138000 (not 1.38E+10), 3.5, a date as
2024-05-01 (with its time when it has one), TRUE as true; a formula as the value the file
saved with it (what Excel showed). Number formats (leading zeros, currency) are not applied:
a phone typed as a number has lost its leading zero in Excel already.

The limits stand in for the CSV's: the file is at most `import_max_bytes`; unpacked, its parts
at most `UNPACKED` times that, judged on the zip's own directory before anything is parsed
(a zip bomb; `zipfile` reads no part past its stated size); and its cells' text, a byte per
cell and per row as a CSV would take, at most `import_max_bytes`, the size of the CSV this
sheet would be. No more rows or columns than Excel itself has. openpyxl reads the XML through
defusedxml (a Kith dependency), so entity tricks are refused too.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from kith.contacts.csvfile import Row, Table
from kith.core.errors import InvalidInput, KithError, PayloadTooLarge

log = logging.getLogger(__name__)

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENCODING = "xlsx"  # what a preview and the job say the file was read as
UNPACKED = 8  # unpacked parts at most this many times the import's limit
MAX_ROWS = 1_048_576  # Excel's own limits
MAX_COLUMNS = 16_384
# Refusals of the file as a whole: `reason` codes the page words (limits: the values named).
NOT_XLSX = "not_xlsx"
TOO_LARGE_UNPACKED = "too_large_unpacked"


def _not_xlsx(why: str) -> InvalidInput:
    return InvalidInput(
        f"not an Excel workbook (.xlsx): {why}; save it from Excel as .xlsx or as CSV",
        field="file",
        reason=NOT_XLSX,
    )


def _too_large_unpacked(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"unpacked, the workbook is over {max_bytes} bytes, the most an import reads",
        field="file",
        reason=TOO_LARGE_UNPACKED,
        limits={"max_bytes": max_bytes},
    )


def cell_text(value: Any) -> str:
    """A cell's value as the text a person reads in Excel."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.15g}"  # Excel's precision: 13800138000, 0.3, 1e+20
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def _checked_zip(data: bytes, max_bytes: int) -> None:
    """A zip whose parts unpack to at most `UNPACKED` × `max_bytes` (by its directory)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(part.file_size for part in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise _not_xlsx("it is not a zip archive as .xlsx files are") from None
    if unpacked > UNPACKED * max_bytes:
        raise _too_large_unpacked(UNPACKED * max_bytes)


def _rows(data: bytes, max_bytes: int, limit: int | None = None) -> Iterator[list[str]]:
    """The rows of the first sheet holding a cell, as text (trailing empty cells dropped): at
    most `limit`, or up to its first filled row when that comes later. Empty rows above it are
    kept (its row numbers are Excel's); the cell budget is shared by every sheet read."""
    from openpyxl import load_workbook  # here, not at start-up: only an import pays for it
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    _checked_zip(data, max_bytes)
    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if not book.worksheets:
            raise _not_xlsx("it has no sheet")
        budget = max_bytes
        for sheet in book.worksheets:
            if isinstance(sheet, ReadOnlyWorksheet):
                sheet.reset_dimensions()  # rows as the file holds them, not as it claims
            blank = 0  # empty rows above the first filled one (all of an empty sheet's)
            filled = False
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                if number > MAX_ROWS or len(values) > MAX_COLUMNS:
                    raise _not_xlsx("it has more rows or columns than Excel has")
                budget -= 1 + len(values)  # a line break and a delimiter per cell, as in a CSV
                row = [cell_text(v) for v in values]
                while row and not row[-1]:
                    row.pop()
                budget -= sum(len(cell.encode()) for cell in row)
                if budget < 0:
                    raise _too_large_unpacked(max_bytes)
                if not filled and not row:
                    blank += 1
                    continue
                if not filled:
                    filled = True
                    yield from ([] for _ in range(blank))
                yield row
                if limit is not None and number >= limit:
                    return
            if filled:
                return
    finally:
        book.close()


def _read(data: bytes, max_bytes: int, limit: int | None = None) -> list[list[str]]:
    try:
        rows = list(_rows(data, max_bytes, limit))
    except KithError:
        raise
    except Exception:  # openpyxl refuses a broken part in many ways: all say "not xlsx"
        # The parser's words (a KeyError naming a missing part) are for the log, not the user.
        log.info("an .xlsx upload is not a workbook openpyxl reads", exc_info=True)
        raise _not_xlsx("it holds no workbook Kith can read") from None
    while rows and not rows[-1]:  # formatted but empty rows below the table
        rows.pop()
    if not rows:
        raise InvalidInput("the file is empty", field="file", reason="empty_file")
    header = [cell.strip() for cell in rows[0]]
    if not any(header):
        raise InvalidInput("the first row must name the columns", field="file", reason="no_header")
    rows[0] = header
    return rows


def read_table(data: bytes, max_bytes: int) -> Table:
    """The first sheet holding a cell, as a header and rows (CPU-bound for big files: run it
    in a thread)."""
    rows = _read(data, max_bytes)
    records: list[Row] = list(rows[1:])
    return Table(header=rows[0], rows=records, encoding=ENCODING)


def read_header(data: bytes, max_bytes: int) -> list[str]:
    """That sheet's header, read as `read_table` reads it (for the mapping step)."""
    return _read(data, max_bytes, limit=1)[0]
