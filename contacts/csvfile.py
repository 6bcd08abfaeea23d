"""Reading the CSV files people export from Excel, WPS and CRMs: any charset, any delimiter.

Excel on a Chinese Windows saves "CSV" in GBK, elsewhere in UTF-8 with a byte-order mark, and
in some locales with `;` between cells; Excel's "Unicode text" is UTF-16. The charset is the
one the caller names, else the one a byte-order mark names, else UTF-8 when the bytes are valid
UTF-8, else UTF-16 when its zero bytes say so, else charset-normalizer's best guess. A file
that is not text (an image, an .xlsx) is refused before any row is read (`not_text`), not
read as a guess's garble whose "columns" then map to nothing.

Quotes follow the CSV rules strictly: a record with a quote never closed, or text after a
closing quote, is a `BrokenRow` (reported as that row's error), never cells glued together
(a lenient reader makes `"Ann,ann@example.com` one name, or swallows every row after it).
Reading goes on at its second line: a record that breaks on a later line most often holds a
stray quote that a later cell's quote seemed to close, and the rows it swallowed are whole.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from charset_normalizer import from_bytes

from kith.core.errors import InvalidInput, PayloadTooLarge

DELIMITERS = (",", ";", "\t", "|")
# Why a record cannot be read: codes the job's row errors carry, the page words them.
UNCLOSED = "unclosed_quote"
AFTER_QUOTE = "text_after_quote"
BAD_QUOTING = "bad_quoting"  # the csv module's own words, where the scan finds no fault
WHY = {
    UNCLOSED: "a quote opens in this cell and is never closed",
    AFTER_QUOTE: 'text after the closing quote of this cell (write a quote inside a cell as "")',
}
REREADS = 10  # resuming after broken records reads the file at most this many times more


@dataclass(frozen=True)
class BrokenRow:
    """A record the CSV rules cannot read: the cell it breaks in (from 0, None when unsure),
    a code saying why, and the why in words."""

    cell: int | None
    code: str
    message: str


Row = list[str] | BrokenRow


@dataclass(frozen=True)
class Table:
    """A file's header and data rows (cells as text, or why a row cannot be read), and the
    charset it was read in."""

    header: list[str]
    rows: list[Row]
    encoding: str


# Byte-order marks but UTF-8's, longest first (UTF-32 LE's starts with UTF-16 LE's).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# How files people pick by mistake begin (an image, a PDF, a zip such as .xlsx, an old .xls).
BINARY = (
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"%PDF",
    b"PK\x03\x04",
    b"\xd0\xcf\x11\xe0",
    b"\x1f\x8b",
)
# Control characters no text file holds (tabs, line breaks and an old DOS end of file do).
CONTROLS = re.compile("[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f]")
SAMPLE = 4096  # bytes looked at to spot UTF-16 without a byte-order mark
# Refusals of the file as a whole: `reason` codes the page words (limits: the values named).
NOT_TEXT = "not_text"
TOO_LARGE = "too_large"


def too_large(max_bytes: int) -> PayloadTooLarge:
    """A file over the import's limit (413 on `file`), the limit in bytes for the page to
    word ("over 64 MB"). Refused by the upload's body cap before the route reads it, and by
    `start_import` for a caller that gives it the bytes some other way."""
    return PayloadTooLarge(
        f"the file is over {max_bytes} bytes, the largest an import takes",
        field="file",
        reason=TOO_LARGE,
        limits={"max_bytes": max_bytes},
    )


def _not_text() -> InvalidInput:
    return InvalidInput(
        "not a text file: save the sheet as CSV (comma-separated values)",
        field="file",
        reason=NOT_TEXT,
    )


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 a program wrote without a byte-order mark: mostly Latin text, so one byte of
    each pair is zero, always the same one."""
    sample = data[:SAMPLE]  # an even number of bytes
    if len(data) % 2 or not sample:
        return None
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    if odd > half * 0.3 and even == 0:
        return "utf-16-le"
    if even > half * 0.3 and odd == 0:
        return "utf-16-be"
    return None


