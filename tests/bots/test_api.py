"""`/api/v1/bots` and `/api/v1/knowledge`: flows are validated before they are saved."""

from __future__ import annotations

import json

import httpx
import pytest

from kith.bots.engine import BotEngine
from kith.bots.knowledge import KnowledgeBase
from kith.consent.feature import feature as consent_feature
from kith.consent.settings import ConsentSettings
from kith.consent.settings import save_settings as save_consent_settings
from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.features import install
from kith.core.pipeline import ingest
from kith.core.signatures import sign
from kith.core.teams import create_team
from tests.support.callbacks import CallbackServer
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 't')}"}


def flow(*steps: dict, trigger: dict | None = None) -> dict:
    return {"id": "f", "trigger": trigger or {"kind": "first_message"}, "steps": list(steps)}


SAY = {"id": "a", "type": "send_text", "text": "hi"}


async def test_create_list_update_delete_a_bot(
    client: httpx.AsyncClient, auth: dict[str, str], core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    body = {"name": "Helper", "channel_ids": [channel.id], "flows": [flow(SAY)]}
    created = await client.post("/api/v1/bots", json=body, headers=auth)
    assert created.status_code == 201, created.text
    bot_id = created.json()["id"]
    assert [b["id"] for b in (await client.get("/api/v1/bots", headers=auth)).json()["items"]] == [
        bot_id
    ]
    body["enabled"] = False
    updated = await client.put(f"/api/v1/bots/{bot_id}", json=body, headers=auth)
    assert updated.json()["enabled"] is False
    assert (await client.delete(f"/api/v1/bots/{bot_id}", headers=auth)).status_code == 204
    assert (await client.get(f"/api/v1/bots/{bot_id}", headers=auth)).status_code == 404


@pytest.mark.parametrize(
    ("flows", "field"),
    [
        ([flow({"id": "a", "type": "teleport"})], "flows.0.steps.0.type"),
        ([flow({"id": "a", "type": "goto", "target": "nowhere"})], "flows.0.steps.0"),
        (
            [flow(SAY, {"id": "b", "type": "goto", "target": "a"})],
            "flows.0.steps",
        ),  # a loop that never waits for the customer
        (
            [flow({"id": "a", "type": "branch", "cases": [{"when": {"tag": "x"}, "goto": "a"}]})],
            "flows.0.steps",
        ),
        ([flow(SAY, trigger={"kind": "regex", "values": ["(unclosed"]})], "flows.0.trigger.values"),
        ([flow(SAY), flow(SAY)], "flows"),
        (
            [flow({"id": "a", "type": "ask", "text": "?", "attribute": "$where"})],
            "flows.0.steps.0.attribute",
        ),
        ([flow({"id": "a", "type": "webhook", "url": "not a url"})], "flows.0.steps.0.url"),
        (
            [flow(SAY, {**SAY, "id": "b", "buttons": [{"label": {"en": "OK", "zh": ""}}]})],
            "flows.0.steps.1.buttons.0.label",
        ),
    ],
)
async def test_invalid_flows_are_refused_with_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], core: Core, flows: list, field: str
) -> None:
    answer = await client.post("/api/v1/bots", json={"name": "x", "flows": flows}, headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert await core.store.collection("bots").count_documents({}) == 0


async def test_a_keyword_trigger_that_is_a_consent_keyword_is_refused_with_the_field(
    client: httpx.AsyncClient, auth: dict[str, str], core: Core, workspace_id: str
) -> None:
    """Regression (QA demo #2): a flow listening for 订阅 never fired, since a message that is
    only a consent keyword is the consent feature's (it answered "您已重新订阅" instead)."""
    install(core, [consent_feature])  # the word is the consent feature's when it is installed
    news = flow(SAY, trigger={"kind": "keyword", "values": ["newsletter", " 订阅 "]})
    answer = await client.post("/api/v1/bots", json={"name": "x", "flows": [news]}, headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "flows.0.trigger.values.1" and "consent keyword" in error["message"]
    # the workspace's own keywords count: once STOP is not one, a flow may listen for it
    keywords = ConsentSettings(stop_keywords=["nomore"], start_keywords=["more"])
    await save_consent_settings(core, workspace_id, keywords)
    stop = flow(SAY, trigger={"kind": "keyword", "values": ["STOP", "订阅"]})
    saved = await client.post("/api/v1/bots", json={"name": "x", "flows": [stop]}, headers=auth)
    assert saved.status_code == 201, saved.text
    more = flow(SAY, trigger={"kind": "keyword", "values": ["More!"]})
    refused = await client.post("/api/v1/bots", json={"name": "x", "flows": [more]}, headers=auth)
    assert refused.json()["error"]["field"] == "flows.0.trigger.values.0"
    assert await core.store.collection("bots").count_documents({}) == 1


async def test_a_loop_through_a_question_is_allowed(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    looping = flow(
        {"id": "q", "type": "ask", "text": "Again?", "attribute": "again"},
        {"id": "back", "type": "goto", "target": "q"},
    )
    answer = await client.post("/api/v1/bots", json={"name": "x", "flows": [looping]}, headers=auth)
    assert answer.status_code == 201, answer.text


async def test_bots_only_attach_to_channels_of_their_workspace(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.post(
        "/api/v1/bots", json={"name": "x", "channel_ids": ["elsewhere"]}, headers=auth
    )
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "channel_ids.0"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"team_id": "nope"}, "team_id"),
        (
            {"flows": [flow(SAY, {"id": "h", "type": "handoff", "team_id": "nope"})]},
            "flows.0.steps.1.team_id",
        ),
    ],
)
async def test_bots_only_hand_off_to_teams_of_their_workspace(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    core: Core,
    workspace_id: str,
    body: dict,
    field: str,
) -> None:
    answer = await client.post("/api/v1/bots", json={"name": "x", **body}, headers=auth)
    assert answer.status_code == 422 and answer.json()["error"]["field"] == field
    assert await core.store.collection("bots").count_documents({}) == 0
    sales = await create_team(core, workspace_id, "Sales")
    named = json.loads(json.dumps(body).replace('"nope"', f'"{sales.id}"'))
    answer = await client.post("/api/v1/bots", json={"name": "x", **named}, headers=auth)
    assert answer.status_code == 201, answer.text


