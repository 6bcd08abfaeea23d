"""Delivering replies through WeChat's customer-service message API (客服消息).

A passive reply must be answered within WeChat's 5-second webhook limit, so Kith
acknowledges every push at once and sends agents' and bots' replies here instead. The
customer-service API only reaches a follower who interacted in the last 48 hours
(message, menu click, follow, QR scan); outside it the send fails for good, with a
reason an agent can read, before WeChat is even asked.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from kith.connectors.wechat import api
from kith.connectors.wechat.config import WeChatConfig
from kith.core.channels import SendResult
from kith.core.context import Core
from kith.core.errors import DeliveryDeferred, DeliveryError
from kith.core.models import Attachment, Channel, Conversation, Direction, Message
from kith.core.ratelimit import reserve_all

WINDOW = timedelta(hours=48)
DAILY_QUOTA = 500_000  # 客服消息 calls per account per day, the default published quota
# Events that open the window, as `ingest_event` records them (unfollowing does not).
WINDOW_EVENTS = ["channel.subscribed", "channel.scan", "channel.menu_click"]
UNSAFE_IN_HREF = {'"': "%22", "<": "%3C", ">": "%3E", " ": "%20", "\n": "", "\r": ""}


def _link(url: str | None, label: str) -> str:
    """Customer-service text renders `<a href>` and nothing else of HTML.

    The URL is percent-encoded where it could leave its attribute (not entity-escaped,
    which a WeChat client need not decode), the label cannot open a tag, and links that
    are not http(s) stay plain text.
    """
    label = label.replace("<", "＜").replace(">", "＞")
    if not url or not url.lower().startswith(("https://", "http://")):
        return label
    href = "".join(UNSAFE_IN_HREF.get(c, c) for c in url)
    return f'<a href="{href}">{label}</a>'


def _attachment_line(attachment: Attachment) -> str:
    name = attachment.name or attachment.kind
    return _link(attachment.url, name) if attachment.url else f"[{name}]"


def render_text(message: Message) -> str:
    """Text, then attachments as links (media upload is not supported yet), then the
    buttons as a numbered menu the customer answers by number."""
    parts = [message.text.strip()] if message.text.strip() else []
    parts += [_attachment_line(a) for a in message.attachments]
    if message.buttons:
        menu = (f"{i}. {_link(b.url, b.label)}" for i, b in enumerate(message.buttons, 1))
        parts.append("\n".join(menu))
    return "\n\n".join(parts)


async def last_interaction(core: Core, channel: Channel, conversation: Conversation) -> datetime:
    """When the customer last did something that opens WeChat's 48-hour window."""
    message = await core.store.messages.find_one(
        {"conversation_id": conversation.id, "direction": Direction.inbound.value},
        {"created_at": 1},
        sort=[("created_at", -1)],
    )
    event = await core.store.events.find_one(
        {
            "customer_id": conversation.customer_id,
            "type": {"$in": WINDOW_EVENTS},
            "data.channel_id": channel.id,
        },
        {"created_at": 1},
        sort=[("created_at", -1)],
    )
    seen: list[datetime] = [doc["created_at"] for doc in (message, event) if doc is not None]
    return max(seen, default=conversation.created_at)


class WeChatSender:
    """Sends text through `message/custom/send`; see the module docstring for the window."""

    async def send(
        self, core: Core, channel: Channel, conversation: Conversation, message: Message
    ) -> SendResult:
        config = channel.settings_as(WeChatConfig)
        openid = conversation.external_user_id
        if not openid:
            raise DeliveryError("conversation has no WeChat openid", retryable=False)
        since = await last_interaction(core, channel, conversation)
        if core.clock.now() - since > WINDOW:
            raise DeliveryError(
                "Outside WeChat's 48-hour customer-service window: the customer last wrote "
                f"at {since.isoformat()}; they must message the account again first.",
                retryable=False,
            )
        wait = await reserve_all(core, [(f"wechat:{config.app_id}:custom", DAILY_QUOTA, 86_400)])
        if wait > 0:
            raise DeliveryDeferred(wait)
        payload = {"touser": openid, "msgtype": "text", "text": {"content": render_text(message)}}
        try:
            await api.call(core, config, api.CUSTOM_SEND_PATH, payload)
        except api.WeChatApiError as exc:
            raise api.delivery_error(exc) from None
        return SendResult(channel_message_id=None)  # WeChat gives customer-service sends no id
