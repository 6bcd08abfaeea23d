"""The settings a community's managers give it, one model per concern (validated at the
edge, stored on the community). Each concern's module reads its own: `welcome`, `moderation`,
`referrals`."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kith.bots.patterns import PatternError, compile_pattern

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


class Action(StrEnum):
    """What a broken rule does; a rule's actions combine (delete + warn is the common one)."""

    delete = "delete"  # the message is deleted in the group
    warn = "warn"  # a message in the group naming the member, with an appeal button
    mute = "mute"  # may read, not post, for `mute_minutes`
    ban = "ban"  # removed and kept out for `ban_days` (None: for good)
    report = "report"  # a private note for the moderators on the community's conversation


Actions = Annotated[list[Action], Field(max_length=5)]
DEFAULT_ACTIONS = [Action.delete, Action.warn]


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    actions: Actions = Field(default=DEFAULT_ACTIONS, description="Taken together, in order.")


class WordsRule(Rule):
    """Banned words (English and Chinese, matched through the variants that
    `kith.communities.moderation_rules` lists) and admin-written RE2 patterns."""

    words: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default=[], max_length=1000
    )
    patterns: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        default=[], max_length=100, description="RE2 syntax (linear time); matched case-folded."
    )

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for n, pattern in enumerate(patterns):
            try:
                compile_pattern(pattern)
            except PatternError as exc:
                raise ValueError(f"pattern {n} is not RE2 syntax: {exc}") from None
        return patterns


class NewMembersRule(Rule):
    """Links (or media) from members who first joined less than `min_days` ago."""

    min_days: float = Field(default=3, ge=0, le=365)


class FloodRule(Rule):
    """More than `messages` messages in `seconds` from one member."""

    actions: Actions = Field(default=[Action.delete, Action.mute])
    messages: int = Field(default=5, ge=1, le=1000)
    seconds: int = Field(default=10, ge=1, le=86_400)


class RepeatRule(Rule):
    """The same message from `members` different members within `seconds` (spam waves)."""

    actions: Actions = Field(default=[Action.delete, Action.report])
    members: int = Field(default=3, ge=2, le=1000)
    seconds: int = Field(default=600, ge=1, le=86_400)


class Moderation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
    words: WordsRule = WordsRule()
    links: NewMembersRule = NewMembersRule()
    flood: FloodRule = FloodRule()
    repeat: RepeatRule = RepeatRule()
    media: NewMembersRule = NewMembersRule(min_days=1)
    mute_minutes: int = Field(default=60, ge=1, le=525_600)
    ban_days: int | None = Field(default=None, ge=1, le=366, description="None: for good.")
    language: str = Field(default="en", max_length=8, description="Of the warnings posted.")
    warn_texts: Texts = Field(
        default={}, description="Per language; {name} is the member, {reason} the rule broken."
    )


class Referrals(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = False
