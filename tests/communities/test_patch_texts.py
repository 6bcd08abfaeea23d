"""`PATCH /api/v1/communities/{id}` merges per-language texts by language (qa8 M1: an English
welcome sent alone wiped the Chinese one); `null` or `""` removes a language. A text naming a
placeholder its use does not fill in is refused at that language (qa8 minor 1), and every
bad RE2 line is named in one answer (qa8 M3)."""

from __future__ import annotations

from typing import Any

import httpx

from kith.communities.store import community_id
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.support.consumers import drain

GROUP = "-1001234567890"
ZH = "欢迎 {name} 加入水壶俱乐部！"
TEXTS = {"en": "Welcome, {name}!", "zh": ZH}


async def _community(telegram: TelegramSetup) -> str:
    await telegram.deliver(update("group_text"))
    await drain(telegram.core)
    cid = community_id(telegram.channel_id, GROUP)
    body = {
        "welcome": {"enabled": True, "texts": TEXTS, "raid_texts": {"en": "{count} joined"}},
        "rules": {"texts": {"en": "Be kind.", "zh": "友善。"}, "button": {"en": "OK"}},
        "moderation": {"warn_texts": {"en": "{name}: {reason}", "zh": "{name}：{reason}"}},
    }
    assert (await _patch(telegram, cid, body)).status_code == 200
    return cid


async def _patch(telegram: TelegramSetup, cid: str, body: Any) -> httpx.Response:
    return await telegram.http.patch(f"/api/v1/communities/{cid}", json=body, headers=telegram.auth)


async def _get(telegram: TelegramSetup, cid: str) -> dict[str, Any]:
    answer = await telegram.http.get(f"/api/v1/communities/{cid}", headers=telegram.auth)
    return dict(answer.json())


async def test_one_language_patched_keeps_the_others(telegram: TelegramSetup) -> None:
    cid = await _community(telegram)
    answer = await _patch(telegram, cid, {"welcome": {"texts": {"en": "Welcome {name}!"}}})
    assert answer.status_code == 200, answer.text
    stored = await _get(telegram, cid)
    assert stored["welcome"]["texts"] == {"en": "Welcome {name}!", "zh": ZH}
    assert stored["welcome"]["enabled"] is True
    assert stored["welcome"]["raid_texts"] == {"en": "{count} joined"}

    await _patch(telegram, cid, {"rules": {"texts": {"zh": "请友善。"}}})
    await _patch(telegram, cid, {"moderation": {"warn_texts": {"fr": "{name}"}}})
    stored = await _get(telegram, cid)
    assert stored["rules"]["texts"] == {"en": "Be kind.", "zh": "请友善。"}
    assert stored["rules"]["button"] == {"en": "OK"}
    assert stored["moderation"]["warn_texts"] == {
        "en": "{name}: {reason}",
        "zh": "{name}：{reason}",
        "fr": "{name}",
    }


