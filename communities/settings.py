"""The settings a community's managers give it, one model per concern (validated at the
edge, stored on the community). Each concern's module reads its own: `welcome`, `moderation`,
`referrals`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

Texts = dict[str, str]  # language ("en", "zh") → text


class Welcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    texts: Texts = Field(default={}, description="Per language; {name} is the member's name.")


class Rules(BaseModel):
    """Rules a new member accepts by pressing a button before they may post."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    texts: Texts = {}


class Moderation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False


class Referrals(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
