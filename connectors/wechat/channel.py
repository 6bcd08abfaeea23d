"""The WeChat channel type: config, secrets, capabilities, sender and webhook routes."""

from __future__ import annotations

from kith.connectors.wechat.config import SECRET_FIELDS, WeChatConfig
from kith.connectors.wechat.routes import router
from kith.connectors.wechat.sender import WeChatSender
from kith.core.channels import Capabilities, ChannelType

channel_type = ChannelType(
    name="wechat",
    config_model=WeChatConfig,
    sender=WeChatSender(),
    secret_fields=SECRET_FIELDS,
    # Customer-service text: links only; buttons become a numbered menu, images a link.
    capabilities=Capabilities(buttons=False, images=False, threads=False, edits=False),
    router=router,
    description="WeChat Official Account (公众号): server-URL pushes, customer-service replies.",
    endpoints=(("server_url", "/webhooks/wechat/{id}"),),
)
