"""A channel has one bot (QA pass 9, M1): a second enabled bot on a channel would never answer
there, so saving one is refused at the channel, and data stored before the rule (two enabled
bots on one channel) is served by the first created, not by whichever the database returns."""

from __future__ import annotations

import httpx
import pytest

from kith.bots.flows import BotDefinition
from kith.bots.store import save_bot
from kith.core.auth import create_api_token
from kith.core.clock import ManualClock
from kith.core.context import Core
from tests.bots.conftest import BotSetup
from tests.support.cast import api_channel


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 't')}"}


def keyword_bot(name: str, channel_ids: list[str], word: str, **more: object) -> dict[str, object]:
    say = {"id": "say", "type": "send_text", "text": f"{name} here"}
    trigger = {"kind": "keyword", "values": [word]}
    return {
        "name": name,
        "channel_ids": channel_ids,
        "flows": [{"id": "f", "trigger": trigger, "steps": [say]}],
        **more,
    }


async def test_a_second_enabled_bot_on_a_channel_is_refused_at_that_channel(
    client: httpx.AsyncClient, auth: dict[str, str], core: Core, workspace_id: str
) -> None:
    web, _ = await api_channel(core, workspace_id, "Website API")
    app, _ = await api_channel(core, workspace_id, "App API")
    first = await client.post(
        "/api/v1/bots", json=keyword_bot("Shop assistant", [web.id], "hi"), headers=auth
    )
    assert first.status_code == 201, first.text
    second = keyword_bot("Warranty bot", [app.id, web.id], "warranty")
    refused = await client.post("/api/v1/bots", json=second, headers=auth)
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["field"] == "channel_ids.1"
    assert error["reason"] == "channel_has_bot"
    assert error["limits"] == {"bot": "Shop assistant", "bot_id": first.json()["id"]}
    assert "Shop assistant" in error["message"]
    listed = (await client.get("/api/v1/bots", headers=auth)).json()["items"]
    assert [b["name"] for b in listed] == ["Shop assistant"]


async def test_a_disabled_bot_may_list_the_channel_and_is_enabled_once_the_other_lets_go(
    client: httpx.AsyncClient, auth: dict[str, str], core: Core, workspace_id: str
) -> None:
    web, _ = await api_channel(core, workspace_id)
    shop = keyword_bot("Shop assistant", [web.id], "hi")
    first = (await client.post("/api/v1/bots", json=shop, headers=auth)).json()
    warranty = keyword_bot("Warranty bot", [web.id], "warranty", enabled=False)
    second = await client.post("/api/v1/bots", json=warranty, headers=auth)
    assert second.status_code == 201, second.text
    url = f"/api/v1/bots/{second.json()['id']}"
    enabling = await client.put(url, json={**warranty, "enabled": True}, headers=auth)
    assert enabling.status_code == 422
    assert enabling.json()["error"]["field"] == "channel_ids.0"
    # The bot that serves the channel is saved again as it is: it does not conflict with itself.
    again = await client.put(f"/api/v1/bots/{first['id']}", json=shop, headers=auth)
    assert again.status_code == 200, again.text
    off = await client.put(
        f"/api/v1/bots/{first['id']}", json={**shop, "enabled": False}, headers=auth
    )
    assert off.status_code == 200
    enabled = await client.put(url, json={**warranty, "enabled": True}, headers=auth)
    assert enabled.status_code == 200, enabled.text


async def test_the_bot_enabled_after_the_other_lets_go_is_the_one_that_answers(
    bots: BotSetup,
) -> None:
    channel = [bots.channel.id]
    shop = BotDefinition.model_validate(keyword_bot("Shop assistant", channel, "hi"))
    first = await save_bot(bots.core, bots.workspace_id, shop)
    warranty = keyword_bot("Warranty bot", channel, "warranty", enabled=False)
    second = await save_bot(bots.core, bots.workspace_id, warranty)
    off = shop.model_copy(update={"enabled": False})
    await save_bot(bots.core, bots.workspace_id, off, first.id)
    await save_bot(bots.core, bots.workspace_id, {**warranty, "enabled": True}, second.id)
    said = await bots.say("warranty")
    assert await bots.bot_texts(said.conversation.id) == ["Warranty bot here"]


async def test_two_enabled_bots_stored_on_one_channel_the_first_created_answers(
    bots: BotSetup, clock: ManualClock
) -> None:
    """Stored before the rule: made here by enabling, in the database itself as an older
    Kith saved it, a bot saved disabled. The early bot is written again last with the larger
    id, so that neither the database's natural order nor ids decide, only `created_at`."""
    channel = [bots.channel.id]
    early = await save_bot(
        bots.core, bots.workspace_id, keyword_bot("Early bot", channel, "warranty", enabled=False)
    )
    clock.advance(60)
    await save_bot(bots.core, bots.workspace_id, keyword_bot("Late bot", channel, "warranty"))
    stored = bots.core.store.collection("bots")
    early_doc = await stored.find_one({"_id": early.id})
    assert early_doc is not None
    await stored.delete_one({"_id": early.id})
    await stored.insert_one({**early_doc, "_id": "zz-early", "enabled": True})
    said = await bots.say("warranty")
    assert await bots.bot_texts(said.conversation.id) == ["Early bot here"]


async def test_a_bot_without_channels_serves_none_and_takes_none(bots: BotSetup) -> None:
    draft = keyword_bot("Draft", [], "hi")
    await save_bot(bots.core, bots.workspace_id, draft)
    shop = keyword_bot("Shop assistant", [bots.channel.id], "hi")
    await save_bot(bots.core, bots.workspace_id, shop)
    said = await bots.say("hi")
    assert await bots.bot_texts(said.conversation.id) == ["Shop assistant here"]
