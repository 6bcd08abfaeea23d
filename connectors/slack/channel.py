"""The Slack channel's registration: config model, secrets, sender and webhook routes."""

from __future__ import annotations

from kith.connectors.slack.admin import SlackGroupAdmin
from kith.connectors.slack.config import SlackChannelConfig
from kith.connectors.slack.routes import replay, router
from kith.connectors.slack.sender import SlackSender
from kith.core.channels import Capabilities, ChannelType

channel_type = ChannelType(
    name="slack",
    config_model=SlackChannelConfig,
    sender=SlackSender(),
    secret_fields=frozenset({"bot_token", "signing_secret"}),
    capabilities=Capabilities(buttons=True, images=True, threads=True),
    router=router,
    replay=replay,
    group_admin=SlackGroupAdmin(),
    description="A Slack app: DMs, channel threads and mentions, with Block Kit buttons.",
    endpoints=(
        ("events_url", "/webhooks/slack/{id}"),
        ("interactivity_url", "/webhooks/slack/{id}/interactive"),
    ),
    translations={
        "zh": {
            "": "Slack 应用：私信、频道消息串与 @提及，支持 Block Kit 按钮。",
            "bot_token": "Bot User OAuth Token（xoxb-…），见 OAuth & Permissions 页面。",
            "signing_secret": "Signing Secret，见 Basic Information 页面。",
            "api_base": "Web API 基础地址；留空即 https://slack.com/api/。",
        }
    },
)
