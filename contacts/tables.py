"""The files an import reads, CSV or Excel (.xlsx), read into one `Table` shape so that the
mapping and the rows are the same for both. Which one a file is comes from its content type
(the API) or its name (the CLI), never from a guess at its bytes."""

from __future__ import annotations

from pathlib import PurePath
from typing import Literal

from kith.contacts import csvfile, xlsxfile
from kith.contacts.csvfile import Table
from kith.core.errors import InvalidInput

FileFormat = Literal["csv", "xlsx"]
XLSX_TYPE = xlsxfile.XLSX_TYPE


def format_of_type(content_type: str | None) -> FileFormat:
    """`xlsx` for Excel's content type, else `csv` (any text type, or none)."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return "xlsx" if media == XLSX_TYPE else "csv"


def format_of_path(path: PurePath) -> FileFormat:
    return "xlsx" if path.suffix.lower() == ".xlsx" else "csv"


def _no_charset(file_format: FileFormat, encoding: str | None) -> None:
    if file_format == "xlsx" and encoding:
        message = "an Excel workbook names its own charset: leave encoding out"
        raise InvalidInput(message, field="encoding", reason="not_for_xlsx")


def read_table(data: bytes, file_format: FileFormat, encoding: str | None, max_bytes: int) -> Table:
    """The file's header and rows (CPU-bound for big files: run it in a thread)."""
    _no_charset(file_format, encoding)
    if file_format == "xlsx":
        return xlsxfile.read_table(data, max_bytes)
    return csvfile.read_table(data, encoding)


def read_header(
    data: bytes, file_format: FileFormat, encoding: str | None, max_bytes: int
) -> tuple[list[str], str]:
    """The file's header and what it was read as (a charset, or `xlsx`)."""
    _no_charset(file_format, encoding)
    if file_format == "xlsx":
        return xlsxfile.read_header(data, max_bytes), xlsxfile.ENCODING
    return csvfile.read_header(data, encoding)