async def test_knowledge_articles_crud(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    article = {
        "title": "Shipping",
        "questions": ["How long does shipping take?", "发货要多久？"],
        "answer": {"en": "3 to 5 days.", "zh": "3到5天。"},
    }
    created = await client.post("/api/v1/knowledge", json=article, headers=auth)
    assert created.status_code == 201, created.text
    article_id = created.json()["id"]
    listed = await client.get("/api/v1/knowledge", headers=auth)
    assert [a["id"] for a in listed.json()["items"]] == [article_id]
    empty = await client.post(
        "/api/v1/knowledge", json={**article, "answer": {"en": " "}}, headers=auth
    )
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "answer"
    assert (await client.delete(f"/api/v1/knowledge/{article_id}", headers=auth)).status_code == 204


async def test_webhook_steps_are_signed_with_the_bots_key_shown_once(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    core: Core,
    workspace_id: str,
    callbacks: CallbackServer,
) -> None:
    """Like API-channel callbacks: `X-Kith-Signature: t=…,v1=HMAC-SHA256(key, "t.body")`."""
    install(core, [BotEngine(KnowledgeBase()).feature()])
    channel, _ = await api_channel(core, workspace_id, callback=False)
    hook = {"id": "a", "type": "webhook", "url": "http://orders.test/hook"}
    body = {"name": "Helper", "channel_ids": [channel.id], "flows": [flow(hook)]}
    created = await client.post("/api/v1/bots", json=body, headers=auth)
    assert created.status_code == 201, created.text
    key = created.json()["webhook_secret"]
    bot_id = created.json()["id"]
    shown = await client.get(f"/api/v1/bots/{bot_id}", headers=auth)
    assert "webhook_secret" not in shown.json() and key not in shown.text

    def signed_with(secret: str) -> bool:
        request = callbacks.requests[-1]
        stamp = request.headers["x-kith-signature"].split(",")[0].removeprefix("t=")
        return request.headers["x-kith-signature"] == sign(secret, int(stamp), request.body)

    await ingest(core, channel, inbound(channel, "ada"))
    await drain(core)
    assert callbacks.requests[-1].path == "/hook" and signed_with(key)

    rotated = await client.post(f"/api/v1/bots/{bot_id}/webhook-secret", headers=auth)
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()["webhook_secret"]
    await ingest(core, channel, inbound(channel, "grace"))
    await drain(core)
    assert len(callbacks.requests) == 2
    assert signed_with(new_key) and not signed_with(key)
