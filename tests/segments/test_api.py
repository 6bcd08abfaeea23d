"""`/api/v1/segments` (both lanes): create, list, read, change, delete; validation naming the
path; another workspace's segment is 404; agents read and cannot write; the preview count."""

from __future__ import annotations

from typing import Any

import httpx

from kith.core.api_tokens import TokenScope, issue_api_token
from kith.core.context import Core
from kith.core.workspaces import create_workspace
from tests.segments.conftest import VIP, VIP_SHANGHAI, customer
from tests.support.cast import api_token
from tests.support.consumers import drain
from tests.web.conftest import (  # noqa: F401 (fixtures)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await api_token(core, workspace_id)}"}


async def test_crud_with_size_and_members(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    headers = await auth(core, workspace_id)
    await customer(core, workspace_id, "c-sh", tags=["vip"], attributes={"city": "上海"})
    await customer(core, workspace_id, "c-bj", tags=["vip"], attributes={"city": "北京"})
    made = await client.post(
        "/api/v1/segments", json={"name": "VIP in 上海", "filter": VIP_SHANGHAI}, headers=headers
    )
    assert made.status_code == 201, made.text
    segment = made.json()
    assert (segment["name"], segment["size"], segment["filter"]) == ("VIP in 上海", 1, VIP_SHANGHAI)
    url = f"/api/v1/segments/{segment['id']}"
    assert (await client.get(url, headers=headers)).json()["size"] == 1
    listed = (await client.get("/api/v1/segments", headers=headers)).json()
    assert [s["id"] for s in listed["items"]] == [segment["id"]]
    people = (await client.get(f"{url}/customers", headers=headers)).json()
    assert [c["id"] for c in people["items"]] == ["c-sh"]

    changed = await client.patch(url, json={"filter": VIP}, headers=headers)
    assert changed.status_code == 200 and changed.json()["size"] == 2
    renamed = await client.patch(url, json={"name": "VIP"}, headers=headers)
    assert renamed.json()["name"] == "VIP" and renamed.json()["filter"] == VIP
    first = await client.get(f"{url}/customers", params={"limit": 1}, headers=headers)
    rest = await client.get(
        f"{url}/customers",
        params={"limit": 1, "cursor": first.json()["next_cursor"]},
        headers=headers,
    )
    assert [first.json()["items"][0]["id"], rest.json()["items"][0]["id"]] == ["c-bj", "c-sh"]
    assert rest.json()["next_cursor"] is None
    sizes = (await client.get(f"{url}/sizes", headers=headers)).json()
    assert sizes[-1]["size"] == 2

    assert (await client.delete(url, headers=headers)).status_code == 204
    assert (await client.get(url, headers=headers)).status_code == 404
    assert await core.store.collection("segment_members").count_documents({}) == 0


async def test_validation_names_the_path(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    headers = await auth(core, workspace_id)
    bad: list[tuple[dict[str, Any], str]] = [
        (
            {"name": "x", "filter": {"all": [VIP, {"field": "tags", "op": "eq", "value": "a"}]}},
            "filter.all.1.op",
        ),
        ({"name": "x", "filter": {"field": "nope", "op": "eq", "value": 1}}, "filter.field"),
        (
            {"name": "x", "filter": {"field": "tags", "op": "contains", "value": {"$ne": 1}}},
            "filter.value",
        ),
        ({"name": " ", "filter": VIP}, "name"),
        ({"name": "x"}, "filter"),
    ]
    for body, path in bad:
        answer = await client.post("/api/v1/segments", json=body, headers=headers)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"] == path, answer.text
    preview = await client.post(
        "/api/v1/segments/preview", json={"filter": {"any": [{"field": "x"}]}}, headers=headers
    )
    assert preview.status_code == 422
    assert preview.json()["error"]["field"] == "filter.any.0.field"


async def test_another_workspaces_segment_is_not_found(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    mine = await auth(core, workspace_id)
    other = await create_workspace(core, "Other Co")
    theirs = await auth(core, other.id)
    made = await client.post("/api/v1/segments", json={"name": "VIP", "filter": VIP}, headers=mine)
    url = f"/api/v1/segments/{made.json()['id']}"
    for method, path, body in (
        ("GET", url, None),
        ("PATCH", url, {"name": "mine now"}),
        ("DELETE", url, None),
        ("GET", f"{url}/customers", None),
        ("POST", f"{url}/reconcile", None),
    ):
        answer = await client.request(method, path, json=body, headers=theirs)
        assert answer.status_code == 404, (method, path)
    assert (await client.get("/api/v1/segments", headers=theirs)).json()["items"] == []
    assert (await client.get(url, headers=mine)).json()["name"] == "VIP"


async def test_agents_read_marketers_write(cast: Cast, browser: Any) -> None:  # noqa: F811
    mary, alice = await browser("mary"), await browser("alice")
    made = await mary.http.post(
        "/api/v1/segments",
        json={"name": "VIP", "filter": VIP},
        headers={"X-CSRF-Token": mary.csrf},
    )
    assert made.status_code == 201, made.text
    url = f"/api/v1/segments/{made.json()['id']}"
    assert (await alice.http.get(url)).status_code == 200
    for method in ("PATCH", "DELETE"):
        refused = await alice.http.request(
            method,
            url,
            json={"name": "x"} if method == "PATCH" else None,
            headers={"X-CSRF-Token": alice.csrf},
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "role"
    forged = await mary.http.patch(url, json={"name": "x"})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
    anonymous = await (await browser()).http.get(url)
    assert anonymous.status_code == 401


async def test_a_read_only_token_cannot_write(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    _, token = await issue_api_token(core, workspace_id, "reader", scope=TokenScope.read)
    answer = await client.post(
        "/api/v1/segments",
        json={"name": "VIP", "filter": VIP},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 403


async def test_preview_counts_now(core: Core, client: httpx.AsyncClient, workspace_id: str) -> None:
    headers = await auth(core, workspace_id)
    for n in range(3):
        await customer(core, workspace_id, f"c-{n}", tags=["vip"] if n else [])
    await drain(core)
    answer = await client.post("/api/v1/segments/preview", json={"filter": VIP}, headers=headers)
    assert answer.json() == {"count": 2, "capped": False, "timed_out": False}
    core.settings.segments_preview_limit = 1
    capped = await client.post("/api/v1/segments/preview", json={"filter": VIP}, headers=headers)
    assert capped.json() == {"count": 1, "capped": True, "timed_out": False}


async def test_export_writes_the_segments_customers_as_csv(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    headers = await auth(core, workspace_id)
    await customer(
        core, workspace_id, "c-sh", name="李雷", tags=["vip"], attributes={"city": "上海"}
    )
    await customer(
        core, workspace_id, "c-bj", name="Ada", tags=["vip"], attributes={"city": "北京"}
    )
    made = await client.post(
        "/api/v1/segments", json={"name": "VIP in 上海", "filter": VIP_SHANGHAI}, headers=headers
    )
    answer = await client.get(f"/api/v1/segments/{made.json()['id']}/export.csv", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    rows = answer.text.lstrip("\ufeff").splitlines()
    assert rows[0].startswith("id,name,")
    assert [row.split(",")[:2] for row in rows[1:]] == [["c-sh", "李雷"]]


async def test_infinity_and_nan_are_refused_naming_the_value(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    """Regression (QA marketer #5): `Infinity` was stored, read back as null and broke the
    builder; `NaN` matched nobody."""
    headers = await auth(core, workspace_id)
    for value in ("Infinity", "-Infinity", "NaN"):
        for field in ("sentiment.trend", "attributes.score"):
            raw = f'{{"name": "x", "filter": {{"field": "{field}", "op": "lt", "value": {value}}}}}'
            answer = await client.post(
                "/api/v1/segments",
                content=raw,
                headers={**headers, "Content-Type": "application/json"},
            )
            assert answer.status_code == 422, (value, field, answer.text)
            assert answer.json()["error"]["field"] == "filter.value"
    assert await core.store.collection("segments").count_documents({}) == 0


async def test_a_second_segment_with_the_same_name_is_refused_whatever_its_case(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    """Regression (QA MINOR): two segments could share a name, and a broadcast's segment list
    then showed two "VIP" nobody could tell apart. Create and rename are refused (409 on
    `name`, reason `name_taken`); another workspace may use the name."""
    headers = await auth(core, workspace_id)
    url = "/api/v1/segments"
    first = await client.post(url, json={"name": "VIP", "filter": VIP}, headers=headers)
    assert first.status_code == 201, first.text
    other = await client.post(url, json={"name": "Shanghai", "filter": VIP}, headers=headers)
    assert other.status_code == 201, other.text

    for name in ("VIP", " vip ", "Vip"):
        again = await client.post(url, json={"name": name, "filter": VIP}, headers=headers)
        assert again.status_code == 409, again.text
        error = again.json()["error"]
        assert (error["field"], error["reason"], error["code"]) == (
            "name",
            "name_taken",
            "name_taken",
        )
        assert error["limits"] == {"name": "VIP", "segment_id": first.json()["id"]}
    renamed = await client.patch(
        f"{url}/{other.json()['id']}", json={"name": "vIP"}, headers=headers
    )
    assert renamed.status_code == 409 and renamed.json()["error"]["field"] == "name"
    assert (await client.get(f"{url}/{other.json()['id']}", headers=headers)).json()[
        "name"
    ] == "Shanghai"
    # Its own name in another case is a rename, not a clash.
    own = await client.patch(f"{url}/{first.json()['id']}", json={"name": "vip"}, headers=headers)
    assert own.status_code == 200 and own.json()["name"] == "vip"
    assert await core.store.collection("segments").count_documents({}) == 2

    elsewhere = await create_workspace(core, "Other Co")
    theirs = await client.post(
        url, json={"name": "VIP", "filter": VIP}, headers=await auth(core, elsewhere.id)
    )
    assert theirs.status_code == 201, theirs.text
