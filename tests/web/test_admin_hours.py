"""Settings → Business hours and its JSON: the SLA calendars (with named holidays) and the
courtesy quiet hours behind the session, for admins only, answering as `/api/v1` does.

alice is an agent, mary a marketer, admin the one admin (see `tests/web/conftest.py`).
"""

from __future__ import annotations

import pytest

from kith.core.context import Core
from kith.tickets.sla_models import PolicyIn
from kith.tickets.sla_store import save_policy
from tests.web.conftest import Cast

OFFICE = {
    "name": "Shanghai office",
    "zone": "Asia/Shanghai",
    "hours": {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], "fri": [["09:00", "17:00"]]},
    "holidays": ["2026-10-01", "2026-10-02"],
    "holiday_names": {"2026-10-01": "National Day · 国庆节"},
}


def fields_of(answer) -> dict[str, str]:
    return {f["field"]: f["reason"] for f in answer.json()["error"]["fields"]}


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_page_is_an_admins_in_either_language(cast: Cast, browser, lang: str) -> None:
    admin = await browser("admin")
    page = await admin.http.get(f"/app/admin/hours?lang={lang}")
    assert page.status_code == 200
    title, quiet, nav = {
        "en": ("Business hours (SLA calendars)", "Quiet hours", ">Business hours</a>"),
        "zh": ("营业时间（SLA 日历）", "免打扰时段", ">营业时间</a>"),
    }[lang]
    assert title in page.text and quiet in page.text and nav in page.text
    assert (await admin.http.get("/app/static/admin_hours.js")).status_code == 200
    assert (await admin.http.get("/app/static/admin_hours.css")).status_code == 200
    for name in ("alice", "mary"):
        other = await browser(name)
        assert (await other.http.get("/app/admin/hours")).status_code == 403
        assert "/app/admin/hours" not in (await other.http.get("/app/admin/account")).text


async def test_only_admins_read_or_write_and_writes_need_the_csrf_token(
    cast: Cast, browser
) -> None:
    for name in ("alice", "mary"):
        other = await browser(name)
        for method, path, body in (
            ("GET", "/sla/calendars", None),
            ("GET", "/sla/policies", None),
            ("GET", "/courtesy", None),
            ("POST", "/sla/calendars", OFFICE),
            ("PATCH", "/courtesy", {"quiet_start": "22:00"}),
        ):
            answer = await other.api(method, path, json=body)
            assert answer.status_code == 403, (name, method, path)
    admin = await browser("admin")
    admin.csrf = "wrong"
    answer = await admin.api("POST", "/sla/calendars", json=OFFICE)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "csrf"


async def test_an_admin_creates_edits_and_deletes_a_calendar_with_named_holidays(
    cast: Cast, browser
) -> None:
    admin = await browser("admin")
    made = await admin.api("POST", "/sla/calendars", json=OFFICE)
    assert made.status_code == 201, made.text
    calendar = made.json()
    assert calendar["holiday_names"] == {"2026-10-01": "National Day · 国庆节"}
    assert calendar["recompute_job_id"] is None
    listed = (await admin.api("GET", "/sla/calendars")).json()
    assert [c["id"] for c in listed] == [calendar["id"]]
    assert listed[0]["holidays"] == ["2026-10-01", "2026-10-02"]

    changed = {**OFFICE, "name": "Shanghai", "holidays": ["2026-10-02"], "holiday_names": {}}
    answer = await admin.api("PUT", f"/sla/calendars/{calendar['id']}", json=changed)
    assert answer.status_code == 200 and answer.json()["name"] == "Shanghai"
    gone = await admin.api("DELETE", f"/sla/calendars/{calendar['id']}")
    assert gone.status_code == 204
    assert (await admin.api("GET", "/sla/calendars")).json() == []


async def test_every_bad_field_of_a_calendar_is_named_at_once(cast: Cast, browser) -> None:
    admin = await browser("admin")
    bad = {
        "name": "",
        "zone": "Mars/Olympus",
        "hours": {"mon": [["9am", "17:00"]], "tue": [["09:00", ""]]},
        "holidays": ["2026-10-01", None],
        "holiday_names": {"2026-10-01": "x" * 101},
    }
    answer = await admin.api("POST", "/sla/calendars", json=bad)
    assert answer.status_code == 422
    assert set(fields_of(answer)) == {
        "name",
        "zone",
        "hours.mon.0.0",
        "hours.tue.0.1",
        "holidays.1",
        "holiday_names.2026-10-01",
    }
    stray = {**OFFICE, "holiday_names": {"2026-12-25": "Christmas"}}
    answer = await admin.api("POST", "/sla/calendars", json=stray)
    assert answer.status_code == 422 and "2026-12-25" in answer.json()["error"]["message"]
    assert (await admin.api("GET", "/sla/calendars")).json() == []


async def test_a_calendar_a_policy_uses_is_kept_and_the_policy_named(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    calendar = (await admin.api("POST", "/sla/calendars", json=OFFICE)).json()
    policy = PolicyIn.model_validate(
        {
            "name": "Standard",
            "calendar_id": calendar["id"],
            "targets": {"normal": {"first_reply": 60}},
        }
    )
    await save_policy(core, cast.workspace_id, policy)
    policies = (await admin.api("GET", "/sla/policies")).json()
    assert [(p["name"], p["calendar_id"]) for p in policies] == [("Standard", calendar["id"])]
    refused = await admin.api("DELETE", f"/sla/calendars/{calendar['id']}")
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "calendar_id"
    assert len((await admin.api("GET", "/sla/calendars")).json()) == 1


async def test_quiet_hours_change_and_keep_what_is_not_sent(cast: Cast, browser) -> None:
    admin = await browser("admin")
    first = (await admin.api("GET", "/courtesy")).json()
    assert first["quiet_start"].startswith("21:00") and first["daily_cap"] == 2
    await admin.api("PATCH", "/courtesy", json={"require_granted": ["email"]})
    answer = await admin.api(
        "PATCH",
        "/courtesy",
        json={
            "quiet_start": "22:30",
            "quiet_end": "08:00",
            "timezone": "Asia/Shanghai",
            "daily_cap": None,
        },
    )
    assert answer.status_code == 200, answer.text
    saved = (await admin.api("GET", "/courtesy")).json()
    assert saved["quiet_start"].startswith("22:30") and saved["quiet_end"].startswith("08:00")
    assert saved["timezone"] == "Asia/Shanghai" and saved["daily_cap"] is None
    assert saved["require_granted"] == ["email"]  # not on the page: kept

    bad = {"quiet_start": "25:00", "quiet_end": "x", "timezone": "Nowhere", "daily_cap": 0}
    answer = await admin.api("PATCH", "/courtesy", json=bad)
    assert answer.status_code == 422
    assert set(fields_of(answer)) == {"quiet_start", "quiet_end", "timezone", "daily_cap"}
    assert (await admin.api("GET", "/courtesy")).json() == saved
