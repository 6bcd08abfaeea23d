"""The sequences API: drafts checked on save, versions, moves, enrolment (inline and as a
job), removal, render, dry run and test sends, through HTTP with an API token."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.jobs import JobWorker
from kith.core.models import ConsentState
from kith.core.settings import Settings
from kith.sequences.store import enrolments, get_version, runs
from tests.segments.conftest import segment
from tests.sequences.conftest import WELCOME, People
from tests.support.cast import api_token

PRIVATE_ALLOWED = "10.0.0.0/8"  # an operator's on-premise range; loopback is not allowed here


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Loopback refused (the suite allows it for its fakes), 10/8 allowed."""
    return settings.model_copy(update={"egress_allow": PRIVATE_ALLOWED})


@pytest.fixture
async def token(score: Core, workspace_id: str) -> str:
    return await api_token(score, workspace_id)


def auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def welcome(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(WELCOME), **changes}


async def create(http: httpx.AsyncClient, token: str, **changes: Any) -> httpx.Response:
    return await http.post("/api/v1/sequences", json=welcome(**changes), headers=auth(token))


async def active(http: httpx.AsyncClient, token: str, **changes: Any) -> str:
    made = await create(http, token, **changes)
    assert made.status_code == 201, made.text
    sequence_id = str(made.json()["id"])
    moved = await http.post(f"/api/v1/sequences/{sequence_id}/activate", headers=auth(token))
    assert moved.status_code == 200, moved.text
    return sequence_id


async def test_a_draft_is_saved_edited_in_place_and_versioned_once_active(
    score: Core, client: httpx.AsyncClient, token: str
) -> None:
    made = await create(client, token)
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["status"], body["version"]) == ("draft", 1)
    assert body["steps"][1] == {"id": "pause", "type": "wait", "duration": "P1D", "until": None}
    base = f"/api/v1/sequences/{body['id']}"
    edited = await client.put(base, json=welcome(name="Hello"), headers=auth(token))
    assert (edited.json()["name"], edited.json()["version"]) == ("Hello", 1)
    await client.post(f"{base}/activate", headers=auth(token))
    shorter = welcome(steps=WELCOME["steps"][:1])
    again = await client.put(base, json=shorter, headers=auth(token))
    assert again.status_code == 200, again.text
    assert (again.json()["version"], again.json()["status"]) == (2, "active")
    assert len((await get_version(score, body["id"], 1)).steps) == 3
    assert len((await get_version(score, body["id"], 2)).steps) == 1
    listed = await client.get("/api/v1/sequences", headers=auth(token))
    assert [s["id"] for s in listed.json()["items"]] == [body["id"]]
    got = await client.get(base, headers=auth(token))
    assert got.json()["version"] == 2


async def test_moves_follow_the_states_and_a_refused_one_lists_the_allowed(
    score: Core, client: httpx.AsyncClient, token: str
) -> None:
    base = f"/api/v1/sequences/{(await create(client, token)).json()['id']}"
    refused = await client.post(f"{base}/pause", headers=auth(token))
    assert refused.status_code == 409
    assert refused.json()["error"]["limits"] == {
        "status": "draft",
        "allowed": ["active", "archived"],
    }
    for action, status in [("activate", "active"), ("pause", "paused"), ("activate", "active")]:
        answer = await client.post(f"{base}/{action}", headers=auth(token))
        assert answer.json()["status"] == status, answer.text
    assert (await client.post(f"{base}/archive", headers=auth(token))).json()[
        "status"
    ] == "archived"
    again = await client.post(f"{base}/activate", headers=auth(token))
    assert again.status_code == 409
    assert again.json()["error"]["limits"]["allowed"] == []
    edit = await client.put(base, json=welcome(), headers=auth(token))
    assert edit.status_code == 409
    assert edit.json()["error"]["field"] == "status"


def _send(step_id: str, text: str) -> dict[str, Any]:
    return {"id": step_id, "type": "send", "message": {"text": {"en": text}}}


