"""The webhooks API with an API token: subscribing (the secret shown once, sealed at rest),
refusals named by field, the delivery log in cursor pages, redelivery and rotation; and the
page's lane, for admins only."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook

from kith.core.clock import ManualClock
from kith.core.consumers import ConsumerWorker
from kith.core.context import Core
from kith.core.egress import EgressPolicy, http_client
from kith.core.models import Channel
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.web.inbox.i18n import messages
from kith.webhooks.models import UNREACHABLE
from kith.webhooks.store import endpoints
from kith.webhooks.worker import DeliveryWorker
from tests.support.cast import inbound
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    app,
    browser,
    cast,
    cheap_password_hashing,
)
from tests.webhooks.conftest import Receiver, auth, post


async def subscribe(client: httpx.AsyncClient, token: str, url: str, **body: Any) -> httpx.Response:
    return await post(client, token, "", json={"url": url, "events": ["message.created"], **body})


async def test_the_secret_is_shown_once_and_sealed_at_rest(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    made = await subscribe(client, token, receiver.url, description="CRM sync")
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    Webhook(secret)  # the library reads it
    endpoint_id = made.json()["id"]
    shown = await client.get(f"/api/v1/webhooks/{endpoint_id}", headers=auth(token))
    listed = await client.get("/api/v1/webhooks", headers=auth(token))
    for answer in (shown, listed):
        assert answer.status_code == 200 and secret not in answer.text
        assert "secret" not in answer.text
    assert listed.json()["items"][0]["description"] == "CRM sync"
    doc = await endpoints(hooked).find_one({"_id": endpoint_id})
    assert doc is not None and doc["secrets_sealed"] and secret[6:] not in str(doc)


async def test_unknown_event_types_and_bad_urls_are_refused_by_field(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    for events in (["message.created", "message.exploded"], [], ["conversation.*"]):
        answer = await post(client, token, "", json={"url": receiver.url, "events": events})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == "events"
    for url in ("ftp://example.com/x", "http://user:pw@127.0.0.1/x", "not a url at all"):
        answer = await post(client, token, "", json={"url": url, "events": ["*"]})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == "url"
    every = await post(client, token, "", json={"url": receiver.url, "events": ["*"]})
    assert every.status_code == 201 and every.json()["events"] == ["*"]


class TestPrivateTargets:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        """Nothing private allowed, as in a default install."""
        return settings.model_copy(update={"egress_allow": None})

    async def test_a_private_url_is_refused_when_subscribed(
        self, hooked: Core, client: httpx.AsyncClient, token: str
    ) -> None:
        for url in ("http://127.0.0.1:9/x", "http://169.254.169.254/latest", "http://[::1]/x"):
            answer = await subscribe(client, token, url)
            assert answer.status_code == 422, answer.text
            error = answer.json()["error"]
            assert (error["field"], error["code"]) == ("url", "egress_refused")


async def test_a_target_refused_at_delivery_leaks_nothing_in_the_log(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    workspace_id: str,
    channel: Channel,
    receiver: Receiver,
) -> None:
    """A name that was public when subscribed and private later (DNS rebinding): refused at
    delivery time, with the same words as any unreachable endpoint and no timing."""
    endpoint_id = (await subscribe(client, token, receiver.url)).json()["id"]
    await hooked.http.aclose()
    hooked.http = http_client(EgressPolicy())  # loopback no longer allowed
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await ConsumerWorker(hooked).drain()
    await DeliveryWorker(hooked).run_once()
    log = await client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries", headers=auth(token))
    [row] = log.json()["items"]
    assert (row["status"], row["attempts"], row["last_error"]) == ("pending", 1, UNREACHABLE)
    assert (row["response_status"], row["latency_ms"]) == (None, None)
    assert receiver.requests == []


async def test_the_log_pages_and_a_delivery_is_sent_again_by_hand(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    channel: Channel,
    receiver: Receiver,
    clock: ManualClock,
) -> None:
    made = (await subscribe(client, token, receiver.url)).json()
    for n in range(3):
        clock.advance(1)
        await ingest(hooked, channel, inbound(channel, "ada", f"m{n}", message_id=f"m{n}"))
    await ConsumerWorker(hooked).drain()
    await DeliveryWorker(hooked).drain()
    base = f"/api/v1/webhooks/{made['id']}/deliveries"
    first = (await client.get(f"{base}?limit=2", headers=auth(token))).json()
    rest = await client.get(f"{base}?limit=2&cursor={first['next_cursor']}", headers=auth(token))
    rows = first["items"] + rest.json()["items"]
    assert [r["payload"]["data"]["text"] for r in rows] == ["m2", "m1", "m0"]  # latest first
    assert rest.json()["next_cursor"] is None
    assert all((r["status"], r["response_status"]) == ("succeeded", 200) for r in rows)

    again = await post(client, token, f"/{made['id']}/deliveries/{rows[0]['id']}/redeliver")
    assert again.status_code == 202 and again.json()["status"] == "pending"
    receiver.statuses = [500]
    await DeliveryWorker(hooked).drain()
    resent = receiver.requests[-1]
    assert resent.headers["webhook-id"] == rows[0]["id"]
    Webhook(made["secret"]).verify(resent.body, resent.headers)
    after = (await client.get(f"{base}?status=failed", headers=auth(token))).json()["items"]
    # a manual redelivery is one attempt: failed at once, no retry scheduled
    assert [(r["id"], r["attempts"], r["next_attempt_at"]) for r in after] == [
        (rows[0]["id"], 2, None)
    ]
    missing = await post(client, token, f"/{made['id']}/deliveries/nope/redeliver")
    assert missing.status_code == 404


async def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(
    hooked: Core,
    client: httpx.AsyncClient,
    token: str,
    channel: Channel,
    receiver: Receiver,
) -> None:
    made = (await subscribe(client, token, receiver.url)).json()
    rotated = await post(client, token, f"/{made['id']}/rotate-secret")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != made["secret"] and new.startswith("whsec_")
    await ingest(hooked, channel, inbound(channel, "ada", "hello"))
    await ConsumerWorker(hooked).drain()
    await DeliveryWorker(hooked).drain()
    [request] = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    for secret in (new, made["secret"]):
        Webhook(secret).verify(request.body, request.headers)


async def test_patch_and_delete(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    made = (await subscribe(client, token, receiver.url)).json()
    path = f"/api/v1/webhooks/{made['id']}"
    changed = await client.patch(
        path,
        json={"events": ["segment.entered", "segment.left"], "enabled": False},
        headers=auth(token),
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["events"], changed.json()["enabled"]) == (
        ["segment.entered", "segment.left"],
        False,
    )
    bad = await client.patch(path, json={"events": ["nope"]}, headers=auth(token))
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "events"
    assert (await client.delete(path, headers=auth(token))).status_code == 204
    assert (await client.get(path, headers=auth(token))).status_code == 404
    assert (await client.get(path)).status_code == 401


async def test_enabled_is_a_real_boolean(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    """Regression (QA sequences, suggestions): `{"enabled": "yes"}` was read as true."""
    made = (await subscribe(client, token, receiver.url)).json()
    path = f"/api/v1/webhooks/{made['id']}"
    await client.patch(path, json={"enabled": False}, headers=auth(token))
    for loose in ("yes", "true", 1):
        answer = await client.patch(path, json={"enabled": loose}, headers=auth(token))
        assert answer.status_code == 422, answer.text
        assert (answer.json()["error"]["field"], answer.json()["error"]["reason"]) == (
            "enabled",
            "bool_type",
        )
    assert (await client.get(path, headers=auth(token))).json()["enabled"] is False


async def test_refusals_carry_a_reason_the_page_words_in_both_languages(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    """Regression (QA sequences #8): "events: List should have at least 1 item…" in Chinese."""
    cases = [
        ({"url": receiver.url, "events": []}, "events", "too_short", {"min_length": 1}),
        ({"url": receiver.url, "events": ["message.exploded"]}, "events", "unknown_event_type",
         {"types": "message.exploded"}),
        ({"url": "http://user:pw@127.0.0.1/x", "events": ["*"]}, "url", "url_credentials", {}),
    ]  # fmt: skip
    for body, field, reason, values in cases:
        error = (await post(client, token, "", json=body)).json()["error"]
        assert (error["field"], error["reason"]) == (field, reason), error
        assert error["limits"] | values == error["limits"]
        assert messages("zh")[f"reason_{reason}"] != messages("en")[f"reason_{reason}"]
    assert "至少 1 项" in messages("zh")["reason_too_short"].format(min_length=1)


async def test_a_body_not_sent_as_json_is_refused_for_its_content_type(
    hooked: Core, client: httpx.AsyncClient, token: str, receiver: Receiver
) -> None:
    body = json.dumps({"url": receiver.url, "events": ["*"]})
    headers = auth(token) | {"content-type": "text/plain"}
    answer = await client.post("/api/v1/webhooks", content=body, headers=headers)
    assert answer.status_code == 415, answer.text
    assert answer.json()["error"]["code"] == "unsupported_media_type"


async def test_event_types_are_listed(hooked: Core, client: httpx.AsyncClient, token: str) -> None:
    answer = await client.get("/api/v1/webhooks/event-types", headers=auth(token))
    kinds = [e["type"] for e in answer.json()]
    assert "message.created" in kinds and "order.updated" in kinds


class TestPageLane:
    """The page's `/app/api/webhooks`: admins only."""

    @pytest.fixture(autouse=True)
    def with_webhooks(self, hooked: Core) -> None:
        """Installed before the app is built (autouse fixtures come first)."""

    async def test_only_admins_manage_webhooks(
        self,
        cast: Any,  # noqa: F811 (the fixture imported above)
        browser: Callable[..., Any],  # noqa: F811
        receiver: Receiver,
    ) -> None:
        admin = await browser("admin")
        made = await admin.api(
            "POST", "/webhooks", json={"url": receiver.url, "events": ["message.created"]}
        )
        assert made.status_code == 201, made.text
        assert made.json()["secret"].startswith("whsec_")
        for name in ("alice", "mary"):
            other = await browser(name)
            assert (await other.api("GET", "/webhooks")).status_code == 403
            refused = await other.api(
                "POST", "/webhooks", json={"url": receiver.url, "events": ["*"]}
            )
            assert refused.status_code == 403
            page = await other.http.get("/app/webhooks")
            assert page.status_code == 403
            assert "/app/webhooks" not in (await other.http.get("/app/contacts")).text
        page = await admin.http.get("/app/webhooks")
        assert page.status_code == 200 and 'href="/app/webhooks"' in page.text
        forged = await admin.http.post(  # a write without the session's CSRF token
            "/app/api/webhooks", json={"url": receiver.url, "events": ["*"]}
        )
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
