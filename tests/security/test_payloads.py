"""Platform payloads: authenticity first, then a payload Kith cannot use is kept, not refused.

A 4xx to a payload whose secret held only makes the platform retry it (and Slack disables
event subscriptions that keep failing), so it is acknowledged and kept as a dead letter that
admins see and replay over `/api/v1/dead-letters`. Forged requests are still refused, keep
nothing, and one workspace never sees or replays another's dead letters.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kith.core.auth import create_api_token
from kith.core.channel_records import get_channel
from kith.core.dead_letters import Payload, keep_dead_letter
from kith.core.errors import InvalidInput
from kith.core.workspaces import create_workspace
from tests.connectors.telegram.conftest import (  # noqa: F401 (fixtures)
    TelegramSetup,
    bot_api,
    callbacks,
    clock,
    telegram,
    update,
)


@pytest.fixture
def tg(telegram: TelegramSetup) -> TelegramSetup:  # noqa: F811 (the imported fixture)
    """A Telegram bot channel on the real app, delivering as Telegram does."""
    return telegram


UNUSABLE = b'{"update_id": 815000001, "message": {"message_id": "x", "date": 0}}'


async def _letters(tg: TelegramSetup, **kw: Any) -> list[dict[str, Any]]:
    answer = await tg.http.get("/api/v1/dead-letters", headers=tg.auth, **kw)
    assert answer.status_code == 200, answer.text
    letters: list[dict[str, Any]] = answer.json()["items"]
    return letters


async def _replay(tg: TelegramSetup, letter_id: str, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else tg.auth
    return await tg.http.post(f"/api/v1/dead-letters/{letter_id}/replay", headers=headers)


async def test_a_forged_delivery_is_refused_and_keeps_nothing(tg: TelegramSetup) -> None:
    answer = await tg.deliver(UNUSABLE, secret="not-the-secret-token")
    assert answer.status_code == 401
    assert await _letters(tg) == []


async def test_an_authentic_unusable_update_is_acknowledged_and_listed_once(
    tg: TelegramSetup,
) -> None:
    first = await tg.deliver(UNUSABLE)
    again = await tg.deliver(UNUSABLE)  # e.g. a redelivery: one dead letter, counted
    assert first.status_code == again.status_code == 200
    [letter] = await _letters(tg)
    assert letter["channel_id"] == tg.channel_id
    assert letter["channel_type"] == "telegram"
    assert letter["deliveries"] == 2
    assert letter["field"] == "message.message_id"
    assert letter["preview"] == UNUSABLE.decode()
    assert letter["size"] == len(UNUSABLE)
    assert letter["replayed_at"] is None


async def test_replaying_what_still_fails_keeps_it_with_the_reason(
    tg: TelegramSetup,
) -> None:
    await tg.deliver(UNUSABLE)
    [letter] = await _letters(tg)
    answer = await _replay(tg, letter["id"])
    assert answer.status_code == 200, answer.text
    replayed = answer.json()
    assert (replayed["replays"], replayed["replayed_at"], replayed["outcome"]) == (1, None, None)
    assert replayed["field"] == "message.message_id"
    assert replayed["preview"] == UNUSABLE.decode()
    assert await tg.messages() == []


async def test_a_replay_that_works_stores_once_and_drops_the_payload(
    tg: TelegramSetup, workspace_id: str
) -> None:
    """A payload an older Kith could not use, replayed after the fix: stored once, however
    often it is replayed or redelivered, and the kept bytes are gone."""
    loaded = await get_channel(tg.core, workspace_id, tg.channel_id)
    body = json.dumps(update("private_text")).encode()
    kept = await keep_dead_letter(
        tg.core, loaded, Payload(body=body), InvalidInput("older rule", field="message")
    )
    first = (await _replay(tg, kept.id)).json()
    assert first["outcome"] == "message" and first["replayed_at"] is not None
    assert first["preview"] is None  # the customer's words now live in the message only
    second = (await _replay(tg, kept.id)).json()
    assert second == first
    assert (await tg.deliver(body)).status_code == 200  # the platform's own retry
    assert [m["text"] for m in await tg.messages()] == ["Hi! Is the blue kettle back in stock?"]


async def test_another_workspace_neither_sees_nor_replays_them(
    tg: TelegramSetup,
) -> None:
    await tg.deliver(UNUSABLE)
    [letter] = await _letters(tg)
    other = await create_workspace(tg.core, "Other shop")
    token = await create_api_token(tg.core, other.id, "other")
    seen = await tg.http.get("/api/v1/dead-letters", headers={"Authorization": f"Bearer {token}"})
    assert (seen.status_code, seen.json()) == (200, {"items": [], "next_cursor": None})
    answer = await _replay(tg, letter["id"], token=token)
    assert answer.status_code == 404
    assert answer.json()["error"]["field"] == "dead_letter_id"
    assert (await _letters(tg))[0]["replays"] == 0


async def test_dead_letters_need_a_token(tg: TelegramSetup) -> None:
    await tg.deliver(UNUSABLE)
    assert (await tg.http.get("/api/v1/dead-letters")).status_code == 401
    [letter] = await _letters(tg)
    anonymous = await tg.http.post(f"/api/v1/dead-letters/{letter['id']}/replay")
    assert anonymous.status_code == 401
