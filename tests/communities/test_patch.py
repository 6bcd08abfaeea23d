"""`PATCH /api/v1/communities/{id}` changes only what it is given, nested rules included (the
schema's "absent keeps the current"); `null` where it means nothing is a 422 naming the
field, so a manager setting one field through the API never turns the group's protection
off without a word."""

from __future__ import annotations

from typing import Any

import httpx

from kith.communities.store import community_id
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain

GROUP = "-1001234567890"
WELCOME = {
    "enabled": True,
    "texts": {"en": "Welcome, {name}!", "zh": "欢迎，{name}！"},
    "delay_seconds": 30,
    "raid_seconds": 120,
}
RULES = {
    "enabled": True,
    "texts": {"en": "Be kind."},
    "button": {"en": "I agree"},
    "timeout_minutes": 15,
}
MODERATION = {
    "enabled": True,
    "words": {"enabled": True, "words": ["casino"], "patterns": ["wx:\\s*\\w+"]},
    "links": {"enabled": True, "min_days": 5},
    "flood": {"enabled": True, "messages": 8},
    "mute_minutes": 30,
}


async def _community(telegram: TelegramSetup) -> str:
    """The group seen, then given every section in full."""
    await telegram.deliver(update("group_text"))
    await drain(telegram.core)
    cid = community_id(telegram.channel_id, GROUP)
    full = {"welcome": WELCOME, "rules": RULES, "moderation": MODERATION}
    assert (await _patch(telegram, cid, full)).status_code == 200
    return cid


async def _patch(telegram: TelegramSetup, cid: str, body: Any) -> httpx.Response:
    return await telegram.http.patch(f"/api/v1/communities/{cid}", json=body, headers=telegram.auth)


async def test_part_of_a_section_changes_only_that_part(telegram: TelegramSetup) -> None:
    cid = await _community(telegram)
    await _patch(telegram, cid, {"rules": {"button": {"en": "OK"}}})
    await _patch(telegram, cid, {"moderation": {"words": {"patterns": ["x"]}}})
    answer = await _patch(telegram, cid, {"welcome": {"texts": {"en": "Hi"}}})
    assert answer.status_code == 200, answer.text

    got = answer.json()
    assert got["rules"] == {**RULES, "button": {"en": "OK"}}
    moderation = got["moderation"]
    assert moderation["enabled"] is True and moderation["mute_minutes"] == 30
    assert moderation["words"]["enabled"] is True
    assert (moderation["words"]["words"], moderation["words"]["patterns"]) == (["casino"], ["x"])
    assert moderation["links"] == {"enabled": True, "min_days": 5, "actions": ["delete", "warn"]}
    assert (moderation["flood"]["enabled"], moderation["flood"]["messages"]) == (True, 8)
    assert got["welcome"]["enabled"] is True
    assert got["welcome"]["texts"] == {**WELCOME["texts"], "en": "Hi"}  # merged by language
    assert (got["welcome"]["delay_seconds"], got["welcome"]["raid_seconds"]) == (30, 120)
    stored = await telegram.http.get(f"/api/v1/communities/{cid}", headers=telegram.auth)
    assert stored.json()["moderation"] == moderation


async def test_null_where_it_means_nothing_is_refused_naming_the_field(
    telegram: TelegramSetup,
) -> None:
    cid = await _community(telegram)
    for body, field in [
        ({"welcome": None}, "welcome"),
        ({"moderation": None}, "moderation"),
        ({"title": None}, "title"),
        ({"moderation": {"words": None}}, "moderation.words"),
        ({"rules": {"enabled": None}}, "rules.enabled"),
    ]:
        answer = await _patch(telegram, cid, body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["error"]["field"] == field, answer.text
    kept = await telegram.http.get(f"/api/v1/communities/{cid}", headers=telegram.auth)
    assert kept.json()["moderation"]["enabled"] is True
    assert kept.json()["welcome"]["enabled"] is True


async def test_null_where_it_means_something_is_taken(telegram: TelegramSetup) -> None:
    """A ban `null` is a ban for good (its documented meaning)."""
    cid = await _community(telegram)
    await _patch(telegram, cid, {"moderation": {"ban_days": 7}})
    answer = await _patch(telegram, cid, {"moderation": {"ban_days": None}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["moderation"]["ban_days"] is None
    assert answer.json()["moderation"]["words"]["words"] == ["casino"]


async def test_the_whole_section_as_the_page_sends_it_still_replaces_it(
    telegram: TelegramSetup,
) -> None:
    cid = await _community(telegram)
    words = {"enabled": False, "actions": ["delete"], "words": [], "patterns": []}
    answer = await _patch(telegram, cid, {"moderation": {**MODERATION, "words": words}})
    assert answer.json()["moderation"]["words"] == words
