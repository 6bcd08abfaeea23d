"""The roster's search (`q`), which the invite picker asks as its manager types: a name holding
the words in any case, or a platform id exactly; typed text is matched as text, never as a
pattern or an operator, and an empty search is refused naming `q`."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kith.communities.store import community_id
from kith.core.channel_records import get_channel
from kith.core.dead_letters import Payload
from tests.communities import test_membership_updates as told
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain


async def _roster(telegram: TelegramSetup) -> str:
    core = telegram.core
    channel = await get_channel(core, None, telegram.channel_id)
    core.clock = told.Ticking(core.clock.now())
    kind = core.channels.get("telegram")
    assert kind is not None and kind.replay is not None
    for update in told.membership_updates(datetime(2026, 1, 5, tzinfo=UTC)):
        body = json.dumps(update).encode()
        await kind.replay(core, channel, Payload(body=body, content_type="application/json"))
    await drain(core)
    return f"/api/v1/communities/{community_id(telegram.channel_id, str(told.CHAT_ID))}/members"


async def _names(telegram: TelegramSetup, path: str, **params: str) -> list[str]:
    answer = await telegram.http.get(path, params=params, headers=telegram.auth)
    assert answer.status_code == 200, answer.text
    return sorted(m["name"] for m in answer.json()["items"])


async def test_a_name_in_any_case_or_a_platform_id_finds_the_member(
    telegram: TelegramSetup,
) -> None:
    path = await _roster(telegram)
    assert await _names(telegram, path, q="mei") == ["Mei Han"]
    assert await _names(telegram, path, q=" SILVA ") == ["Ana Silva"]
    assert await _names(telegram, path, q="525252003") == ["Ana Silva"]
    assert await _names(telegram, path, q="a") == ["Ana Silva", "Mei Han"]  # still members
    assert await _names(telegram, path, q="Tom") == []  # he left
    assert await _names(telegram, path, q="Tom", status="left") == ["Tom Baker"]


async def test_typed_text_is_text_and_an_empty_search_is_refused(
    telegram: TelegramSetup,
) -> None:
    path = await _roster(telegram)
    for text in (".*", "M.i", '{"$ne": null}', "[a-z]+"):
        assert await _names(telegram, path, q=text) == []
    refused = await telegram.http.get(path, params={"q": ""}, headers=telegram.auth)
    assert refused.status_code == 422
    assert refused.json()["error"]["field"] == "q"


async def test_id_filters_that_are_no_ids_are_refused_naming_them(
    telegram: TelegramSetup,
) -> None:
    members = await _roster(telegram)
    links = members.removesuffix("/members") + "/invite-links"
    for path, params, field in (
        ("/api/v1/communities", {"channel_id": '{"$gt": ""}', "chat_id": "1"}, "channel_id"),
        (links, {"customer_id": '{"$gt": ""}'}, "customer_id"),
        (links, {"customer_id": "nobody"}, "customer_id"),
    ):
        refused = await telegram.http.get(path, params=params, headers=telegram.auth)
        assert refused.status_code == 422, (path, params, refused.text)
        assert refused.json()["error"]["field"] == field
