"""Sequences as an attack surface (both lanes): another workspace's token finds nothing,
user JSON never reaches MongoDB as an operator, a webhook cannot be aimed inside the network,
agents only read, and every write from the page needs the CSRF token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.core.settings import Settings
from kith.core.workspaces import create_workspace
from kith.sequences.feature import feature
from kith.sequences.store import enrolments, sequences
from tests.segments.conftest import customer, segment
from tests.support.cast import api_token
from tests.web.conftest import Cast

STEPS = [
    {"id": "welcome", "type": "send", "message": {"text": {"en": "Hi {{ customer.name }}"}}},
    {"id": "pause", "type": "wait", "duration": "P1D"},
]
BODY = {"name": "Welcome", "channels": ["api"], "steps": STEPS}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """As deployed: no private destination allowed (the suite allows loopback for its fakes)."""
    return settings.model_copy(update={"egress_allow": None})


@pytest.fixture(autouse=True)
def with_sequences(core: Core) -> None:
    """Installed before the app is built (autouse fixtures come first)."""
    install(core, [feature(core)])


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def _active(client: httpx.AsyncClient, token: str) -> str:
    made = await client.post("/api/v1/sequences", json=BODY, headers=bearer(token))
    assert made.status_code == 201, made.text
    sequence_id = str(made.json()["id"])
    await client.post(f"/api/v1/sequences/{sequence_id}/activate", headers=bearer(token))
    return sequence_id


async def test_another_workspaces_token_finds_nothing(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    ours = await api_token(core, workspace_id)
    ada = await customer(core, workspace_id, "ada", name="Ada")
    vip = await segment(core, workspace_id, {"field": "tags", "op": "contains", "value": "vip"})
    sequence_id = await _active(client, ours)
    base = f"/api/v1/sequences/{sequence_id}"
    enrolled = await client.post(
        f"{base}/enrolments", json={"customer_ids": [ada.id]}, headers=bearer(ours)
    )
    enrolment_id = enrolled.json()["results"][0]["enrolment_id"]
    other = await create_workspace(core, "Other Co")
    theirs = bearer(await api_token(core, other.id))
    who = {"customer_id": ada.id}
    for method, path, body in [
        ("GET", base, None),
        ("PUT", base, BODY),
        ("POST", f"{base}/pause", None),
        ("POST", f"{base}/archive", None),
        ("GET", f"{base}/enrolments", None),
        ("POST", f"{base}/enrolments", {"customer_ids": [ada.id]}),
        ("DELETE", f"{base}/enrolments/{enrolment_id}", None),
        ("GET", f"{base}/stats", None),
        ("POST", f"{base}/steps/welcome/render", who),
        ("POST", f"{base}/dry-run", who),
        ("POST", f"{base}/test", {**who, "step_id": "welcome"}),
    ]:
        answer = await client.request(method, path, json=body, headers=theirs)
        assert answer.status_code == 404, (method, path, answer.text)
    assert (await client.get("/api/v1/sequences", headers=theirs)).json()["items"] == []
    # Their own sequence cannot reach our customer nor be aimed with our segment.
    own = await _active(client, (await api_token(core, other.id)))
    reach = await client.post(
        f"/api/v1/sequences/{own}/enrolments", json={"customer_ids": [ada.id]}, headers=theirs
    )
    assert reach.json()["results"][0]["reason"] == "not_found"
    aimed = await client.post(
        f"/api/v1/sequences/{own}/enrolments", json={"segment_id": vip.id}, headers=theirs
    )
    assert aimed.status_code == 422 and aimed.json()["error"]["field"] == "segment_id"
    goal = await client.post(
        "/api/v1/sequences", json={**BODY, "goal": {"segment_id": vip.id}}, headers=theirs
    )
    assert goal.status_code == 422 and goal.json()["error"]["field"] == "goal.segment_id"
    doc = await sequences(core).find_one({"_id": sequence_id})
    assert doc is not None and doc["status"] == "active"
    assert await enrolments(core).count_documents({}) == 1  # ours (skipped: no channel)


OPERATOR = {"$gt": ""}


async def test_user_json_never_reaches_mongodb_as_an_operator(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    token = bearer(await api_token(core, workspace_id))
    await customer(core, workspace_id, "ada", name="Ada")
    sequence_id = await _active(client, await api_token(core, workspace_id))
    base = f"/api/v1/sequences/{sequence_id}"
    cases: list[tuple[str, str, Any, str]] = [
        ("POST", f"{base}/enrolments", {"customer_ids": [OPERATOR]}, "customer_ids.0"),
        ("POST", f"{base}/enrolments", {"segment_id": OPERATOR}, "segment_id"),
        ("POST", f"{base}/steps/welcome/render", {"customer_id": OPERATOR}, "customer_id"),
        ("POST", f"{base}/dry-run", {"customer_id": OPERATOR}, "customer_id"),
        ("POST", f"{base}/test", {"customer_id": "ada", "step_id": OPERATOR}, "step_id"),
        ("POST", "/api/v1/sequences", {**BODY, "goal": {"segment_id": OPERATOR}},
         "goal.segment_id"),
        ("POST", "/api/v1/sequences",
         {**BODY, "steps": [{"id": "b", "type": "branch", "then": "e",
                             "filter": {"field": "tags", "op": "in", "value": [OPERATOR]}},
                            {"id": "e", "type": "end"}]},
         "steps.0.filter"),
        ("POST", "/api/v1/sequences", {**BODY, "steps": [{"id": OPERATOR, "type": "end"}]},
         "steps.0.id"),
    ]  # fmt: skip
    for method, path, body, field in cases:
        answer = await client.request(method, path, json=body, headers=token)
        assert answer.status_code == 422, (path, body, answer.text)
        assert answer.json()["error"]["field"].startswith(field), (field, answer.text)
    listed = await client.get(f"{base}/enrolments", params={"state": "{\"$ne\": null}"},
                              headers=token)  # fmt: skip
    assert listed.status_code == 422 and listed.json()["error"]["field"] == "state"
    assert (await client.get('/api/v1/sequences/{"$ne":null}', headers=token)).status_code == 404
    assert await enrolments(core).count_documents({}) == 0
    assert await sequences(core).count_documents({}) == 1


REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 as one number
    "http://0x7f.0.0.1/hook",
    "http://127.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://localhost:8000/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://100.100.100.200/latest/meta-data",
    "http://10.0.0.5/erp",
    "http://192.168.1.1/admin",
    "http://user:pw@example.com/hook",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_INFO",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
async def test_a_webhook_cannot_be_aimed_inside_the_network(
    core: Core, client: httpx.AsyncClient, workspace_id: str, url: str
) -> None:
    token = bearer(await api_token(core, workspace_id))
    steps = [{"id": "hook", "type": "webhook", "url": url}]
    answer = await client.post("/api/v1/sequences", json={**BODY, "steps": steps}, headers=token)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "steps.0.url"
    sequence_id = await _active(client, await api_token(core, workspace_id))
    edit = await client.put(
        f"/api/v1/sequences/{sequence_id}", json={**BODY, "steps": steps}, headers=token
    )
    assert edit.status_code == 422 and edit.json()["error"]["field"] == "steps.0.url"


async def test_agents_are_refused_and_marketers_need_the_csrf_token(
    cast: Cast, browser: Callable[..., Any]
) -> None:
    mary = await browser("mary")
    forged = await mary.api("POST", "/sequences", json=BODY, headers={"X-CSRF-Token": ""})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
    made = await mary.api("POST", "/sequences", json=BODY)
    assert made.status_code == 201, made.text
    sequence_id = made.json()["id"]
    alice = await browser("alice")
    for method, path in [
        ("GET", "/sequences"),
        ("GET", f"/sequences/{sequence_id}/stats"),
        ("POST", "/sequences"),
        ("PUT", f"/sequences/{sequence_id}"),
        ("POST", f"/sequences/{sequence_id}/activate"),
    ]:
        answer = await alice.api(method, path, json=BODY)
        assert answer.status_code == 403, (method, path, answer.text)
    anonymous = await browser()
    assert (await anonymous.api("GET", "/sequences")).status_code == 401
