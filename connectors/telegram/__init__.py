"""The Telegram channel: a Bot API bot (via aiogram 3) as one Kith channel.

Inbound arrives by webhook (`POST /webhooks/telegram/{channel_id}`, checked against the
channel's secret token) or by long polling (`getUpdates`, one process per channel under a
lease, offset kept in MongoDB). Replies go out through the outbox as sendMessage /
sendPhoto / sendDocument with inline keyboards for buttons.
"""

from kith.connectors.telegram.channel import channel_type
from kith.connectors.telegram.client import import_aiogram
from kith.core.features import Feature

# aiogram is imported before a serving process serves (seconds of CPU, in a thread), and
# by no other process until it talks to Telegram.
feature = Feature(name="telegram", channel_types=(channel_type,), prepare=(import_aiogram,))

__all__ = ["channel_type", "feature"]
