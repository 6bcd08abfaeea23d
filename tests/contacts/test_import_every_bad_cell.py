"""A CSV row with several bad cells is reported cell by cell, and still left out whole.

Regression (QA7 minor 8): `UI Bad,carol-at-example,abc` reported the email only; the bad
phone showed up on the next import. Every bad cell of a row is now an error of its own (row,
column, code, params, words), in the file's column order; `failed` counts rows."""

from __future__ import annotations

from kith.core.context import Core
from tests.api.conftest import ApiSetup
from tests.contacts.test_import import customers, run_import


async def test_every_bad_cell_of_a_row_is_reported_and_the_row_left_out(
    api: ApiSetup, core: Core
) -> None:
    csv = (
        "name,email,phone,timezone,consent.api,locale\n"
        "UI Carol,carol@example.com,+86 139 0001 7919,Asia/Shanghai,yes,zh-CN\n"
        "UI Bad,carol-at-example,abc,Mars/Base,maybe,klingon-<b>\n"
        "UI Half,half@example.com,abc,,,\n"
        "UI Dan,dan@example.com,13900099999,,,\n"
    )
    job = await run_import(api, core, csv)
    assert job["status"] == "done"
    assert [(e["row"], e["column"], e["code"], e["params"]) for e in job["errors"]] == [
        (3, "email", "bad_email", {}),
        (3, "phone", "bad_phone", {"region": "CN"}),
        (3, "timezone", "bad_timezone", {}),
        (3, "consent.api", "bad_consent", {}),
        (3, "locale", "bad_locale", {}),
        (4, "phone", "bad_phone", {"region": "CN"}),
    ]
    assert all(e["message"] for e in job["errors"])
    assert job["error_count"] == 6
    # Rows, not cells: two rows failed, two went in.
    assert job["result"] == {"created": 2, "updated": 0, "failed": 2, "skipped": 0}
    stored = await customers(core)
    assert [c["name"] for c in stored] == ["UI Carol", "UI Dan"]
    # Nothing of a refused row was written: not its good email, nor an event about it.
    assert not [c for c in stored if "half@example.com" in c.get("emails", [])]
    assert await core.store.events.count_documents({"type": "customer.created"}) == 2


async def test_a_mapping_in_another_order_reports_in_the_files_column_order(
    api: ApiSetup, core: Core
) -> None:
    csv = "Phone,Name,Mail\nabc,Bad,not-an-email\n+86 139 0001 7919,Good,good@example.com\n"
    mapping = {"Mail": "email", "Name": "name", "Phone": "phone"}
    job = await run_import(api, core, csv, mapping=mapping)
    assert [(e["row"], e["column"], e["code"]) for e in job["errors"]] == [
        (2, "Phone", "bad_phone"),
        (2, "Mail", "bad_email"),
    ]
    assert job["result"] == {"created": 1, "updated": 0, "failed": 1, "skipped": 0}
    assert [c["name"] for c in await customers(core)] == ["Good"]
