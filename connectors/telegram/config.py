"""The Telegram channel's config: the field names are pinned by the channel contract."""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

SECRET_FIELDS = frozenset({"bot_token", "secret_token"})
PRODUCTION_API = "https://api.telegram.org"


class TelegramConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bot_token: str = Field(
        pattern=r"^\d+:[A-Za-z0-9_-]+$",
        max_length=256,
        description="The token @BotFather gives (`123456:ABC-…`).",
    )
    secret_token: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        pattern=r"^[A-Za-z0-9_-]{16,256}$",
        description="Telegram echoes it in X-Telegram-Bot-Api-Secret-Token (generated if omitted).",
    )
    mode: Literal["webhook", "polling"] = Field(
        default="webhook", description="webhook needs KITH_PUBLIC_URL over HTTPS; polling does not."
    )
    api_base: HttpUrl | None = Field(
        default=None, description="A local Bot API server instead of api.telegram.org."
    )

    @property
    def api_url(self) -> str:
        """Where the Bot API is called: `api_base`, or Telegram's own."""
        return str(self.api_base) if self.api_base else PRODUCTION_API


def bot_id(token: str) -> str:
    """The bot's numeric id is the token's public prefix (safe to log and to key limits on)."""
    return token.partition(":")[0]
