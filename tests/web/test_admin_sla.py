"""Settings → SLA policies and its JSON: policies created, replaced and deleted behind the
session, for admins only, answering and refusing as `/api/v1/sla/policies` does.

alice is an agent, mary a marketer, admin the one admin (see `tests/web/conftest.py`).
"""

from __future__ import annotations

import pytest

from kith.core.context import Core
from kith.tickets.sla_store import policies
from tests.web.conftest import Cast

VIP = {
    "name": "VIP",
    "targets": {"high": {"first_reply": 90, "resolution": 480}},
    "warn_before_minutes": 30,
    "breach_actions": [{"type": "raise_priority"}],
}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_page_is_an_admins_in_either_language(cast: Cast, browser, lang: str) -> None:
    admin = await browser("admin")
    page = await admin.http.get(f"/app/admin/sla?lang={lang}")
    assert page.status_code == 200
    title, nav = {"en": ("New policy", ">SLA policies</a>"), "zh": ("新建策略", ">SLA 策略</a>")}[
        lang
    ]
    assert title in page.text and nav in page.text
    assert (await admin.http.get("/app/static/admin_sla.js")).status_code == 200
    assert (await admin.http.get("/app/static/admin_sla.css")).status_code == 200
    for name in ("alice", "mary"):
        other = await browser(name)
        assert (await other.http.get("/app/admin/sla")).status_code == 403


async def test_only_admins_write_and_writes_need_the_csrf_token(cast: Cast, browser) -> None:
    for name in ("alice", "mary"):
        other = await browser(name)
        for method, path, body in (
            ("POST", "/sla/policies", VIP),
            ("PUT", "/sla/policies/x", VIP),
            ("DELETE", "/sla/policies/x", None),
        ):
            answer = await other.api(method, path, json=body)
            assert answer.status_code == 403, (name, method, path)
    admin = await browser("admin")
    admin.csrf = "wrong"
    answer = await admin.api("POST", "/sla/policies", json=VIP)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "csrf"


async def test_an_admin_creates_replaces_and_deletes_a_policy(cast: Cast, browser) -> None:
    admin = await browser("admin")
    made = await admin.api("POST", "/sla/policies", json=VIP)
    assert made.status_code == 201, made.text
    policy = made.json()
    assert policy["targets"]["high"] == {"first_reply": 90, "next_reply": None, "resolution": 480}
    changed = {**VIP, "name": "VIP desk", "team_id": cast.users["sales"].id}
    replaced = await admin.api("PUT", f"/sla/policies/{policy['id']}", json=changed)
    assert replaced.status_code == 200, replaced.text
    listed = (await admin.api("GET", "/sla/policies")).json()
    assert [(p["name"], p["team_id"]) for p in listed] == [("VIP desk", cast.users["sales"].id)]
    gone = await admin.api("DELETE", f"/sla/policies/{policy['id']}")
    assert gone.status_code == 204
    assert (await admin.api("GET", "/sla/policies")).json() == []
    again = await admin.api("DELETE", f"/sla/policies/{policy['id']}")
    assert again.status_code == 404 and again.json()["error"]["field"] == "policy_id"


async def test_every_refused_field_is_named_at_once(cast: Cast, browser) -> None:
    """What the page marks at its boxes: the name, a target of no time, one over a year."""
    admin = await browser("admin")
    bad = {
        "name": "",
        "targets": {"high": {"first_reply": 0}, "low": {"resolution": 366 * 24 * 60 + 1}},
    }
    answer = await admin.api("POST", "/sla/policies", json=bad)
    assert answer.status_code == 422
    fields = {f["field"]: f["reason"] for f in answer.json()["error"]["fields"]}
    assert fields == {
        "name": "string_too_short",
        "targets.high.first_reply": "greater_than",
        "targets.low.resolution": "less_than_equal",
    }
    unknown = await admin.api("POST", "/sla/policies", json={**VIP, "calendar_id": "nope"})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "calendar_id"