BAD_INPUT = [
    ([_send("a", "Hi {{ customer.nmae }}")], "steps.0.message.text.en"),
    ([_send("a", "Hi {{ customer.name ")], "steps.0.message.text.en"),
    ([_send("a", "x"), {"id": "b", "type": "branch", "since": "clicked", "then": "z"}],
     "steps.1.then"),
    ([_send("a", "x"), {"id": "b", "type": "branch", "since": "clicked", "then": "a"}],
     "steps.1.then"),
    ([{"id": "w", "type": "wait", "duration": "P400D"}], "steps.0.duration"),
    ([{"id": "w", "type": "wait", "duration": "PT0S"}], "steps.0.duration"),
    ([{"id": "w", "type": "wait", "duration": "PT0.5S"}], "steps.0.duration"),
    ([{"id": "w", "type": "wait"}], "steps.0"),
    ([{"id": "h", "type": "webhook", "url": "http://127.0.0.1:8080/x"}], "steps.0.url"),
    ([{"id": "h", "type": "webhook", "url": "http://2130706433/x"}], "steps.0.url"),
    ([{"id": "h", "type": "webhook", "url": "http://169.254.169.254/latest"}], "steps.0.url"),
    ([{"id": "h", "type": "webhook", "url": "ftp://10.0.0.1/x"}], "steps.0.url"),
    ([{"id": "n", "type": "notify_team", "team_id": "nope", "text": "hi"}], "steps.0.team_id"),
    ([_send("a", "x"), _send("a", "y")], "steps.1.id"),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "field"), BAD_INPUT)
async def test_bad_steps_are_refused_naming_the_field(
    score: Core, client: httpx.AsyncClient, token: str, steps: list[Any], field: str
) -> None:
    answer = await create(client, token, steps=steps)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field, answer.text


async def test_goal_triggers_and_channels_must_exist(
    score: Core, client: httpx.AsyncClient, token: str
) -> None:
    cases = [
        ({"goal": {"segment_id": "nope"}}, "goal.segment_id"),
        ({"triggers": [{"kind": "segment_entered", "value": "nope"}]}, "triggers.0.value"),
        ({"triggers": [{"kind": "tag_added"}]}, "triggers.0.value"),
        ({"channels": ["pigeon"]}, "channels.0"),
        ({"name": ""}, "name"),
    ]
    for changes, field in cases:
        answer = await create(client, token, **changes)
        assert answer.status_code == 422, changes
        assert answer.json()["error"]["field"] == field, answer.text


async def test_a_webhook_to_an_allowed_address_is_saved(
    score: Core, client: httpx.AsyncClient, token: str
) -> None:
    steps = [{"id": "h", "type": "webhook", "url": "http://10.1.2.3:8080/hook"}]
    answer = await create(client, token, steps=steps)
    assert answer.status_code == 201, answer.text


async def test_enrolling_by_ids_answers_each_customer(
    score: Core, client: httpx.AsyncClient, token: str, people: People
) -> None:
    ada, bob, cy = await people(3)
    revoked = {"consent.api": {"state": ConsentState.revoked.value, "at": score.clock.now()}}
    await score.store.customers.update_one({"_id": cy.id}, {"$set": revoked})
    sequence_id = await active(client, token)
    url = f"/api/v1/sequences/{sequence_id}/enrolments"
    ids = [ada.id, bob.id, cy.id, "nobody"]
    first = await client.post(url, json={"customer_ids": ids}, headers=auth(token))
    assert first.status_code == 200, first.text
    answers = {r["customer_id"]: (r["outcome"], r["reason"]) for r in first.json()["results"]}
    assert answers == {
        ada.id: ("enrolled", None),
        bob.id: ("enrolled", None),
        cy.id: ("skipped", "no_consent"),
        "nobody": ("skipped", "not_found"),
    }
    again = await client.post(url, json={"customer_ids": [ada.id]}, headers=auth(token))
    assert again.json()["results"][0]["outcome"] == "already"
    listed = await client.get(f"{url}?state=active&limit=1", headers=auth(token))
    page = listed.json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    item = page["items"][0]
    assert (item["state"], item["step_id"], item["reason"]) == ("active", "welcome", None)
    assert item["due_at"] is not None
    rest = await client.get(
        f"{url}?state=active&limit=1&cursor={page['next_cursor']}", headers=auth(token)
    )
    assert {item["customer_id"], rest.json()["items"][0]["customer_id"]} == {ada.id, bob.id}
    listed_names = {item["customer_name"], rest.json()["items"][0]["customer_name"]}
    assert listed_names == {ada.name, bob.name}  # the list shows people, not ids
    skipped = await client.get(f"{url}?state=skipped", headers=auth(token))
    assert [(e["customer_id"], e["reason"]) for e in skipped.json()["items"]] == [
        (cy.id, "no_consent")
    ]


