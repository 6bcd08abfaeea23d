"""The email channel's config and registration."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from kith.connectors.email.poller import DEFAULT_POLL_SECONDS, EmailPoller
from kith.connectors.email.sender import DEFAULT_SEND_PER_MINUTE, EmailSender
from kith.core.channels import Capabilities, ChannelType

Security = Literal["ssl", "starttls", "none"]
HOST = r"^[A-Za-z0-9.\-]+$|^\[[0-9A-Fa-f:.]+\]$"


class EmailChannelConfig(BaseModel):
    """One mailbox: read over IMAP, answered over SMTP (usually with an app password)."""

    model_config = ConfigDict(extra="forbid")

    address: str = Field(
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320, description="The support address."
    )
    imap_host: str = Field(min_length=1, max_length=255, pattern=HOST)
    imap_port: int = Field(default=993, ge=1, le=65535)
    imap_security: Security = "ssl"
    smtp_host: str = Field(min_length=1, max_length=255, pattern=HOST)
    smtp_port: int = Field(default=465, ge=1, le=65535)
    smtp_security: Security = "ssl"
    username: str = Field(min_length=1, max_length=320, description="Usually the address.")
    password: str = Field(min_length=1, max_length=1024, description="An app password.")
    mailbox: str = Field(default="INBOX", min_length=1, max_length=255)
    send_per_minute: int = Field(default=DEFAULT_SEND_PER_MINUTE, ge=1, le=10_000)
    poll_seconds: float = Field(default=DEFAULT_POLL_SECONDS, ge=5, le=3600)
    idle: bool = Field(default=True, description="Use IMAP IDLE for instant mail, if offered.")


channel_type = ChannelType(
    name="email",
    config_model=EmailChannelConfig,
    sender=EmailSender(),
    secret_fields=frozenset({"password"}),
    capabilities=Capabilities(threads=True),
    poller=EmailPoller(),
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
