"""The web chat channel's sender and registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kith.connectors.webchat.config import WebchatConfig
from kith.connectors.webchat.routes import router
from kith.core.channels import Capabilities, ChannelType, SendResult

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.models import Channel, Conversation, Message


class WebchatSender:
    """Nothing to push: marking the reply sent is what lets the widget pull and stream it."""

    async def send(
        self, core: Core, channel: Channel, conversation: Conversation, message: Message
    ) -> SendResult:
        return SendResult(channel_message_id=message.id)


channel_type = ChannelType(
    name="webchat",
    config_model=WebchatConfig,
    sender=WebchatSender(),
    secret_fields=frozenset({"identity_secret"}),
    capabilities=Capabilities(buttons=True, images=True),
    router=router,
    description="A chat widget on your own website (a script tag, like Intercom's Messenger).",
    endpoints=(("script_url", "/widget/{id}.js"), ("demo_page", "/demo/widget/{id}")),
    translations={
        "zh": {
            "": "嵌入您自己网站的聊天窗口（一段 script 标签，类似 Intercom Messenger）。",
            "allowed_origins": "允许嵌入该窗口的网站，例如 https://shop.example。",
            "identity_secret": (
                "验证您的用户：user_hash = hex HMAC-SHA256(identity_secret, user_id)。"
            ),
            "title": "聊天窗口标题。",
            "greeting": "访客发言前显示的欢迎语。",
            "greeting_zh": "窗口对访客说中文时，改为显示这条欢迎语。",
            "color": "主题色，格式 #rrggbb。",
        }
    },
)
