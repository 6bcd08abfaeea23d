"""Telegram's own test updates (core.telegram.org/bots/webhooks, "Testing your bot with
updates") are taken as real ones, although they leave out fields the Bot API now requires."""

from __future__ import annotations

import json

import pytest

from kith.core.dead_letters import list_dead_letters
from tests.connectors.telegram.conftest import FIXTURES, TelegramSetup

DOCUMENTED = json.loads((FIXTURES / "documented_test_updates.json").read_text())
# What each becomes: a stored message's text, or nothing (edits of unknown messages,
# inline queries and chosen results are known and not used by Kith).
STORED = {
    "message": "/start",
    "message_with_text": "/start",
    "forwarded_message": "/start",
    "forwarded_channel_message": "/start",
    "message_with_reply": "/start",
    "message_with_entities": "Bold and italics",
    "message_with_audio": "",
    "voice_message": "",
    "message_with_document": "",
    "callback_query": "Data from button callback",
    "edited_message": None,
    "inline_query": None,
    "chosen_inline_query": None,
}


def test_every_documented_example_is_covered() -> None:
    assert set(DOCUMENTED) == set(STORED)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
async def test_a_documented_test_update_is_accepted(
    telegram: TelegramSetup, workspace_id: str, name: str
) -> None:
    answer = await telegram.deliver(DOCUMENTED[name])
    assert (answer.status_code, answer.json()) == (200, {"ok": True})
    assert await list_dead_letters(telegram.core, workspace_id) == []
    texts = [m["text"] for m in await telegram.messages()]
    assert texts == ([] if STORED[name] is None else [STORED[name]])


async def test_the_documented_sender_is_a_person_in_a_private_chat(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(DOCUMENTED["message"])
    [message] = await telegram.messages()
    conversation = await telegram.core.store.conversations.find_one({})
    assert conversation is not None and conversation["thread_key"] == "1111111"
    assert message["channel_message_id"] == "1111111:1365"


async def test_documented_files_keep_their_metadata(telegram: TelegramSetup) -> None:
    await telegram.deliver(DOCUMENTED["message_with_document"])
    [message] = await telegram.messages()
    [file] = message["attachments"]
    assert (file["name"], file["mime"], file["size"]) == ("Testfile.pdf", "application/pdf", 536392)
