"""Regressions (QA pass 4, M6): a draft is edited in place (PATCH, all of it or nothing, a
draft only), a past `send_by` is refused when saved, and an audience is estimated before the
send with the policy the send obeys (in the audience, reachable, consented, skip reasons)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from kith.broadcasts import estimate as estimating
from kith.consent.actions import do_change_consent
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import ConsentState, Customer
from kith.segments.records import do_create_segment
from tests.broadcasts.test_api import auth, draft


async def no_channel_customer(http: httpx.AsyncClient, token: str, name: str) -> str:
    """A customer imported by hand: no identity on any channel."""
    made = await http.post(
        "/api/v1/customers", json={"name": name, "tags": ["vip"]}, headers=auth(token)
    )
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_a_draft_is_edited_in_place_and_the_edit_recorded(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    ada, bo = await people(2)
    made = (await draft(client, token, customer_ids=[ada.id])).json()
    url = f"/api/v1/broadcasts/{made['id']}"
    text = {"en": "Hi {{ customer.name }}", "zh": "嗨 {{ customer.name }}"}
    change = {"name": "Summer sale", "customer_ids": [ada.id, bo.id], "message": {"text": text}}
    answer = await client.patch(url, json=change, headers=auth(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["name"], body["customer_ids"], body["status"]) == (
        "Summer sale",
        [ada.id, bo.id],
        "draft",
    )
    assert body["message"]["text"] == text and body["channels"] == ["api"]  # the rest is kept
    read = (await client.get(url, headers=auth(token))).json()
    assert read["name"] == "Summer sale"
    event = await bcore.store.events.find_one({"type": "broadcast.updated"})
    assert event is not None
    assert event["data"] == {"broadcast_id": made["id"], "fields": "customer_ids,message,name"}

    # Another audience replaces the list; a save changing nothing records nothing more.
    segment = await do_create_segment(
        bcore, ada.workspace_id, "vip", {"field": "tags", "op": "contains", "value": "vip"}
    )
    moved = await client.patch(url, json={"segment_id": segment.id}, headers=auth(token))
    assert moved.status_code == 200, moved.text
    assert (moved.json()["segment_id"], moved.json()["customer_ids"]) == (segment.id, None)
    again = await client.patch(url, json={"segment_id": segment.id}, headers=auth(token))
    assert again.status_code == 200
    assert await bcore.store.events.count_documents({"type": "broadcast.updated"}) == 2


async def test_an_edit_wrong_anywhere_changes_nothing_and_names_the_field(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    made = (await draft(client, token, customer_ids=[ada.id])).json()
    url = f"/api/v1/broadcasts/{made['id']}"
    cases = [
        ({"name": "New", "channels": ["pigeon"]}, "channels.0"),
        ({"name": "New", "customer_ids": ["nobody"]}, "customer_ids.0"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": "New", "colour": "red"}, "colour"),
        ({"name": "New", "message": {"text": {"en": "{{ customer.nmae }}"}}}, "message.text.en"),
        ({"send_at": "2027-01-02T09:00:00Z", "send_by": "2027-01-01T09:00:00Z"}, "send_by"),
    ]
    for change, field in cases:
        answer = await client.patch(url, json=change, headers=auth(token))
        assert answer.status_code == 422, (change, answer.text)
        assert answer.json()["error"]["field"] == field, (change, answer.text)
    kept = (await client.get(url, headers=auth(token))).json()
    assert (kept["name"], kept["channels"], kept["send_by"]) == ("Spring sale", ["api"], None)
    assert await bcore.store.events.count_documents({"type": "broadcast.updated"}) == 0


async def test_only_a_draft_is_edited(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    made = (
        await draft(client, token, customer_ids=[ada.id], send_at="2027-01-01T09:00:00Z")
    ).json()
    url = f"/api/v1/broadcasts/{made['id']}"
    assert (await client.post(f"{url}/schedule", headers=auth(token))).status_code == 200
    refused = await client.patch(url, json={"name": "Late change"}, headers=auth(token))
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert (error["field"], error["reason"], error["limits"]) == (
        "status",
        "not_a_draft",
        {"status": "scheduled"},
    )
    assert (await client.get(url, headers=auth(token))).json()["name"] == "Spring sale"
    missing = await client.patch("/api/v1/broadcasts/nope", json={}, headers=auth(token))
    assert missing.status_code == 404


async def test_a_past_send_by_is_refused_on_save_with_a_reason(
    bcore: Core,
    client: httpx.AsyncClient,
    token: str,
    people: Callable[..., Any],
    clock: ManualClock,
) -> None:
    """Regression (QA pass 4, M6): `send_by` 2020-01-01 was accepted when saved, then
    refused only when scheduled, in English on the Chinese page."""
    (ada,) = await people(1)
    past = (clock.now() - timedelta(minutes=1)).isoformat()
    created = await draft(client, token, customer_ids=[ada.id], send_by=past)
    assert created.status_code == 422, created.text
    error = created.json()["error"]
    assert (error["field"], error["reason"]) == ("send_by", "send_by_passed")
    assert await bcore.store.collection("broadcasts").count_documents({}) == 0

    soon = (clock.now() + timedelta(hours=1)).replace(microsecond=0).isoformat()
    made = (await draft(client, token, customer_ids=[ada.id], send_by=soon)).json()
    url = f"/api/v1/broadcasts/{made['id']}"
    patched = await client.patch(url, json={"send_by": past}, headers=auth(token))
    assert patched.status_code == 422
    assert patched.json()["error"]["reason"] == "send_by_passed"
    same = await client.patch(url, json={"send_by": soon}, headers=auth(token))
    assert same.status_code == 200, same.text  # the stored time read back equals the given
    assert await bcore.store.events.count_documents({"type": "broadcast.updated"}) == 0
    clock.advance(2 * 3600)  # the deadline went by while it was a draft: scheduling says why
    late = await client.post(f"{url}/schedule", headers=auth(token))
    assert (late.status_code, late.json()["error"]["reason"]) == (422, "send_by_passed")


async def test_the_estimate_counts_reachable_and_consented_and_says_why_not(
    bcore: Core,
    client: httpx.AsyncClient,
    token: str,
    people: Callable[..., Any],
    workspace_id: str,
) -> None:
    """Regression (QA pass 4, M6): "上海会员周末特惠" targeted 6 and skipped 5 for "no reachable
    channel", which nothing said before the send."""
    reachable = await people(3)
    for customer in reachable:
        tagged = await client.patch(
            f"/api/v1/customers/{customer.id}", json={"tags": ["vip"]}, headers=auth(token)
        )
        assert tagged.status_code == 200, tagged.text
    await do_change_consent(bcore, reachable[0], "api", ConsentState.revoked, "keyword")
    for name in ("Wu", "Zhao"):
        await no_channel_customer(client, token, name)
    segment = await do_create_segment(
        bcore, workspace_id, "vip", {"field": "tags", "op": "contains", "value": "vip"}
    )
    made = (await draft(client, token, segment_id=segment.id)).json()
    saved = await client.get(f"/api/v1/broadcasts/{made['id']}/estimate", headers=auth(token))
    assert saved.status_code == 200, saved.text
    figures = saved.json()
    assert figures == {
        "in_audience": 5,
        "capped": False,
        "checked": 5,
        "sampled": False,
        "reachable": 3,
        "consented": 2,
        "held": 0,
        "skipped": [
            {"reason": "no_reachable_channel", "count": 2},
            {"reason": "no_consent", "count": 1},
        ],
    }
    unsaved = await client.post(
        "/api/v1/broadcasts/estimate",
        json={"segment_id": segment.id, "channels": ["api"]},
        headers=auth(token),
    )
    assert unsaved.json() == figures
    # Nothing was sent, and no daily slot taken.
    assert await bcore.store.collection("broadcast_recipients").count_documents({}) == 0
    assert await bcore.store.collection("courtesy_slots").count_documents({}) == 0


