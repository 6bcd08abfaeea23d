"""Regression (QA pass 7, minor 10): a broadcast's `send_at` already gone would send at once,
and the API took `2020-01-01T00:00:00Z` (201). It is refused on save, on edit and on
schedule (422 naming `send_at`, reason `send_at_passed`), beyond a minute's grace for the
clocks of the browser and the server; no `send_at` still means "when scheduled"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx

from kith.core.clock import ManualClock
from kith.core.context import Core
from tests.broadcasts.test_api import auth, draft


def refusal(answer: httpx.Response) -> list[tuple[str, str | None]]:
    assert answer.status_code == 422, answer.text
    return [(f["field"], f["reason"]) for f in answer.json()["error"]["fields"]]


async def test_a_past_send_at_is_refused_on_save_beyond_a_minutes_grace(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    now = bcore.clock.now()
    answer = await draft(client, token, customer_ids=[ada.id], send_at="2020-01-01T00:00:00Z")
    assert refusal(answer) == [("send_at", "send_at_passed")]
    assert answer.json()["error"]["limits"] == {"now": now.isoformat()}
    gone = (now - timedelta(minutes=2)).isoformat()
    assert refusal(await draft(client, token, customer_ids=[ada.id], send_at=gone)) == [
        ("send_at", "send_at_passed")
    ]
    # Refused with the others at once, each at its field.
    both = await draft(client, token, customer_ids=[ada.id], send_at=gone, channels=["sms"])
    assert refusal(both) == [("channels.0", "unknown_channel_type"), ("send_at", "send_at_passed")]
    assert (await client.get("/api/v1/broadcasts", headers=auth(token))).json()["items"] == []

    # Within the grace (a time picked as "this minute", sent seconds later): taken.
    late = (now - timedelta(seconds=30)).isoformat()
    made = await draft(client, token, customer_ids=[ada.id], send_at=late)
    assert made.status_code == 201, made.text
    unset = await draft(client, token, customer_ids=[ada.id])  # "when scheduled"
    assert unset.status_code == 201, unset.text
    assert unset.json()["send_at"] is None


async def test_a_draft_whose_send_at_passed_is_refused_on_edit_and_on_schedule(
    bcore: Core,
    clock: ManualClock,
    client: httpx.AsyncClient,
    token: str,
    people: Callable[..., Any],
) -> None:
    (ada,) = await people(1)
    soon = (bcore.clock.now() + timedelta(hours=1)).isoformat()
    made = await draft(client, token, customer_ids=[ada.id], send_at=soon)
    assert made.status_code == 201, made.text
    url = f"/api/v1/broadcasts/{made.json()['id']}"
    clock.advance(2 * 3600)  # its time went by while it was a draft

    scheduled = await client.post(f"{url}/schedule", headers=auth(token))
    assert refusal(scheduled) == [("send_at", "send_at_passed")]
    assert (await client.get(url, headers=auth(token))).json()["status"] == "draft"

    past = (bcore.clock.now() - timedelta(hours=1)).isoformat()
    edited = await client.patch(url, json={"send_at": past}, headers=auth(token))
    assert refusal(edited) == [("send_at", "send_at_passed")]

    # Cleared, it goes when scheduled.
    cleared = await client.patch(url, json={"send_at": None}, headers=auth(token))
    assert cleared.status_code == 200, cleared.text
    moved = await client.post(f"{url}/schedule", headers=auth(token))
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "scheduled"
