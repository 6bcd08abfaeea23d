"""The settings a community's managers give it, one model per concern (validated at the
edge, stored on the community). Each concern's module reads its own: `welcome`, `moderation`,
`referrals`."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Texts = dict[str, str]  # language ("en", "zh") → text


Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Template = dict[Language, Annotated[str, StringConstraints(min_length=1, max_length=4000)]]


class Welcome(BaseModel):
    """The welcome posted into the group for each new member, and raid mode: a burst of joins
    gets one summary instead of a message per member (`kith.communities.welcome`, `raid`)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    texts: Template = Field(default={}, description="Per language; {name} is the member's name.")
    language: Language = Field(
        default="en", description="The community's language: the summary's, and the fallback."
    )
    delay_seconds: int = Field(
        default=10,
        ge=0,
        le=6 * 3600,
        description="A welcome waits this long, so a burst is seen as a raid before anyone "
        "is welcomed one by one.",
    )
    rejoin_quiet_days: int = Field(
        default=7, ge=0, le=365, description="No welcome for a member back within this many days."
    )
    raid_joins: int = Field(
        default=20, ge=2, le=100_000, description="More joins than this within raid_seconds …"
    )
    raid_seconds: int = Field(default=60, ge=5, le=24 * 3600, description="… is a raid.")
    raid_texts: Template = Field(
        default={}, description="The raid's one summary, per language; {count} is how many joined."
    )


class Rules(BaseModel):
    """Rules a new member accepts by pressing a button before they may post."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    texts: Template = Field(default={}, description="The rules, per language (after the welcome).")
    button: Template = Field(default={}, description="The accept button's label, per language.")
    timeout_minutes: int = Field(
        default=30, ge=1, le=30 * 24 * 60, description="Not accepted by then: removed."
    )


class Moderation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False


class Referrals(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
