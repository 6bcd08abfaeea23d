"""Telegram webhooks end to end: documented update payloads in, stored Kith records out."""

from __future__ import annotations

from typing import Any

import pytest

from kith.core.dead_letters import list_dead_letters
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.connectors.telegram.fake_bot_api import FakeBotApi

ADA_CHAT = "424242001"
GROUP = "-1001234567890"


async def test_wrong_or_missing_secret_token_is_401_and_stores_nothing(
    telegram: TelegramSetup,
) -> None:
    wrong = await telegram.deliver(update("private_text"), secret="not-the-secret-token")
    missing = await telegram.http.post(
        f"/webhooks/telegram/{telegram.channel_id}", json=update("private_text")
    )
    assert wrong.status_code == missing.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"
    assert await telegram.messages() == []


async def test_private_text_opens_a_conversation_on_the_chat(telegram: TelegramSetup) -> None:
    answer = await telegram.deliver(update("private_text"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"ok": True}

    listed = await telegram.http.get("/api/v1/conversations", headers=telegram.auth)
    [conversation] = listed.json()["items"]
    assert conversation["channel_type"] == "telegram"
    assert conversation["thread_key"] == ADA_CHAT
    assert conversation["external_user_id"] == ADA_CHAT
    [message] = await telegram.messages()
    assert message["text"] == "Hi! Is the blue kettle back in stock?"
    assert message["channel_message_id"] == f"{ADA_CHAT}:17"
    customer = await telegram.http.get(
        f"/api/v1/customers/{message['customer_id']}", headers=telegram.auth
    )
    assert customer.json()["name"] == "Ada Lovelace"
    assert customer.json()["locale"] == "en"


async def test_redelivered_update_is_stored_once(telegram: TelegramSetup) -> None:
    first = await telegram.deliver(update("private_text"))
    second = await telegram.deliver(update("private_text"))
    assert first.status_code == second.status_code == 200
    assert len(await telegram.messages()) == 1
    assert len(await telegram.events("message.received")) == 1


async def test_group_messages_share_the_chat_thread_with_each_sender_as_the_user(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("group_text"))
    await telegram.deliver(update("group_reply"))

    question, answer = await telegram.messages()
    assert question["conversation_id"] == answer["conversation_id"]
    assert question["thread_key"] == GROUP
    assert question["customer_id"] != answer["customer_id"]
    assert question["author"]["name"] == "Li Lei"
    assert answer["author"]["name"] == "Ada Lovelace"
    assert answer["reply_to"] == f"{GROUP}:305" == question["channel_message_id"]


async def test_photo_keeps_its_caption_and_the_largest_size(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("photo_caption"))
    [message] = await telegram.messages()
    assert message["text"] == "The lid is cracked, see?"
    [photo] = message["attachments"]
    assert photo["kind"] == "image"
    assert photo["file_id"] == "AgACAgIAAxkBAAIBsmdQ-large"
    assert photo["size"] == 84733
    assert photo["mime"] == "image/jpeg"


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "document",
            {
                "kind": "file",
                "file_id": "BQACAgIAAxkBAAIBs2dQ-receipt",
                "size": 52344,
                "mime": "application/pdf",
                "name": "receipt-2026-01.pdf",
            },
        ),
        (
            "voice",
            {
                "kind": "audio",
                "file_id": "AwACAgIAAxkBAAIBtGdQ-voice",
                "size": 9120,
                "mime": "audio/ogg",
                "name": None,
            },
        ),
        (
            "sticker",
            {
                "kind": "sticker",
                "file_id": "CAACAgIAAxkBAAIBtWdQ-sticker",
                "size": 22040,
                "mime": "image/webp",
                "name": "👍",
            },
        ),
    ],
)
async def test_files_are_stored_as_attachment_metadata(
    telegram: TelegramSetup, fixture: str, expected: dict[str, object]
) -> None:
    await telegram.deliver(update(fixture))
    [message] = await telegram.messages()
    [attachment] = message["attachments"]
    assert {k: attachment[k] for k in expected} == expected
    assert attachment["url"] == (
        f"/webhooks/telegram/{telegram.channel_id}/files/{expected['file_id']}"
    )


