"""What one file says twice or more than it should: rows that come to the same customer (the
first wins, the others are reported) and cells beyond the header (imported without them,
reported)."""

from __future__ import annotations

from kith.contacts.imports import ImportOptions, start_import
from kith.core.context import Core
from kith.core.jobs import JobWorker, get_job
from tests.api.conftest import ApiSetup
from tests.contacts.test_import import customers, run_import


async def test_rows_sharing_a_phone_are_a_duplicate_not_an_overwrite(
    api: ApiSetup, core: Core
) -> None:
    """Regression (QA M8): 张三 and 张三丰 share a phone written two ways; the second row
    renamed the first customer and counted as "updated 1", without a word."""
    csv = (
        "姓名;手机;邮箱\n"
        "张三;139 0001 0002;zhang3@example.cn\n"
        "张三丰;13900010002;\n"
        "李四;13900010003;\n"
        "李四 again;;ZHANG3@example.cn\n"  # the email of row 2, another case
    )
    job = await run_import(api, core, csv.encode("gbk"))
    assert job["result"] == {"created": 2, "updated": 0, "failed": 2, "skipped": 0}
    assert [(e["row"], e["column"], e["code"], e["params"]) for e in job["errors"]] == [
        (3, "手机", "duplicate_in_file", {"row": 2, "columns": ["手机"]}),
        (5, "邮箱", "duplicate_in_file", {"row": 2, "columns": ["邮箱"]}),
    ]
    assert "row 2" in job["errors"][0]["message"]
    assert [c["name"] for c in await customers(core)] == ["张三", "李四"]
    assert await core.store.collection("import_firsts").count_documents({}) == 0  # dropped


async def test_two_rows_coming_to_one_stored_customer_by_different_keys(
    api: ApiSetup, core: Core
) -> None:
    first = await run_import(api, core, "name,email,phone\nAda,ada@example.com,+44 20 7946 0958\n")
    assert first["result"]["created"] == 1
    job = await run_import(
        api,
        core,
        "name,email,phone\nAda L,ada@example.com,\nAda King,,+44 20 7946 0958\n",
    )
    assert job["result"] == {"created": 0, "updated": 1, "failed": 1, "skipped": 0}
    (error,) = job["errors"]
    assert (error["row"], error["code"], error["params"]) == (
        3,
        "duplicate_in_file",
        {"row": 2, "columns": ["phone"]},
    )
    (ada,) = await customers(core)
    assert ada["name"] == "Ada L"
    again = await run_import(api, core, "name,email\nAda Byron,ada@example.com\n")
    assert again["errors"] == [] and again["result"]["updated"] == 1  # another file: no duplicate


async def test_a_duplicate_in_a_later_chunk_names_the_row_of_an_earlier_one(
    core: Core, workspace_id: str
) -> None:
    lines = ["name,email", "A,a@example.com", "B,b@example.com", "C,c@example.com"]
    lines += ["A2,A@example.com", "B2,b@example.com"]
    job = await start_import(
        core, workspace_id, "\n".join(lines).encode(), ImportOptions(), chunk_rows=2
    )
    await JobWorker(core).run_once()
    done = await get_job(core, workspace_id, job.id)
    assert done.result == {"created": 3, "updated": 0, "failed": 2, "skipped": 0}
    assert [(e.row, e.code, e.params["row"]) for e in done.errors] == [
        (5, "duplicate_in_file", 2),
        (6, "duplicate_in_file", 3),
    ]
    names = sorted(c["name"] for c in await customers(core))
    assert names == ["A", "B", "C"]


async def test_cells_beyond_the_header_are_a_row_warning(api: ApiSetup, core: Core) -> None:
    """Regression (QA M8): 王五's row had three cells more than the header and was taken
    without a word. The row imports; the job names it and how many cells it left out. A
    trailing delimiter (an empty cell) is nothing to tell."""
    csv = (
        "name,phone,tags\n"
        "王五,13900010003,vip,extra,col,umns\n"
        "赵六,13900010006,vip,\n"
        "钱七,13900010007,vip,,\n"
    )
    job = await run_import(api, core, csv)
    assert job["result"] == {"created": 3, "updated": 0, "failed": 0, "skipped": 0}
    assert job["warnings"] == [
        {
            "column": None,
            "row": 2,
            "code": "extra_cells",
            "params": {"cells": 3, "columns": 3},
            "message": "3 cells beyond the header's 3 columns: left out",
        }
    ]


async def test_many_rows_with_extra_cells_are_listed_up_to_a_limit(
    api: ApiSetup, core: Core
) -> None:
    csv = "name,email\n" + "".join(f"P{n},p{n}@example.com,x\n" for n in range(105))
    job = await run_import(api, core, csv)
    assert job["result"]["created"] == 105
    rows = [w["row"] for w in job["warnings"] if w["code"] == "extra_cells"]
    assert rows == list(range(2, 102))
    assert job["warnings"][-1]["code"] == "extra_cells_more"
    assert job["warnings"][-1]["params"] == {"rows": 5}


async def test_a_preview_names_each_column_and_its_guess_and_imports_nothing(
    api: ApiSetup, core: Core
) -> None:
    """What the page's mapping step starts from: the file read as an import reads it."""
    csv = "姓名;手机;城市;consent.pigeon\n张三;139 0001 0002;北京;yes\n".encode("gbk")
    response = await api.http.post(
        "/api/v1/customers/import",
        content=csv,
        params={"preview": "true"},
        headers={**api.auth, "Content-Type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["encoding"] == "gb18030" or answer["encoding"].startswith("gb")
    assert [(c["header"], c["target"], c["code"]) for c in answer["columns"]] == [
        ("姓名", "name", None),
        ("手机", "phone", None),
        ("城市", None, "unknown_field"),
        ("consent.pigeon", None, "unknown_consent_channel"),
    ]
    assert answer["targets"][:8] == [
        "id", "name", "email", "phone", "external_id", "locale", "timezone", "tags"
    ]  # fmt: skip
    assert "consent.api" in answer["targets"]
    assert await core.store.collection("jobs").count_documents({}) == 0
    assert await core.store.collection("import_rows").count_documents({}) == 0

    refused = await api.http.post(
        "/api/v1/customers/import",
        content=b"\x89PNG\r\n\x1a\n",
        params={"preview": "true"},
        headers={**api.auth, "Content-Type": "text/csv"},
    )
    assert refused.status_code == 422
    assert (refused.json()["error"]["field"], refused.json()["error"]["reason"]) == (
        "file",
        "not_text",
    )
