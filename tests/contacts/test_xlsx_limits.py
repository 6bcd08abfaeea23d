"""An .xlsx within the import's size limit that unpacks to far more (a zip bomb), or whose
cells hold more text than a CSV within the limit could, is refused as `too_large_unpacked`
(413 on `file`, the limit in bytes) before its rows are stored. The preview, which reads the
header only, refuses the bomb too."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from kith.contacts.xlsxfile import UNPACKED
from kith.core.context import Core
from kith.core.settings import Settings
from tests.api.conftest import ApiSetup

LIMIT = 16 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"import_max_bytes": LIMIT})


def workbook(cell: str, rows: int = 1) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "email"])
    for _ in range(rows):
        sheet.append([cell, "ada@example.com"])
    out = io.BytesIO()
    book.save(out)
    assert len(out.getvalue()) < LIMIT  # within the file limit: the unpacked size is refused
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "limit", "previews"),
    [
        (lambda: workbook("a" * 32_000, rows=UNPACKED), UNPACKED * LIMIT, ("false", "true")),
        (lambda: workbook("Ada " * 50, rows=100), LIMIT, ("false",)),  # over a CSV's text
    ],
    ids=["zip_bomb", "too_much_text"],
)
async def test_a_workbook_that_unpacks_too_large_is_a_413_on_file(
    api: ApiSetup, core: Core, data: object, limit: int, previews: tuple[str, ...]
) -> None:
    assert callable(data)
    body = data()
    for preview in previews:
        answer = await api.http.post(
            "/api/v1/customers/import",
            content=body,
            params={"preview": preview},
            headers={**api.auth, "Content-Type": XLSX},
        )
        assert answer.status_code == 413, answer.text
        error = answer.json()["error"]
        assert (error["field"], error["reason"]) == ("file", "too_large_unpacked")
        assert error["limits"] == {"max_bytes": limit}
    assert await core.store.collection("jobs").count_documents({}) == 0
    assert await core.store.collection("import_rows").count_documents({}) == 0
