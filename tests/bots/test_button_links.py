"""A bot button's `url` is a web address every channel opens (QA pass 8, M4: a button with
`javascript:alert(1)` was saved, sent to customers, and would fail a Telegram message whole).
Checked on saving, so that a bot stored before the check still reads and runs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.bots.engine import BotEngine
from kith.bots.knowledge import KnowledgeBase
from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.features import install
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 't')}"}


def bot(channel_id: str, *buttons: dict[str, Any]) -> dict[str, Any]:
    step = {"id": "a", "type": "send_text", "text": "Warranty", "buttons": list(buttons)}
    first = {"id": "hi", "type": "send_text", "text": "Hello"}
    trigger = {"kind": "keyword", "values": ["warranty"]}
    return {
        "name": "Shop assistant",
        "channel_ids": [channel_id],
        "flows": [{"id": "w", "trigger": trigger, "steps": [first, step]}],
    }


REFUSED = [
    ("javascript:alert(1)", "url_scheme"),
    ("JavaScript:alert(1)", "url_scheme"),
    (" javascript:alert(1)", "url_parsing"),
    ("java\nscript:alert(1)", "url_parsing"),
    ("data:text/html,<b>hi</b>", "url_scheme"),
    ("tg://resolve?domain=shop", "url_scheme"),
    ("weixin://dl/chat", "url_scheme"),
    ("/help", "url_scheme"),
    ("https://", "url_scheme"),
    ("https://shop.example/a b", "url_parsing"),
    ("https://shop.example:99999/", "url_parsing"),
    ("https://shop.example@evil.example/", "url_credentials"),
    ("https://" + "a" * 2041, "string_too_long"),  # 2049 characters
]


@pytest.mark.parametrize(("url", "reason"), REFUSED)
async def test_a_button_link_that_is_no_web_address_is_refused_naming_it(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    core: Core,
    workspace_id: str,
    url: str,
    reason: str,
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    body = bot(channel.id, {"label": "Fine", "payload": "ok"}, {"label": "Register", "url": url})
    answer = await client.post("/api/v1/bots", json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    fields = [(f["field"], f["reason"]) for f in answer.json()["error"]["fields"]]
    assert fields == [("flows.0.steps.1.buttons.1.url", reason)]
    assert await core.store.collection("bots").count_documents({}) == 0


async def test_web_addresses_and_a_link_beside_a_payload_are_saved(
    client: httpx.AsyncClient, auth: dict[str, str], core: Core, workspace_id: str
) -> None:
    """A payload and a link together are kept: Slack sends the payload back when the link
    is opened, and WeChat's numbered menu and the API channel take either."""
    channel, _ = await api_channel(core, workspace_id)
    buttons = [
        {"label": "Help", "url": "https://shop.example/help?x=1#top"},
        {"label": "Plain", "url": "http://shop.example"},
        {"label": "Caps", "url": "HTTPS://Shop.Example/Path"},
        {"label": "中文", "url": "https://例子.测试/帮助"},
        {"label": "Person", "payload": "kith:human", "url": "https://shop.example/help"},
        {"label": "Long", "url": "https://shop.example/" + "a" * 2027},  # 2048 characters
    ]
    answer = await client.post("/api/v1/bots", json=bot(channel.id, *buttons), headers=auth)
    assert answer.status_code == 201, answer.text
    saved = answer.json()["flows"][0]["steps"][1]["buttons"]
    assert [b["url"] for b in saved] == [b["url"] for b in buttons]


async def test_a_bot_stored_with_a_bad_link_still_reads_and_runs_and_is_refused_at_next_save(
    client: httpx.AsyncClient, auth: dict[str, str], core: Core, workspace_id: str
) -> None:
    install(core, [BotEngine(KnowledgeBase()).feature()])
    channel, _ = await api_channel(core, workspace_id, callback=False)
    body = bot(channel.id, {"label": "Register", "url": "https://shop.example/r"})
    created = await client.post("/api/v1/bots", json=body, headers=auth)
    assert created.status_code == 201, created.text
    bot_id = created.json()["id"]
    # As a bot saved before links were checked holds it.
    await core.store.collection("bots").update_one(
        {"_id": bot_id}, {"$set": {"flows.0.steps.1.buttons.0.url": "javascript:alert(1)"}}
    )

    read = await client.get(f"/api/v1/bots/{bot_id}", headers=auth)
    assert read.status_code == 200, read.text
    assert read.json()["flows"][0]["steps"][1]["buttons"][0]["url"] == "javascript:alert(1)"
    listed = await client.get("/api/v1/bots", headers=auth)
    assert [b["id"] for b in listed.json()["items"]] == [bot_id]

    await ingest(core, channel, inbound(channel, "ada", "warranty"))
    await drain(core)
    said = await core.store.messages.find({"direction": "out"}).sort("created_at", 1).to_list(None)
    assert [m["text"] for m in said] == ["Hello", "Warranty"]

    again = read.json()
    resave = {k: again[k] for k in ("name", "channel_ids", "flows")}
    answer = await client.put(f"/api/v1/bots/{bot_id}", json=resave, headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "flows.0.steps.1.buttons.0.url"
    assert answer.json()["error"]["reason"] == "url_scheme"