def _is_text(text: str) -> bool:
    """No control characters but line breaks and tabs, and hardly any code point nothing is
    assigned to (in its first part): what a charset guess at binary bytes gives away."""
    if CONTROLS.search(text):
        return False
    head = text[: SAMPLE * 4]
    odd = sum(1 for c in head if unicodedata.category(c) in ("Cn", "Co", "Cs"))
    return odd <= len(head) // 100


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of `data` and the charset it was read in: the one named, else the one its
    byte-order mark says, else UTF-8 when the bytes are valid UTF-8, else UTF-16 when its
    zero bytes say so, else charset-normalizer's best guess. Bytes that are not text (an
    image, a spreadsheet's .xlsx, bytes no charset reads as text) are refused as `not_text`."""
    if encoding:
        try:
            codecs.lookup(encoding)
            return data.decode(encoding), encoding
        except LookupError:
            raise InvalidInput(
                f"unknown charset {encoding!r}",
                field="encoding",
                reason="unknown_charset",
                limits={"encoding": encoding},
            ) from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(
                f"the file is not {encoding}: {exc}",
                field="encoding",
                reason="not_in_charset",
                limits={"encoding": encoding},
            ) from None
    if data.startswith(BINARY):
        raise _not_text()
    text, used = _detected(data)
    if not _is_text(text):
        raise _not_text()
    return text, used


def _detected(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):  # a stray byte in Excel's UTF-8 stays one cell's
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    for bom, charset in BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(charset), charset
            except UnicodeDecodeError:
                raise _not_text() from None
    if 0 not in data:
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16), utf16
        except UnicodeDecodeError:
            raise _not_text() from None
    best = from_bytes(data).best()
    if best is None:
        raise _not_text()
    return str(best), best.encoding


def _delimiter(first_line: str) -> str:
    return max(DELIMITERS, key=first_line.count)


def _fault(lines: list[str], first: int, delimiter: str) -> tuple[int, str] | None:
    """Where the record starting at `lines[first]` breaks the quoting rules: its cell and
    the code of why (None: it does not, as far as this scan sees)."""
    cell, quoted, opened = 0, False, first
    for n in range(first, len(lines)):
        line, i = lines[n].rstrip("\r\n"), 0
        while True:
            if quoted:
                j = line.find('"', i)
                if j < 0:
                    break  # the cell goes on on the next line
                if line.startswith('""', j):
                    i = j + 2
                    continue
                quoted, i = False, j + 1
                if i == len(line):
                    return None
                if line[i] != delimiter:
                    return cell, AFTER_QUOTE if opened == n else UNCLOSED
                cell, i = cell + 1, i + 1
            elif line.startswith('"', i):
                quoted, opened, i = True, n, i + 1
            else:
                j = line.find(delimiter, i)
                if j < 0:
                    return None
                cell, i = cell + 1, j + 1
    return (cell, UNCLOSED) if quoted else None


def _records(lines: list[str], delimiter: str) -> Iterator[Row]:
    """The file's records, a broken one as a `BrokenRow` and the reading resumed at its
    second line."""
    start, reread = 0, 0
    while start < len(lines):
        reader = csv.reader(
            (lines[n] for n in range(start, len(lines))), delimiter=delimiter, strict=True
        )
        read = 0  # the lines this reader's records took
        try:
            for record in reader:
                read = reader.line_num
                yield record
            return
        except csv.Error as exc:
            first = start + read
            cell, code = _fault(lines, first, delimiter) or (None, BAD_QUOTING)
            reread += len(lines) - first if code == UNCLOSED else reader.line_num - read
            if reread > REREADS * len(lines):
                message = "not a CSV file: its quotes do not pair up"
                raise InvalidInput(message, field="file", reason="not_csv") from None
            yield BrokenRow(cell, code, WHY.get(code, str(exc)))
            start = first + 1


def _header(records: Iterator[Row]) -> list[str]:
    first = next(records, None)
    if first is None:
        raise InvalidInput("the file is empty", field="file", reason="empty_file")
    if isinstance(first, BrokenRow):
        message = f"not a CSV file: in the header row, {first.message}"
        raise InvalidInput(message, field="file", reason="not_csv")
    header = [cell.strip() for cell in first]
    if not any(header):
        raise InvalidInput("the first row must name the columns", field="file", reason="no_header")
    return header


def read_table(data: bytes, encoding: str | None = None) -> Table:
    """Parse a CSV file (CPU-bound for big files: run it in a thread)."""
    text, used = decode(data, encoding)
    lines = io.StringIO(text, newline="").readlines()
    records = _records(lines, _delimiter(lines[0] if lines else ""))
    header = _header(records)
    return Table(header=header, rows=list(records), encoding=used)


def read_header(data: bytes, encoding: str | None = None) -> tuple[list[str], str]:
    """A CSV file's header and charset, read as `read_table` reads them (for the page's
    mapping step, before anything is imported)."""
    text, used = decode(data, encoding)
    lines = io.StringIO(text, newline="").readlines()
    return _header(_records(lines, _delimiter(lines[0] if lines else ""))), used
