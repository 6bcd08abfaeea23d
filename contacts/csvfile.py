"""Reading the CSV files people export from Excel, WPS and CRMs: any charset, any delimiter.

Excel on a Chinese Windows saves "CSV" in GBK, elsewhere in UTF-8 with a byte-order mark, and
in some locales with `;` between cells. The charset is the one the caller names, else UTF-8
(with or without BOM) when the bytes are valid UTF-8, else charset-normalizer's best guess.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from charset_normalizer import from_bytes

from kith.core.errors import InvalidInput

DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class Table:
    """A file's header and data rows (cells as text), and the charset it was read in."""

    header: list[str]
    rows: list[list[str]]
    encoding: str


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of `data` and the charset it was read in."""
    if encoding:
        try:
            codecs.lookup(encoding)
            return data.decode(encoding), encoding
        except LookupError:
            raise InvalidInput(f"unknown charset {encoding!r}", field="encoding") from None
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"the file is not {encoding}: {exc}", field="encoding") from None
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data).best()
    if best is None:
        raise InvalidInput("cannot tell the file's charset: name it", field="encoding")
    return str(best), best.encoding


def _delimiter(first_line: str) -> str:
    return max(DELIMITERS, key=first_line.count)


def read_table(data: bytes, encoding: str | None = None) -> Table:
    """Parse a CSV file (CPU-bound for big files: run it in a thread)."""
    text, used = decode(data, encoding)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        raise InvalidInput("the file is empty", field="file") from None
    except csv.Error as exc:
        raise InvalidInput(f"not a CSV file: {exc}", field="file") from None
    if not any(header):
        raise InvalidInput("the first row must name the columns", field="file")
    try:
        rows = [row for row in reader]
    except csv.Error as exc:
        raise InvalidInput(
            f"not a CSV file: {exc} (line {reader.line_num})", field="file"
        ) from None
    return Table(header=header, rows=rows, encoding=used)
