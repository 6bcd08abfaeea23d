"""The Telegram channel: a Bot API bot (via aiogram 3) as one Kith channel.

Inbound arrives by webhook (`POST /webhooks/telegram/{channel_id}`, checked against the
channel's secret token) or by long polling (`getUpdates`, one process per channel under a
lease, offset kept in MongoDB). Replies go out through the outbox as sendMessage /
sendPhoto / sendDocument with inline keyboards for buttons.
"""

from kith.connectors.telegram.channel import channel_type
from kith.core.features import Feature

feature = Feature(name="telegram", channel_types=(channel_type,))

__all__ = ["channel_type", "feature"]
