"""The email channel's registration: config model, secrets, sender and poller."""

from __future__ import annotations

from kith.connectors.email.config import EmailChannelConfig
from kith.connectors.email.poller import EmailPoller
from kith.connectors.email.sender import EmailSender
from kith.core.channels import Capabilities, ChannelType

poller = EmailPoller()
channel_type = ChannelType(
    name="email",
    config_model=EmailChannelConfig,
    sender=EmailSender(),
    secret_fields=frozenset({"password"}),
    capabilities=Capabilities(threads=True),
    poller=poller,
    replay=poller.replay,
    description="A mailbox over IMAP (polled) and SMTP (replies threaded by Message-ID).",
    translations={
        "zh": {
            "": "通过 IMAP 收取（轮询）、SMTP 回复的邮箱（回复按 Message-ID 归入同一会话）。",
            "address": "客服邮箱地址。",
            "username": "通常就是邮箱地址。",
            "password": "应用专用密码。",
            "idle": "服务器支持时使用 IMAP IDLE 即时收信。",
        }
    },
)
