"""The email channel's config: one mailbox, its servers and its pace."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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
    send_per_minute: int = Field(default=30, ge=1, le=10_000)
    poll_seconds: float = Field(default=60.0, ge=5, le=3600)
    idle: bool = Field(default=True, description="Use IMAP IDLE for instant mail, if offered.")

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[-1]