async def test_the_estimate_of_a_large_audience_is_a_sample_and_says_so(
    bcore: Core, client: httpx.AsyncClient, token: str, workspace_id: str
) -> None:
    """The policy is asked about `SAMPLE` customers at most, the first by id; the audience is
    still counted whole."""
    now = bcore.clock.now()
    crowd = [
        Customer(id=f"crowd-{n:04d}", workspace_id=workspace_id, tags=["many"], first_seen=now)
        for n in range(estimating.SAMPLE + 1)
    ]
    await bcore.store.customers.insert_many([c.to_doc() for c in crowd])
    segment = await do_create_segment(
        bcore, workspace_id, "many", {"field": "tags", "op": "contains", "value": "many"}
    )
    answer = await client.post(
        "/api/v1/broadcasts/estimate",
        json={"segment_id": segment.id, "channels": ["api"]},
        headers=auth(token),
    )
    body = answer.json()
    assert (body["in_audience"], body["checked"], body["sampled"]) == (301, 300, True)
    assert body["skipped"] == [{"reason": "no_reachable_channel", "count": 300}]


async def test_estimate_input_errors_name_the_field(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    cases = [
        ({"channels": ["api"]}, "segment_id"),
        ({"segment_id": "missing", "channels": ["api"]}, "segment_id"),
        ({"customer_ids": ["nobody"], "channels": ["api"]}, "customer_ids.0"),
        ({"customer_ids": [ada.id], "channels": ["pigeon"]}, "channels.0"),
        ({"customer_ids": [ada.id], "channels": []}, "channels"),
    ]
    for body, field in cases:
        answer = await client.post("/api/v1/broadcasts/estimate", json=body, headers=auth(token))
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"] == field, (body, answer.text)