async def test_the_default_policy_is_not_deleted_while_it_is_the_default(
    cast: Cast, browser
) -> None:
    """QA pass 10 M2: deleting the default left every open ticket without an SLA, in silence."""
    admin = await browser("admin")
    standard = (await admin.api("POST", "/sla/policies", json={**VIP, "default": True})).json()
    refused = await admin.api("DELETE", f"/sla/policies/{standard['id']}")
    assert refused.status_code == 409
    assert (refused.json()["error"]["field"], refused.json()["error"]["reason"]) == (
        "default",
        "default_policy",
    )
    assert [p["id"] for p in (await admin.api("GET", "/sla/policies")).json()] == [standard["id"]]
    other = await admin.api("POST", "/sla/policies", json={**VIP, "name": "Next", "default": True})
    assert other.status_code == 201
    gone = await admin.api("DELETE", f"/sla/policies/{standard['id']}")
    assert gone.status_code == 204


async def test_a_blank_or_taken_name_and_an_unknown_team_are_refused_at_once(
    cast: Cast, browser
) -> None:
    """QA pass 10 m1: the API took a name of spaces, a second "Standard" and a team that is
    not the workspace's."""
    admin = await browser("admin")
    assert (await admin.api("POST", "/sla/policies", json=VIP)).status_code == 201
    nobody = "000000000000000000000000"
    blank = await admin.api("POST", "/sla/policies", json={**VIP, "name": "   ", "team_id": nobody})
    assert blank.status_code == 422
    fields = {f["field"]: f["reason"] for f in blank.json()["error"]["fields"]}
    assert fields == {"name": "missing", "team_id": "no_team"}
    again = await admin.api("POST", "/sla/policies", json={**VIP, "name": " vip "})
    assert again.status_code == 422
    assert [(f["field"], f["reason"]) for f in again.json()["error"]["fields"]] == [
        ("name", "policy_name_taken")
    ]
    [vip] = (await admin.api("GET", "/sla/policies")).json()
    kept = await admin.api("PUT", f"/sla/policies/{vip['id']}", json={**VIP, "name": " VIP "})
    assert (kept.status_code, kept.json()["name"]) == (200, "VIP")  # its own name, trimmed


async def test_a_breach_action_naming_no_team_or_user_of_the_workspace_is_refused(
    cast: Cast, browser, core: Core
) -> None:
    """Before: any id was stored, and a breach then reassigned to nobody. A team or user
    the stored policy already named stays savable after it is deleted (the page shows it
    as removed); a new one must exist."""
    admin = await browser("admin")
    sales, alice = cast.users["sales"].id, cast.users["alice"].id
    actions = [
        {"type": "reassign", "team_id": "nope"},
        {"type": "notify_team", "team_id": sales},
        {"type": "reassign", "user_id": "nobody"},
    ]
    refused = await admin.api("POST", "/sla/policies", json={**VIP, "breach_actions": actions})
    assert refused.status_code == 422, refused.text
    fields = {(f["field"], f["reason"]) for f in refused.json()["error"]["fields"]}
    assert fields == {
        ("breach_actions.0.team_id", "no_team"),
        ("breach_actions.2.user_id", "no_user"),
    }
    good = [{"type": "reassign", "team_id": sales, "user_id": alice}]
    made = await admin.api("POST", "/sla/policies", json={**VIP, "breach_actions": good})
    assert made.status_code == 201, made.text
    policy = made.json()
    await policies(core).update_one(
        {"_id": policy["id"]}, {"$set": {"breach_actions.0.team_id": "deleted-team"}}
    )
    kept = [{"type": "reassign", "team_id": "deleted-team", "user_id": alice}]
    again = await admin.api(
        "PUT", f"/sla/policies/{policy['id']}", json={**VIP, "breach_actions": kept}
    )
    assert again.status_code == 200, again.text
    other = [{"type": "notify_team", "team_id": "another-gone"}]
    moved = await admin.api(
        "PUT", f"/sla/policies/{policy['id']}", json={**VIP, "breach_actions": other}
    )
    assert moved.status_code == 422 and moved.json()["error"]["reason"] == "no_team"