async def test_a_file_is_fetched_from_telegram_on_demand(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    file_id = "BQACAgIAAxkBAAIBs2dQ-receipt"
    bot_api.files[file_id] = ("documents/file_7.pdf", b"%PDF-1.7 receipt")
    await telegram.deliver(update("document"))
    [message] = await telegram.messages()
    path = message["attachments"][0]["url"]

    anonymous = await telegram.http.get(path)
    fetched = await telegram.http.get(path, headers=telegram.auth)
    unknown = await telegram.http.get(path.replace(file_id, "gone"), headers=telegram.auth)

    assert anonymous.status_code == 401
    assert fetched.status_code == 200
    assert fetched.content == b"%PDF-1.7 receipt"
    assert bot_api.called("getFile")[0] == {"file_id": file_id}
    assert unknown.status_code == 404


async def test_an_edit_replaces_the_text_and_keeps_the_original(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("private_text"))
    await telegram.deliver(update("edited_text"))
    await telegram.deliver(update("edited_text"))  # redelivered edit

    [message] = await telegram.messages()
    assert message["text"] == "Hi! Is the red kettle back in stock?"
    assert [e["text"] for e in message["edits"]] == ["Hi! Is the blue kettle back in stock?"]
    assert len(await telegram.events("message.edited")) == 1


def _edit(text: str, edit_date: int, update_id: int) -> dict[str, Any]:
    body = update("edited_text", update_id=update_id)
    body["edited_message"] = {**body["edited_message"], "text": text, "edit_date": edit_date}
    return body


async def test_the_newest_edit_stays_whatever_order_the_edits_arrive_in(
    telegram: TelegramSetup,
) -> None:
    """Telegram may send updates in parallel: a late older edit is not the text any more,
    nor is an older edit that arrives after the message was edited back."""
    await telegram.deliver(update("private_text"))  # "…blue kettle…"
    await telegram.deliver(_edit("BUY CHEAP PILLS", 1767225700, 815000101))
    await telegram.deliver(_edit("red, then", 1767225660, 815000100))  # made before: late
    [message] = await telegram.messages()
    assert message["text"] == "BUY CHEAP PILLS"
    await telegram.deliver(_edit("Hi! Is the blue kettle back in stock?", 1767225800, 815000103))
    await telegram.deliver(_edit("green, then", 1767225750, 815000102))  # older than the last
    [message] = await telegram.messages()
    assert message["text"] == "Hi! Is the blue kettle back in stock?"
    assert len(await telegram.events("message.edited")) == 2


async def test_button_press_is_a_message_with_its_payload_and_is_answered_once(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    await telegram.deliver(update("callback_query"))
    await telegram.deliver(update("callback_query"))

    [press] = await telegram.messages()
    assert press["payload"] == "lid:yes"
    assert press["text"] == "Yes please"
    assert press["thread_key"] == ADA_CHAT
    assert press["reply_to"] == f"{ADA_CHAT}:22"
    assert press["channel_message_id"] == "callback:1823465782091238471"
    assert bot_api.called("answerCallbackQuery") == [{"callback_query_id": "1823465782091238471"}]


async def test_start_with_a_payload_is_an_event_and_a_message(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("start_payload"))

    [message] = await telegram.messages()
    assert message["text"] == "/start spring-promo"
    [start] = await telegram.events("channel.start")
    assert start["data"]["payload"] == "spring-promo"
    assert start["data"]["group_id"] is None
    assert start["customer_id"] == message["customer_id"]


async def test_joins_and_leaves_are_member_events_for_people_not_bots(
    telegram: TelegramSetup,
) -> None:
    await telegram.deliver(update("new_chat_members"))
    await telegram.deliver(update("left_chat_member"))
    await telegram.deliver(update("new_chat_members"))

    [joined] = await telegram.events("channel.member_joined")
    [left] = await telegram.events("channel.member_left")
    assert joined["actor"]["name"] == "Katherine Johnson"
    assert left["actor"]["name"] == "Li Lei"
    for event in (joined, left):
        assert event["data"]["group_id"] == GROUP
        assert event["data"]["group_name"] == "Kettle Owners Club"
    assert await telegram.messages() == []


async def test_an_update_kith_does_not_use_is_acknowledged_and_ignored(
    telegram: TelegramSetup,
) -> None:
    answer = await telegram.deliver(update("my_chat_member"))
    assert answer.status_code == 200
    assert await telegram.messages() == []
    assert await telegram.core.store.customers.count_documents({}) == 0


@pytest.mark.parametrize(
    "body",
    [
        b'{"update_id": 815000001, "message": {"message_id": 17,',
        b'["update_id", 815000001]',
        b'{"message": {"message_id": 17, "text": "no update_id"}}',
        b'{"update_id": 815000001, "message": {"message_id": "x", "date": 0}}',
    ],
    ids=["truncated-json", "not-an-object", "no-update-id", "bad-message"],
)
async def test_an_authentic_unusable_update_is_acknowledged_and_kept(
    telegram: TelegramSetup, workspace_id: str, body: bytes
) -> None:
    """A 4xx would only make Telegram retry it: a dead letter instead, stored nothing."""
    answer = await telegram.deliver(body)
    assert answer.status_code == 200, answer.text
    assert await telegram.messages() == []
    assert await telegram.core.store.customers.count_documents({}) == 0
    kept = await list_dead_letters(telegram.core, workspace_id)
    assert [(d.channel_id, d.preview) for d in kept] == [(telegram.channel_id, body.decode())]


async def test_bot_token_and_secret_token_are_never_returned(telegram: TelegramSetup) -> None:
    shown = await telegram.http.get(
        f"/api/v1/channels/{telegram.channel_id}", headers=telegram.auth
    )
    assert shown.status_code == 200
    assert shown.json()["config"] == {"mode": "webhook", "api_base": "http://telegram.test/"}


async def test_a_disabled_channel_takes_no_updates(telegram: TelegramSetup) -> None:
    disabled = await telegram.http.delete(
        f"/api/v1/channels/{telegram.channel_id}", headers=telegram.auth
    )
    assert disabled.status_code == 200
    answer = await telegram.deliver(update("private_text"))
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "channel_disabled"
    assert await telegram.messages() == []


async def test_start_addressed_to_the_bot_in_a_group_names_the_group(
    telegram: TelegramSetup,
) -> None:
    start = update("group_text")
    start["message"]["text"] = "/start@kith_shop_bot vip"
    start["message"]["entities"] = [{"offset": 0, "length": 20, "type": "bot_command"}]
    await telegram.deliver(start)
    plain = update("group_text", update_id=815000020)
    plain["message"].update(message_id=399, text="/started a thread")
    await telegram.deliver(plain)

    [event] = await telegram.events("channel.start")
    assert event["data"]["payload"] == "vip"
    assert event["data"]["group_id"] == GROUP
    assert event["data"]["group_name"] == "Kettle Owners Club"
    assert len(await telegram.messages()) == 2
