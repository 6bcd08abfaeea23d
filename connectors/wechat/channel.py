"""The WeChat channel type: config, secrets, capabilities, sender and webhook routes."""

from __future__ import annotations

from kith.connectors.wechat.config import SECRET_FIELDS, WeChatConfig
from kith.connectors.wechat.routes import process, router
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
    replay=process,
    description="WeChat Official Account (公众号): server-URL pushes, customer-service replies.",
    endpoints=(("server_url", "/webhooks/wechat/{id}"),),
    translations={
        "zh": {
            "": "微信公众号：服务器地址接收推送，通过客服消息接口回复。",
            "app_id": "AppID（开发者ID）。",
            "app_secret": "AppSecret（开发者密码）；只写不读。",
            "token": "服务器配置中的 Token（令牌），用于校验推送签名；只写不读。",
            "encoding_aes_key": (
                "EncodingAESKey（消息加解密密钥），兼容模式与安全模式需要；只写不读。"
            ),
            "api_base": "微信 API 地址；未设置时为 https://api.weixin.qq.com（代理或测试时使用）。",
        }
    },
)
