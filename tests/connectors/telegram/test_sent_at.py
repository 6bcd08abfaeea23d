"""Telegram's `date` is kept on the stored message as the platform's send time (`sent_at`),
beside Kith's arrival (`created_at`): community moderation counts by it."""

from __future__ import annotations

from datetime import UTC, datetime

from kith.core.clock import aware
from tests.connectors.telegram.conftest import TelegramSetup, update


async def test_telegram_keeps_the_date(telegram: TelegramSetup) -> None:
    assert (await telegram.deliver(update("group_text"))).status_code == 200
    [message] = await telegram.messages()
    assert aware(message["sent_at"]) == datetime.fromtimestamp(1767225602, UTC)
