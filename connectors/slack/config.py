"""The Slack channel's config: one Slack app installed in one Slack workspace."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from slack_sdk.web.async_client import AsyncWebClient


class SlackChannelConfig(BaseModel):
    """One Slack app installed in one Slack workspace."""

    model_config = ConfigDict(extra="forbid")

    bot_token: str = Field(
        min_length=10,
        max_length=512,
        pattern=r"^(xoxe\.)?xoxb-",
        description="Bot User OAuth Token (xoxb-…), from OAuth & Permissions.",
    )
    signing_secret: str = Field(
        min_length=8, max_length=256, description="Signing Secret, from Basic Information."
    )
    api_base: HttpUrl | None = Field(
        default=None, description="Web API base URL; leave empty for https://slack.com/api/."
    )

    @property
    def api_url(self) -> str:
        """Where the Web API is called: `api_base`, or Slack's own."""
        return str(self.api_base) if self.api_base else AsyncWebClient.BASE_URL