async def test_a_language_given_null_or_empty_is_removed(telegram: TelegramSetup) -> None:
    cid = await _community(telegram)
    answer = await _patch(telegram, cid, {"welcome": {"texts": {"zh": None, "en": "Hi {name}"}}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["welcome"]["texts"] == {"en": "Hi {name}"}
    answer = await _patch(telegram, cid, {"moderation": {"warn_texts": {"en": ""}}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["moderation"]["warn_texts"] == {"zh": "{name}：{reason}"}
    answer = await _patch(telegram, cid, {"rules": {"texts": {"de": None}}})  # not there: kept
    assert answer.json()["rules"]["texts"] == {"en": "Be kind.", "zh": "友善。"}
    assert (await _get(telegram, cid))["welcome"]["texts"] == {"en": "Hi {name}"}


async def test_null_for_a_whole_text_map_is_still_refused(telegram: TelegramSetup) -> None:
    cid = await _community(telegram)
    answer = await _patch(telegram, cid, {"welcome": {"texts": None}})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "welcome.texts"
    assert (await _get(telegram, cid))["welcome"]["texts"] == TEXTS


async def test_an_unknown_placeholder_is_refused_naming_it_and_the_allowed(
    telegram: TelegramSetup,
) -> None:
    cid = await _community(telegram)
    body = {
        "welcome": {"texts": {"en": "Hi {nme} {{ customer.name }}"}, "raid_texts": {"zh": "{n}"}},
        "rules": {"texts": {"zh": "{name} 请遵守 {rules}"}},
    }
    answer = await _patch(telegram, cid, body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    fields = {f["field"]: f for f in error["fields"]}
    assert set(fields) == {"welcome.texts.en", "welcome.raid_texts.zh", "rules.texts.zh"}
    en = fields["welcome.texts.en"]
    assert en["reason"] == "unknown_placeholder"
    assert en["limits"] == {"placeholders": "{nme}, {{ customer.name }}", "allowed": "{name}"}
    assert "{nme}" in en["message"] and "{name}" in en["message"]
    assert fields["welcome.raid_texts.zh"]["limits"]["allowed"] == "{count}"
    assert (await _get(telegram, cid))["welcome"]["texts"] == TEXTS  # nothing written


async def test_a_known_placeholder_and_plain_braces_free_text_are_taken(
    telegram: TelegramSetup,
) -> None:
    cid = await _community(telegram)
    body = {"moderation": {"warn_texts": {"en": "{name} broke {reason}; {done}"}}}
    assert (await _patch(telegram, cid, body)).status_code == 200
    answer = await _patch(telegram, cid, {"welcome": {"texts": {"en": "Hi {name} :-)"}}})
    assert answer.status_code == 200, answer.text


async def test_every_bad_pattern_and_every_bad_field_in_one_answer(
    telegram: TelegramSetup,
) -> None:
    cid = await _community(telegram)
    body = {
        "moderation": {
            "words": {"patterns": ["wx:\\s*\\w+", "[unclosed", "(a|b"]},
            "mute_minutes": -5,
            "ban_days": 0.5,
        }
    }
    answer = await _patch(telegram, cid, body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    fields = {f["field"]: f for f in error["fields"]}
    assert set(fields) == {
        "moderation.words.patterns",
        "moderation.mute_minutes",
        "moderation.ban_days",
    }
    patterns = fields["moderation.words.patterns"]
    assert patterns["reason"] == "pattern_syntax"
    limits = patterns["limits"]
    assert (limits["line"], limits["problem"]) == (2, "missing_bracket")  # the first, as before
    assert limits["lines"].split("\n") == ["2", "3"]
    assert limits["problems"].split("\n") == ["missing_bracket", "missing_paren"]
    assert "pattern 1 " in patterns["message"] and "pattern 2 " in patterns["message"]


async def test_a_blank_text_is_refused_at_its_language(telegram: TelegramSetup) -> None:
    """qa11 m3: spaces alone were saved, and would be posted as the welcome."""
    cid = await _community(telegram)
    answer = await _patch(
        telegram, cid, {"welcome": {"texts": {"zh": "   "}}, "rules": {"button": {"en": "\n"}}}
    )
    assert answer.status_code == 422, answer.text
    refused = {(f["field"], f["reason"]) for f in answer.json()["error"]["fields"]}
    assert refused == {("welcome.texts.zh", "blank"), ("rules.button.en", "blank")}
    assert (await _get(telegram, cid))["welcome"]["texts"] == TEXTS


async def test_an_enabled_welcome_is_not_left_without_its_text(telegram: TelegramSetup) -> None:
    """qa11 m3: `texts.en: ""` on an enabled welcome whose only text it was left it empty."""
    cid = await _community(telegram)
    assert (await _patch(telegram, cid, {"welcome": {"texts": {"zh": None}}})).status_code == 200
    answer = await _patch(telegram, cid, {"welcome": {"enabled": True, "texts": {"en": ""}}})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("welcome.texts.en", "welcome_without_text")
    stored = await _get(telegram, cid)
    assert stored["welcome"]["texts"] == {"en": "Welcome, {name}!"}
    # Turned off at once, or given another text, the text may go.
    off = {"welcome": {"enabled": False, "texts": {"en": ""}}}
    assert (await _patch(telegram, cid, off)).status_code == 200
    assert (await _get(telegram, cid))["welcome"]["texts"] == {}
    on = await _patch(telegram, cid, {"welcome": {"enabled": True}})  # Kith's own welcome
    assert on.status_code == 200, on.text


async def test_a_text_keyed_by_anything_but_a_language_is_refused(telegram: TelegramSetup) -> None:
    """`{"$gt": …}`, `{"a.b": …}` and a NUL byte were stored as keys of the warnings' texts
    (a NUL was refused by the database, naming no field)."""
    cid = await _community(telegram)
    for key in ("$gt", "a.b", "x\x00"):
        answer = await _patch(telegram, cid, {"moderation": {"warn_texts": {key: "{name}"}}})
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["field"] == f"moderation.warn_texts.{key}.[key]"
    assert (await _get(telegram, cid))["moderation"]["warn_texts"] == {
        "en": "{name}: {reason}",
        "zh": "{name}：{reason}",
    }
