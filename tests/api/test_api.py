"""The REST API and the API channel, end to end over HTTP."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from kith.core.conversations import get_conversation
from kith.core.models import Author, AuthorKind, Button, OutboundContent
from kith.core.outbox import OutboxWorker, send
from tests.api.conftest import ApiSetup
from tests.support.callbacks import CallbackServer


async def test_customer_message_reply_and_callback_round_trip(
    api: ApiSetup, core: Core, callbacks: CallbackServer
) -> None:
    answer = await api.say("u-7", "Is the blue one in stock?", message_id="ext-1")
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert receipt["duplicate"] is False

    listed = await api.http.get("/api/v1/conversations", headers=api.auth)
    [conversation] = listed.json()["items"]
    assert conversation["id"] == receipt["conversation_id"]
    assert conversation["status"] == "open" and conversation["unread_count"] == 1

    reply = await api.http.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"text": "Yes, two left."},
        headers=api.auth,
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["delivery"]["status"] == "pending"
    await OutboxWorker(core).run_once()
    assert callbacks.requests[0].json()["message"]["text"] == "Yes, two left."

    thread = await api.http.get(
        f"/webhooks/api/{api.channel_id}/messages",
        params={"user_id": "u-7"},
        headers=api.channel_auth,
    )
    assert [m["text"] for m in thread.json()["items"]] == [
        "Is the blue one in stock?",
        "Yes, two left.",
    ]
    messages = await api.http.get(
        f"/api/v1/conversations/{conversation['id']}/messages", headers=api.auth
    )
    assert messages.json()["items"][1]["delivery"]["status"] == "sent"


async def test_a_replys_buttons_reach_the_callback_and_the_read_back(
    api: ApiSetup, core: Core, callbacks: CallbackServer, workspace_id: str
) -> None:
    """Regression (QA demo #4): the read-back had no buttons, so an API channel's user (and
    `kith chat`) never saw the options a bot offered; a chosen one comes back as its payload."""
    conversation_id = (await api.say("u-5", "hi")).json()["conversation_id"]
    conversation = await get_conversation(core, workspace_id, conversation_id)
    buttons = [
        Button(label="Newsletter", payload="newsletter"),
        Button(label="Our shop", url="https://shop.example/"),
    ]
    bot = Author(kind=AuthorKind.bot, name="Kithy")
    await send(core, conversation, OutboundContent(text="Pick one", buttons=buttons), bot)
    await OutboxWorker(core).run_once()
    assert callbacks.requests[0].json()["message"]["buttons"] == [
        {"label": "Newsletter", "payload": "newsletter"},
        {"label": "Our shop", "url": "https://shop.example/"},
    ]
    thread = await api.http.get(
        f"/webhooks/api/{api.channel_id}/messages",
        params={"user_id": "u-5"},
        headers=api.channel_auth,
    )
    [said, offered] = thread.json()["items"]
    assert said["buttons"] == []
    assert offered["buttons"] == [
        {"label": "Newsletter", "payload": "newsletter", "url": None},
        {"label": "Our shop", "payload": None, "url": "https://shop.example/"},
    ]
    chosen = await api.say("u-5", "Newsletter", payload="newsletter", message_id="u-5-pick")
    assert chosen.status_code == 200, chosen.text
    stored = await core.store.messages.find_one({"_id": chosen.json()["message_id"]})
    assert stored is not None and stored["payload"] == "newsletter"


async def test_redelivered_webhook_is_answered_from_the_store(api: ApiSetup, core: Core) -> None:
    first = await api.say("u-1", "same", message_id="dup-1")
    second = await api.say("u-1", "same", message_id="dup-1")
    assert second.status_code == 200
    assert second.json()["duplicate"] is True
    assert second.json()["message_id"] == first.json()["message_id"]
    assert await core.store.messages.count_documents({}) == 1


async def test_private_notes_never_reach_the_channel_side(api: ApiSetup) -> None:
    conv_id = (await api.say("u-1", "hello")).json()["conversation_id"]
    await api.http.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"text": "internal: refund approved", "private": True},
        headers=api.auth,
    )
    thread = await api.http.get(
        f"/webhooks/api/{api.channel_id}/messages",
        params={"user_id": "u-1"},
        headers=api.channel_auth,
    )
    assert [m["text"] for m in thread.json()["items"]] == ["hello"]


async def test_channel_secrets_are_write_only(api: ApiSetup) -> None:
    created = await api.http.post(
        "/api/v1/channels",
        json={"type": "api", "name": "Partner", "config": {"callback_secret": "s" * 32}},
        headers=api.auth,
    )
    assert created.status_code == 201
    assert "callback_secret" not in created.json()["config"]
    assert created.json()["secrets"] == {}  # chosen by the caller, so not echoed
    listed = await api.http.get("/api/v1/channels", headers=api.auth)
    assert all("callback_secret" not in c["config"] for c in listed.json()["items"])
    assert "s" * 32 not in listed.text
    generated = (await api.http.get(f"/api/v1/channels/{api.channel_id}", headers=api.auth)).json()
    assert "callback_secret" not in generated["config"]


NEW_SECRET = "a-new-callback-secret-0123"  # moving the callback takes the secret again


async def test_channel_patch_and_disable(api: ApiSetup) -> None:
    patched = await api.http.patch(
        f"/api/v1/channels/{api.channel_id}",
        json={
            "name": "Web widget v2",
            "config": {"callback_url": "http://new.test/cb", "callback_secret": NEW_SECRET},
        },
        headers=api.auth,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["name"] == "Web widget v2"
    assert patched.json()["config"]["callback_url"] == "http://new.test/cb"
    disabled = await api.http.delete(f"/api/v1/channels/{api.channel_id}", headers=api.auth)
    assert disabled.json()["enabled"] is False
    refused = await api.say("u-1", "anyone?")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "channel_disabled"


async def test_customers_search_patch_merge_and_erase(api: ApiSetup, core: Core) -> None:
    await api.say(
        "u-ada", "hi", user={"id": "u-ada", "name": "Ada Lovelace", "email": "Ada@Example.com"}
    )
    await api.say("u-bob", "yo", user={"id": "u-bob", "name": "Bob", "phone": "+4930123"})

    def search(q: str):
        return api.http.get("/api/v1/customers", params={"q": q}, headers=api.auth)

    [ada] = (await search("lovelace")).json()["items"]
    assert (await search("ada@example.com")).json()["items"][0]["id"] == ada["id"]
    [bob] = (await search("+4930123")).json()["items"]
    assert (await search("u-bob")).json()["items"][0]["id"] == bob["id"]
    assert (await search(".*")).json()["items"] == []  # regex characters are literal

    patched = await api.http.patch(
        f"/api/v1/customers/{ada['id']}",
        json={"tags": ["vip"], "attributes": {"plan": "gold"}},
        headers=api.auth,
    )
    assert patched.json()["tags"] == ["vip"]
    assert (await search("vip")).json()["items"][0]["id"] == ada["id"]
    [updated] = await core.store.events.find({"type": "customer.updated"}).to_list(None)
    assert updated["customer_id"] == ada["id"]  # open inbox panels refresh
    assert updated["data"] == {
        "fields": ["tags"],
        "attributes": ["plan"],
        "tags": ["vip"],
        "tags_added": ["vip"],
    }

    merged = await api.http.post(
        f"/api/v1/customers/{ada['id']}/merge", json={"other_id": bob["id"]}, headers=api.auth
    )
    assert merged.status_code == 200, merged.text
    assert len(merged.json()["identities"]) == 2
    assert (
        await api.http.get(f"/api/v1/customers/{bob['id']}", headers=api.auth)
    ).status_code == 404

    erased = await api.http.delete(f"/api/v1/customers/{ada['id']}", headers=api.auth)
    assert erased.status_code == 200
    assert (await api.http.get("/api/v1/customers", headers=api.auth)).json()["items"] == []
    assert (await api.http.get("/api/v1/conversations", headers=api.auth)).json()["items"] == []


async def test_conversation_patch_filters_and_cursor_pagination(api: ApiSetup, clock) -> None:
    for i in range(7):
        clock.advance(1)
        await api.say(f"u-{i}", f"message {i}")
    first = await api.http.get("/api/v1/conversations", params={"limit": 3}, headers=api.auth)
    body = first.json()
    assert len(body["items"]) == 3 and body["next_cursor"]
    seen = [c["id"] for c in body["items"]]
    cursor = body["next_cursor"]
    while cursor:
        page = await api.http.get(
            "/api/v1/conversations", params={"limit": 3, "cursor": cursor}, headers=api.auth
        )
        seen += [c["id"] for c in page.json()["items"]]
        cursor = page.json()["next_cursor"]
    assert len(seen) == len(set(seen)) == 7

    target = seen[0]
    patched = await api.http.patch(
        f"/api/v1/conversations/{target}",
        json={"status": "resolved", "labels": ["billing"], "priority": "high"},
        headers=api.auth,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["status"] == "resolved"
    by_status = await api.http.get(
        "/api/v1/conversations", params={"status": "resolved"}, headers=api.auth
    )
    assert [c["id"] for c in by_status.json()["items"]] == [target]
    by_label = await api.http.get(
        "/api/v1/conversations", params={"label": "billing"}, headers=api.auth
    )
    assert [c["id"] for c in by_label.json()["items"]] == [target]


async def test_workspaces_are_isolated(api: ApiSetup, other_api: ApiSetup) -> None:
    conv_id = (await api.say("u-1", "private to workspace one")).json()["conversation_id"]
    customer_id = (await api.http.get("/api/v1/customers", headers=api.auth)).json()["items"][0][
        "id"
    ]

    assert (await other_api.http.get("/api/v1/conversations", headers=other_api.auth)).json()[
        "items"
    ] == []
    for path in (
        f"/api/v1/conversations/{conv_id}",
        f"/api/v1/conversations/{conv_id}/messages",
        f"/api/v1/customers/{customer_id}",
        f"/api/v1/channels/{api.channel_id}",
    ):
        answer = await other_api.http.get(path, headers=other_api.auth)
        assert answer.status_code == 404, path
    reply = await other_api.http.post(
        f"/api/v1/conversations/{conv_id}/messages",
        json={"text": "hijack"},
        headers=other_api.auth,
    )
    assert reply.status_code == 404
    merge = await other_api.http.post(
        f"/api/v1/customers/{customer_id}/merge",
        json={"other_id": customer_id},
        headers=other_api.auth,
    )
    assert merge.status_code in (404, 422)
    # A channel token of one workspace cannot post into another's channel.
    crossed = await api.http.post(
        f"/webhooks/api/{other_api.channel_id}",
        json={"message_id": "x", "user": {"id": "u"}, "text": "hi"},
        headers=api.channel_auth,
    )
    assert crossed.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer nope-nope-nope"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer "},
    ],
)
async def test_api_requires_a_valid_token(api: ApiSetup, headers: dict[str, str]) -> None:
    for path in ("/api/v1/conversations", "/api/v1/customers", "/api/v1/channels"):
        answer = await api.http.get(path, headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "unauthorized"


async def test_channel_token_is_not_an_api_token(api: ApiSetup) -> None:
    answer = await api.http.get("/api/v1/conversations", headers=api.channel_auth)
    assert answer.status_code == 401
    webhook = await api.http.post(
        f"/webhooks/api/{api.channel_id}",
        json={"message_id": "1", "user": {"id": "u"}, "text": "hi"},
        headers=api.auth,
    )
    assert webhook.status_code == 401


async def test_health_and_metrics(api: ApiSetup, core: Core) -> None:
    core.settings.metrics_token = "metrics-scraper-token"
    await api.say("u-1", "count me")
    health = await api.http.get("/healthz")
    assert health.status_code == 200 and health.json()["database"]["ok"] is True
    metrics = await api.http.get(
        "/metrics", headers={"Authorization": "Bearer metrics-scraper-token"}
    )
    assert 'kith_messages_ingested_total{channel_type="api"}' in metrics.text
    assert "kith_http_request_seconds" in metrics.text
