"""A token manages tokens only within its own rights (QA pass 8, minor 6: a full token
expiring in 2 days created a full token that never expires, and a read-only token listed
every token)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from kith.core.api_tokens import TokenScope, issue_api_token
from kith.core.clock import ManualClock
from kith.core.context import Core


async def _bearer(
    core: Core, workspace_id: str, scope: TokenScope = TokenScope.full, days: float | None = None
) -> dict[str, str]:
    expires = core.clock.now() + timedelta(days=days) if days is not None else None
    _, token = await issue_api_token(core, workspace_id, "maker", scope=scope, expires_at=expires)
    return {"Authorization": f"Bearer {token}"}


async def test_a_read_only_token_cannot_list_tokens(
    client: httpx.AsyncClient, core: Core, workspace_id: str
) -> None:
    auth = await _bearer(core, workspace_id, TokenScope.read)
    answer = await client.get("/api/v1/tokens", headers=auth)
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["field"] == "scope"
    created = await client.post("/api/v1/tokens", json={"name": "x"}, headers=auth)
    assert created.status_code == 403
    assert created.json()["error"]["field"] == "scope"


async def test_a_full_token_lists_them(
    client: httpx.AsyncClient, core: Core, workspace_id: str
) -> None:
    auth = await _bearer(core, workspace_id, days=2)
    await _bearer(core, workspace_id, TokenScope.read)
    answer = await client.get("/api/v1/tokens", headers=auth)
    assert answer.status_code == 200, answer.text
    assert sorted(t["scope"] for t in answer.json()["items"]) == ["full", "read"]


@pytest.mark.parametrize("body", [{"name": "x"}, {"name": "x", "expires_in_days": 3}])
async def test_an_expiring_token_cannot_create_one_that_outlives_it(
    client: httpx.AsyncClient, core: Core, workspace_id: str, body: dict[str, object]
) -> None:
    auth = await _bearer(core, workspace_id, days=2)
    answer = await client.post("/api/v1/tokens", json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"], error["limits"]) == (
        "expires_in_days",
        "less_than_equal",
        {"le": 2},
    )
    listed = await client.get("/api/v1/tokens", headers=auth)
    assert len(listed.json()["items"]) == 1


async def test_an_expiring_token_creates_one_expiring_no_later(
    client: httpx.AsyncClient, core: Core, workspace_id: str, clock: ManualClock
) -> None:
    auth = await _bearer(core, workspace_id, days=2.5)
    clock.advance(3600)
    for scope in ("read", "full"):
        body = {"name": scope, "scope": scope, "expires_in_days": 2}
        answer = await client.post("/api/v1/tokens", json=body, headers=auth)
        assert answer.status_code == 201, answer.text
        assert answer.json()["scope"] == scope
    made = {
        t["name"]: t["expires_at"]
        for t in (await client.get("/api/v1/tokens", headers=auth)).json()["items"]
    }
    assert made["maker"] is not None
    assert made["read"] is not None and made["read"] < made["maker"]
    assert made["full"] is not None and made["full"] < made["maker"]


async def test_a_token_expiring_within_a_day_creates_none(
    client: httpx.AsyncClient, core: Core, workspace_id: str
) -> None:
    auth = await _bearer(core, workspace_id, days=0.5)
    body = {"name": "x", "expires_in_days": 1}
    answer = await client.post("/api/v1/tokens", json=body, headers=auth)
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["field"] == "expires_in_days"


async def test_a_token_without_expiry_creates_any(
    client: httpx.AsyncClient, core: Core, workspace_id: str
) -> None:
    auth = await _bearer(core, workspace_id)
    answer = await client.post("/api/v1/tokens", json={"name": "x"}, headers=auth)
    assert answer.status_code == 201, answer.text
    assert answer.json()["expires_at"] is None
