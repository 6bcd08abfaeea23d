"""Segments as an attack surface (both lanes): a filter cannot smuggle MongoDB operators, a
preview cannot count another workspace's customers, a segment name cannot inject markup."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.core.workspaces import create_workspace
from tests.segments.conftest import customer
from tests.support.cast import api_token

INJECTIONS: list[tuple[Any, str]] = [
    ({"field": "tags", "op": "contains", "value": {"$ne": None}}, "filter.value"),
    ({"field": "attributes.$where", "op": "eq", "value": "1"}, "filter.field"),
    ({"field": "attributes.a.b", "op": "exists", "value": True}, "filter.field"),
    ({"$where": "sleep(1000)"}, "filter"),
    ({"all": [{"field": "tags", "op": "$regex", "value": ".*"}]}, "filter.all.0.op"),
    ({"field": "tags", "op": "in", "value": [{"$gt": ""}]}, "filter.value"),
]


@pytest.mark.parametrize(("raw", "path"), INJECTIONS)
async def test_a_filter_cannot_smuggle_operators(
    core: Core, client: httpx.AsyncClient, workspace_id: str, raw: Any, path: str
) -> None:
    headers = {"Authorization": f"Bearer {await api_token(core, workspace_id)}"}
    for url, body in (
        ("/api/v1/segments", {"name": "x", "filter": raw}),
        ("/api/v1/segments/preview", {"filter": raw}),
    ):
        answer = await client.post(url, json=body, headers=headers)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"].startswith(path.split(".")[0])
    assert await core.store.collection("segments").count_documents({}) == 0


async def test_a_preview_counts_only_the_callers_workspace(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    other = await create_workspace(core, "Other Co")
    for n in range(3):
        await customer(core, other.id, f"theirs-{n}", tags=["vip"])
    headers = {"Authorization": f"Bearer {await api_token(core, workspace_id)}"}
    vip = {"field": "tags", "op": "contains", "value": "vip"}
    answer = await client.post("/api/v1/segments/preview", json={"filter": vip}, headers=headers)
    assert answer.json()["count"] == 0


async def test_a_segment_name_is_text_on_its_page(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    from kith.core.auth import create_user
    from kith.core.models import Role
    from tests.web.conftest import PASSWORD, sign_in

    await create_user(core, workspace_id, "m@kith.test", PASSWORD, name="M", role=Role.marketer)
    headers = {"Authorization": f"Bearer {await api_token(core, workspace_id)}"}
    name = '<script>alert("x")</script>'
    made = await client.post(
        "/api/v1/segments",
        json={"name": name, "filter": {"field": "tags", "op": "exists", "value": True}},
        headers=headers,
    )
    assert (await sign_in(client, "m@kith.test")).status_code == 303
    page = await client.get(f"/app/segments/{made.json()['id']}")
    assert page.status_code == 200
    assert name not in page.text and "&lt;script&gt;" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