async def test_a_draft_enrols_nobody(
    score: Core, client: httpx.AsyncClient, token: str, people: People
) -> None:
    (ada,) = await people(1)
    draft = (await create(client, token)).json()["id"]
    answer = await client.post(
        f"/api/v1/sequences/{draft}/enrolments",
        json={"customer_ids": [ada.id]},
        headers=auth(token),
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["field"] == "status"
    assert answer.json()["error"]["reason"] == "not_active"  # the pages word it (en/zh)


async def test_enrolling_a_segment_is_a_job_followed_to_its_end(
    score: Core, client: httpx.AsyncClient, token: str, workspace_id: str, people: People
) -> None:
    from kith.sequences import bulk

    made = await people(5)
    for customer in made[:4]:
        await score.store.customers.update_one({"_id": customer.id}, {"$set": {"tags": ["vip"]}})
    vip = await segment(score, workspace_id, {"field": "tags", "op": "contains", "value": "vip"})
    sequence_id = await active(client, token)
    url = f"/api/v1/sequences/{sequence_id}/enrolments"
    answer = await client.post(url, json={"segment_id": vip.id}, headers=auth(token))
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert (job["kind"], job["status"], job["progress"]["total"]) == ("sequence-enrol", "queued", 4)
    bulk.CHUNK, chunk = 3, bulk.CHUNK  # two steps
    try:
        assert await JobWorker(score).run_once(job["id"]) == 1
    finally:
        bulk.CHUNK = chunk
    followed = (await client.get(f"/api/v1/jobs/{job['id']}", headers=auth(token))).json()
    assert followed["status"] == "done", followed
    assert followed["progress"] == {"done": 4, "total": 4}
    assert followed["result"] == {"enrolled": 4}
    assert await enrolments(score).count_documents({"sequence_id": sequence_id}) == 4
    assert await score.store.collection(bulk.CURSORS).count_documents({}) == 0
    missing = await client.post(url, json={"segment_id": "nope"}, headers=auth(token))
    assert missing.status_code == 422
    assert missing.json()["error"]["field"] == "segment_id"


async def test_a_removed_customer_is_stopped_once(
    score: Core, client: httpx.AsyncClient, token: str, people: People
) -> None:
    (ada,) = await people(1)
    sequence_id = await active(client, token)
    url = f"/api/v1/sequences/{sequence_id}/enrolments"
    enrolled = await client.post(url, json={"customer_ids": [ada.id]}, headers=auth(token))
    enrolment_id = enrolled.json()["results"][0]["enrolment_id"]
    removed = await client.delete(f"{url}/{enrolment_id}", headers=auth(token))
    assert removed.status_code == 200, removed.text
    body = removed.json()
    assert (body["state"], body["reason"], body["step_id"], body["due_at"]) == (
        "stopped",
        "removed",
        None,
        None,
    )
    assert (await client.delete(f"{url}/{enrolment_id}", headers=auth(token))).status_code == 409
    other = await active(client, token)
    elsewhere = f"/api/v1/sequences/{other}/enrolments/{enrolment_id}"
    assert (await client.delete(elsewhere, headers=auth(token))).status_code == 404


async def test_render_uses_the_customers_language_and_names_a_failing_template(
    score: Core, client: httpx.AsyncClient, token: str, people: People
) -> None:
    (li,) = await people(1, prefix="zh", locale="zh-CN")
    text = {"en": "Hi {{ customer.name }}", "zh": "你好 {{ customer.attributes.city }}"}
    steps = [{"id": "welcome", "type": "send", "message": {"text": text}}]
    sequence_id = (await create(client, token, steps=steps)).json()["id"]
    url = f"/api/v1/sequences/{sequence_id}/steps/welcome/render"
    failed = await client.post(url, json={"customer_id": li.id}, headers=auth(token))
    assert failed.status_code == 200, failed.text
    assert failed.json()["field"] == "steps.0.message.text.zh"
    assert "city" in failed.json()["error"]
    assert failed.json()["error_reason"] == "template_missing_value"  # worded by the page
    assert failed.json()["error_limits"]["name"] == "city"
    await score.store.customers.update_one({"_id": li.id}, {"$set": {"attributes.city": "上海"}})
    rendered = (await client.post(url, json={"customer_id": li.id}, headers=auth(token))).json()
    assert (rendered["language"], rendered["text"], rendered["error"]) == ("zh", "你好 上海", None)
    nowhere = await client.post(
        f"/api/v1/sequences/{sequence_id}/steps/nope/render",
        json={"customer_id": li.id},
        headers=auth(token),
    )
    assert nowhere.status_code == 422
    assert nowhere.json()["error"]["field"] == "step_id"


async def test_a_test_send_goes_only_to_a_test_recipient_and_counts_nowhere(
    score: Core, client: httpx.AsyncClient, token: str, people: People
) -> None:
    me, customer = await people(2)
    await score.store.customers.update_one({"_id": me.id}, {"$set": {"tags": ["tester"]}})
    sequence_id = (await create(client, token)).json()["id"]
    url = f"/api/v1/sequences/{sequence_id}/test"
    refused = await client.post(
        url, json={"customer_id": customer.id, "step_id": "welcome"}, headers=auth(token)
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "customer_id"
    sent = await client.post(
        url, json={"customer_id": me.id, "step_id": "welcome"}, headers=auth(token)
    )
    assert sent.status_code == 200, sent.text
    message = await score.store.messages.find_one({"_id": sent.json()["message_id"]})
    assert message is not None
    assert (message["text"], message["purpose"]) == ("[TEST] Hi Person 0", "service")
    assert await runs(score).count_documents({}) == 0
    assert await enrolments(score).count_documents({}) == 0
    wait = await client.post(
        url, json={"customer_id": me.id, "step_id": "pause"}, headers=auth(token)
    )
    assert wait.status_code == 422 and wait.json()["error"]["field"] == "step_id"


async def test_a_dry_run_crosses_a_quiet_night_and_honours_the_daily_cap(
    score: Core, clock: ManualClock, client: httpx.AsyncClient, token: str, people: People
) -> None:
    (ada,) = await people(1)
    steps = [
        _send("welcome", "Hi"),
        {"id": "evening", "type": "wait", "duration": "PT10H"},
        _send("tip", "A tip"),
        {"id": "hour", "type": "wait", "duration": "PT1H"},
        _send("coupon", "A coupon"),
        _send("extra", "One more"),
        {"id": "replied", "type": "branch", "since": "replied", "then": "end"},
        _send("nudge", "Still there?"),
        {"id": "end", "type": "end"},
    ]
    # Without stop_on_reply, or its branch on "replied" is refused as never taken.
    made = await create(client, token, steps=steps, stop_on_reply=False)
    sequence_id = made.json()["id"]
    answer = await client.post(
        f"/api/v1/sequences/{sequence_id}/dry-run",
        json={"customer_id": ada.id},
        headers=auth(token),
    )
    assert answer.status_code == 200, answer.text
    plan = [(s["step_id"], s["at"], s["outcome"], s["reason"]) for s in answer.json()["steps"]]
    day1, day2 = "2026-01-01", "2026-01-02"
    assert clock.now().isoformat().startswith(f"{day1}T12:00")
    assert [(p[0], p[1][:16], p[2]) for p in plan] == [
        ("welcome", f"{day1}T12:00", "sent"),
        ("evening", f"{day1}T12:00", "waits"),
        ("tip", f"{day2}T09:00", "sent"),  # 22:00 is quiet until 09:00
        ("hour", f"{day2}T09:00", "waits"),
        ("coupon", f"{day2}T10:00", "sent"),
        ("extra", f"{day2}T10:00", "skipped"),  # the third marketing message of that day
        ("replied", f"{day2}T10:00", "taken"),
        ("nudge", f"{day2}T10:00", "skipped"),
        ("end", f"{day2}T10:00", "end"),
    ]
    assert plan[2][3].startswith("held for quiet_hours")
    assert plan[5][3] == "frequency_cap"
    assert plan[6][3] == "else: assumed not replied since enrolment"
    steps = answer.json()["steps"]  # the same, for a page to word in its language
    assert (steps[2]["held_for"], steps[2]["held_until"][:16]) == ("quiet_hours", f"{day2}T09:00")
    assert (steps[5]["skip_reason"], steps[1]["skip_reason"]) == ("frequency_cap", None)
    assert (steps[6]["branch"], steps[6]["branch_why"], steps[6]["since"]) == (
        "else",
        "assumed_not_since",
        "replied",
    )
    assert [s["sent"]["text"] for s in steps if s["type"] == "send"] == [
        "Hi",
        "A tip",
        "A coupon",
        "One more",  # what it would have said: skipped for the cap
        "Still there?",
    ]
    assert await enrolments(score).count_documents({}) == 0


async def test_a_segment_a_sequence_enrols_from_or_converts_on_cannot_be_deleted(
    score: Core, client: httpx.AsyncClient, token: str, workspace_id: str
) -> None:
    """Regression (QA marketer #3): deleting it would silently stop enrolments/conversions."""
    vip = {"field": "tags", "op": "contains", "value": "vip"}
    entry = await segment(score, workspace_id, vip, name="entry")
    goal = await segment(score, workspace_id, vip, name="goal")
    trigger = [{"kind": "segment_entered", "value": entry.id}]
    made = await create(client, token, triggers=trigger, goal={"segment_id": goal.id})
    assert made.status_code == 201, made.text
    for used in (entry, goal):
        answer = await client.delete(f"/api/v1/segments/{used.id}", headers=auth(token))
        assert answer.status_code == 409, answer.text
        assert made.json()["id"] in answer.json()["error"]["message"]
    archived = await client.post(
        f"/api/v1/sequences/{made.json()['id']}/archive", headers=auth(token)
    )
    assert archived.status_code == 200, archived.text
    answer = await client.delete(f"/api/v1/segments/{entry.id}", headers=auth(token))
    assert answer.status_code == 204
