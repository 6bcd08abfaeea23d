"""Replies through the outbox to the Bot API: rendering, flood limits and failures."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from kith.core.clock import ManualClock
from kith.core.outbox import OutboxWorker
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup, update
from tests.connectors.telegram.fake_bot_api import FakeBotApi, error

ADA_CHAT = 424242001


async def reply(telegram: TelegramSetup, fixture: str = "private_text", **body: Any) -> str:
    """Open a conversation with an inbound update, post an agent reply; the message id."""
    await telegram.deliver(update(fixture))
    [conversation] = (
        await telegram.http.get("/api/v1/conversations", headers=telegram.auth)
    ).json()["items"]
    answer = await telegram.http.post(
        f"/api/v1/conversations/{conversation['id']}/messages", json=body, headers=telegram.auth
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def delivery(telegram: TelegramSetup, message_id: str) -> dict[str, Any]:
    doc = await telegram.core.store.messages.find_one({"_id": message_id})
    assert doc is not None
    return doc


async def test_text_with_buttons_goes_out_as_an_inline_keyboard(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    message_id = await reply(
        telegram,
        text="Would you like a replacement lid?",
        buttons=[
            {"label": "Yes please", "payload": "lid:yes"},
            {"label": "Track my order", "url": "https://shop.example.com/orders/7"},
            {"label": "No thanks"},
        ],
    )
    assert await OutboxWorker(telegram.core).run_once() == 1

    [sent] = bot_api.called("sendMessage")
    assert sent["chat_id"] == ADA_CHAT
    assert sent["text"] == "Would you like a replacement lid?"
    assert sent["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Yes please", "callback_data": "lid:yes"}],
            [{"text": "Track my order", "url": "https://shop.example.com/orders/7"}],
            [{"text": "No thanks", "callback_data": "No thanks"}],
        ]
    }
    stored = await delivery(telegram, message_id)
    assert stored["delivery"]["status"] == "sent"
    assert stored["channel_message_id"] == f"{ADA_CHAT}:5000"


async def test_a_pressed_button_comes_back_with_the_payload_we_sent(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    await reply(
        telegram, text="Replace it?", buttons=[{"label": "Yes please", "payload": "lid:yes"}]
    )
    await OutboxWorker(telegram.core).run_once()
    [sent] = bot_api.called("sendMessage")
    press = update("callback_query")
    press["callback_query"]["message"]["reply_markup"] = sent["reply_markup"]

    await telegram.deliver(press)
    *_, pressed = await telegram.messages()
    assert (pressed["payload"], pressed["text"]) == ("lid:yes", "Yes please")


async def test_an_image_goes_out_as_a_captioned_photo_and_a_file_as_a_document(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    await reply(
        telegram,
        text="Here is the new lid",
        attachments=[{"kind": "image", "url": "https://cdn.example.com/lid.jpg"}],
    )
    await reply(
        telegram,
        text="",
        attachments=[{"kind": "file", "file_id": "BQACAgIAAxkBAAIBs2dQ-receipt"}],
    )
    await OutboxWorker(telegram.core).run_once()
    clock.advance(1)  # one message a second in a private chat
    await OutboxWorker(telegram.core).run_once()

    [photo] = bot_api.called("sendPhoto")
    [document] = bot_api.called("sendDocument")
    assert photo["photo"] == "https://cdn.example.com/lid.jpg"
    assert photo["caption"] == "Here is the new lid"
    assert document["document"] == "BQACAgIAAxkBAAIBs2dQ-receipt"
    assert "caption" not in document
    assert bot_api.called("sendMessage") == []


async def test_flood_control_retry_after_reschedules_the_message(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    bot_api.fail_next("sendMessage", error(429, "Too Many Requests: retry after 7", retry_after=7))
    message_id = await reply(telegram, text="Your order shipped")
    await OutboxWorker(telegram.core).run_once()

    pending = (await delivery(telegram, message_id))["delivery"]
    assert pending["status"] == "pending"
    assert pending["attempts"] == 1
    assert "retry after 7" in pending["error"]
    assert pending["next_attempt_at"] == clock.now() + timedelta(seconds=7)

    clock.advance(6.9)
    assert await OutboxWorker(telegram.core).run_once() == 0
    clock.advance(0.1)
    assert await OutboxWorker(telegram.core).run_once() == 1
    assert (await delivery(telegram, message_id))["delivery"]["status"] == "sent"
    assert len(bot_api.called("sendMessage")) == 2


async def test_a_blocked_bot_fails_permanently_with_a_clear_error(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    bot_api.fail_next("sendMessage", error(403, "Forbidden: bot was blocked by the user"))
    message_id = await reply(telegram, text="Anything else?")
    await OutboxWorker(telegram.core).run_once()

    failed = (await delivery(telegram, message_id))["delivery"]
    assert failed["status"] == "failed"
    assert failed["error"] == "Telegram refused: Forbidden: bot was blocked by the user"
    assert len(await telegram.events("message.failed")) == 1


@pytest.mark.parametrize(
    "answer",
    [error(502, "Bad Gateway"), error(500, "Internal Server Error: restart")],
    ids=["bad-gateway", "restarting"],
)
async def test_telegram_server_errors_are_retried_with_backoff(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock, answer: Any
) -> None:
    bot_api.fail_next("sendMessage", answer)
    message_id = await reply(telegram, text="Still there?")
    await OutboxWorker(telegram.core).run_once()

    pending = (await delivery(telegram, message_id))["delivery"]
    assert pending["status"] == "pending"
    assert pending["attempts"] == 1
    assert pending["next_attempt_at"] > clock.now()


async def test_one_message_a_second_per_private_chat_defers_without_spending_attempts(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    first = await reply(telegram, text="One")
    second = await reply(telegram, text="Two")
    await OutboxWorker(telegram.core).run_once()

    assert [m["text"] for m in bot_api.called("sendMessage")] == ["One"]
    deferred = (await delivery(telegram, second))["delivery"]
    assert deferred["status"] == "pending"
    assert deferred["attempts"] == 0
    assert (await delivery(telegram, first))["delivery"]["status"] == "sent"

    clock.advance(1)
    await OutboxWorker(telegram.core).run_once()
    assert [m["text"] for m in bot_api.called("sendMessage")] == ["One", "Two"]


async def test_twenty_messages_a_minute_per_group(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    for n in range(21):
        await reply(telegram, "group_text", text=f"update {n}")
    await OutboxWorker(telegram.core).run_once()
    assert len(bot_api.called("sendMessage")) == 20

    clock.advance(60)
    await OutboxWorker(telegram.core).run_once()
    assert len(bot_api.called("sendMessage")) == 21


async def test_a_payload_longer_than_64_bytes_fails_permanently_before_sending(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    message_id = await reply(
        telegram, text="Pick one", buttons=[{"label": "Café", "payload": "é" * 40}]
    )
    await OutboxWorker(telegram.core).run_once()

    failed = (await delivery(telegram, message_id))["delivery"]
    assert failed["status"] == "failed"
    assert "64 bytes" in failed["error"]
    assert bot_api.called("sendMessage") == []


async def test_the_bot_token_never_reaches_the_logs(
    telegram: TelegramSetup, bot_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot_api.fail_next("sendMessage", error(403, "Forbidden: bot was blocked by the user"))
    await reply(telegram, text="Hello?")
    await OutboxWorker(telegram.core).run_once()

    assert "HTTP Request: POST http://telegram.test/bot7000000001:<redacted>/sendMessage" in (
        caplog.text
    )
    assert BOT_TOKEN.partition(":")[2] not in caplog.text


async def test_a_retry_after_a_failure_part_way_sends_only_the_rest(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    bot_api.fail_next("sendMessage", error(502, "Bad Gateway"))
    message_id = await reply(
        telegram,
        text="Both receipts, and the lid is on its way.",
        attachments=[
            {"kind": "image", "url": "https://cdn.example.com/lid.jpg"},
            {"kind": "file", "file_id": "BQACAgIAAxkBAAIBs2dQ-receipt"},
        ],
    )
    await OutboxWorker(telegram.core).run_once()

    failed_once = (await delivery(telegram, message_id))["delivery"]
    assert (failed_once["status"], failed_once["parts_sent"]) == ("pending", 2)
    clock.advance(failed_once["next_attempt_at"].timestamp() - clock.now().timestamp() + 1)
    await OutboxWorker(telegram.core).run_once()

    assert len(bot_api.called("sendPhoto")) == 1 and len(bot_api.called("sendDocument")) == 1
    texts = [m["text"] for m in bot_api.called("sendMessage")]  # refused once, then delivered
    assert texts == ["Both receipts, and the lid is on its way."] * 2
    stored = await delivery(telegram, message_id)
    assert stored["delivery"]["status"] == "sent" and stored["delivery"]["parts_sent"] == 3
