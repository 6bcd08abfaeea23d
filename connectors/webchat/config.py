"""The web chat channel's config: where the widget may be embedded and how it looks."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kith.connectors.webchat.origins import normalize_origin


class WebchatConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    allowed_origins: list[str] = Field(
        default=[],
        max_length=50,
        description="Sites that may embed the widget, e.g. https://shop.example.",
    )
    identity_secret: str | None = Field(
        default=None,
        min_length=16,
        max_length=256,
        description="Verifies your users: user_hash = hex HMAC-SHA256(identity_secret, user_id).",
    )
    title: str | None = Field(default=None, max_length=80, description="The chat window's title.")
    greeting: str | None = Field(
        default=None, max_length=500, description="Shown to visitors before they write."
    )
    greeting_zh: str | None = Field(
        default=None,
        max_length=500,
        description="Shown instead to visitors the widget speaks Chinese to.",
    )
    color: str | None = Field(
        default=None, pattern=r"^#(?:[0-9a-fA-F]{3}){1,2}$", description="Accent colour, #rrggbb."
    )

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        return list(dict.fromkeys(normalize_origin(v) for v in values))
