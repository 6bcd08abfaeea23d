"""The settings a community's managers give it, one model per concern (validated at the
edge, stored on the community). Each concern's module reads its own: `welcome`, `moderation`,
`referrals`."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kith.bots.patterns import PatternError, compile_pattern
from kith.core.tags import FoldedTag

Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Template = dict[Language, Annotated[str, StringConstraints(min_length=1, max_length=4000)]]
# Language ("en", "zh") → text, which may be empty. Keyed by a language, never a key of the
# client's choosing (`$gt`, `a.b` would be stored as they are).
Texts = dict[Language, Annotated[str, StringConstraints(max_length=4000)]]


# The sections' per-language texts (a patch merges them by language) and what each fills
# in: any other `{…}` (or `{{ … }}`, the broadcasts' templates) would reach members as typed,
# so a change naming one is refused (`kith.communities.actions`); texts saved before this
# check are still read.
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "welcome.texts": ("name",),
    "welcome.raid_texts": ("count",),
    "rules.texts": ("name",),
    "rules.button": (),
    "moderation.warn_texts": ("name", "reason", "done"),
}
_PLACEHOLDER = re.compile(r"\{\{[^{}]*\}\}|\{[^{}]*\}")


def unknown_placeholders(text: str, allowed: tuple[str, ...]) -> list[str]:
    """The placeholders in `text` that are not `{a}` for an `a` in `allowed`, once each."""
    known = {"{" + name + "}" for name in allowed}
    found = [p for p in _PLACEHOLDER.findall(text) if p not in known]
    return list(dict.fromkeys(found))


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
        le=24 * 3600,
        description="A welcome waits this long, so a burst is seen as a raid before anyone "
        "is welcomed one by one.",
    )
    late_hours: int = Field(
        default=24,
        ge=1,
        le=365 * 24,
        description="A join learnt of later than this (an outage, a history replayed) is "
        "not greeted.",
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
    timeout_minutes: int | None = Field(
        default=30,
        ge=1,
        le=30 * 24 * 60,
        description="Not accepted by then: removed. None: never removed; restricted until "
        "they accept.",
    )


# RE2's own words for what is wrong (its `RegexpStatus` texts), as a key a page words in
# its language; anything else is `other`, shown as RE2 said it.
RE2_PROBLEMS = {
    "missing )": "missing_paren",
    "unexpected )": "unexpected_paren",
    "missing ]": "missing_bracket",
    "trailing \\": "trailing_backslash",
    "invalid escape sequence": "invalid_escape",
    "invalid character class": "invalid_class",
    "invalid character class range": "invalid_range",
    "no argument for repetition operator": "no_repeat_argument",
    "invalid repetition size": "invalid_repeat_size",
    "bad repetition operator": "bad_repeat",
    "invalid perl operator": "unsupported_operator",
    "invalid named capture group": "invalid_group_name",
    "invalid UTF-8": "invalid_utf8",
}


def _not_re2(bad: list[tuple[int, str]]) -> PydanticCustomError:
    """Patterns refused by RE2, each `(n, detail)` with `n` from 0: the message names them
    all; for a page to word them itself, the first one's `line` (from 1), RE2's `problem` as
    a key and the `excerpt` RE2 quoted, and every one's in `lines`, `problems` and `details`
    (one a line, in the same order: a refusal's limits are plain values)."""
    parts = [(n, detail, *detail.partition(": ")) for n, detail in bad]
    n, detail, said, _, excerpt = parts[0]
    message = "; ".join(f"pattern {n} is not RE2 syntax: {detail}" for n, detail, *_ in parts)
    return PydanticCustomError(
        "pattern_syntax",
        message,  # a template filled by plain replacement: a pattern's braces stay as they are
        {
            "n": n,
            "line": n + 1,
            "detail": detail,
            "problem": RE2_PROBLEMS.get(said, "other"),
            "excerpt": excerpt,
            "lines": "\n".join(str(p[0] + 1) for p in parts),
            "problems": "\n".join(RE2_PROBLEMS.get(p[2], "other") for p in parts),
            "details": "\n".join(p[1] for p in parts),
        },
    )


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
        """Every bad line in one refusal (`_not_re2`), not only the first."""
        bad = []
        for n, pattern in enumerate(patterns):
            try:
                compile_pattern(pattern)
            except PatternError as exc:
                bad.append((n, str(exc)))
        if bad:
            raise _not_re2(bad)
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


class RewardMessage(BaseModel):
    """What the referrer is told when a goal is met, on their own private conversation:
    {count} is their credited referrals here, {coupon} the coupon code."""

    model_config = ConfigDict(extra="forbid")

    texts: Texts = Field(min_length=1, description="Per language ({count}, {coupon}).")
    coupon_code: str | None = Field(default=None, max_length=64)
    # A reward earned is service; "marketing" asks consent and the courtesy rules first.
    purpose: Literal["service", "marketing"] = "service"


class Goal(BaseModel):
    """A reward for credited referrals in this community: at `at` exactly once, or at every
    multiple of `every`; what it gives is a tag, an attribute and/or a message."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$", description="Names the goal for good.")
    at: int | None = Field(default=None, ge=1, le=100_000)
    every: int | None = Field(default=None, ge=1, le=100_000)
    tag: FoldedTag | None = Field(default=None, min_length=1, max_length=64)
    attribute: dict[str, str | int | bool] | None = Field(default=None, max_length=5)
    message: RewardMessage | None = None

    @model_validator(mode="after")
    def _one_rule_and_a_reward(self) -> Goal:
        if (self.at is None) == (self.every is None):
            raise ValueError("a goal has either `at` or `every`")
        if self.tag is None and not self.attribute and self.message is None:
            raise ValueError("a goal gives a tag, an attribute or a message")
        return self

    def reached(self, count: int) -> bool:
        """Whether a credit that brought the count to `count` meets this goal."""
        if self.at is not None:
            return count == self.at
        assert self.every is not None
        return count % self.every == 0


class Referrals(BaseModel):
    """Invite links and who brought whom (`kith.communities.referrals`)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="Credit joins through invite links.")
    revoke_days: int = Field(
        default=7, ge=0, le=365, description="A leave within this many days revokes the credit."
    )
    goals: list[Goal] = Field(default=[], max_length=20)

    @model_validator(mode="after")
    def _goal_ids_unique(self) -> Referrals:
        ids = [g.id for g in self.goals]
        if len(ids) != len(set(ids)):
            raise ValueError("goal ids must differ")
        return self


class JoinRequests(BaseModel):
    """Who lets in someone asking to join through an invite link that needs approval
    (Telegram's `creates_join_request`): the bot at once, or a moderator from the inbox
    (`kith.communities.join_requests`)."""

    model_config = ConfigDict(extra="forbid")

    mode: Literal["moderators", "approve"] = Field(
        default="moderators",
        description="moderators: a note in the inbox, approved or declined through the API; "
        "approve: the bot approves each request at once.",
    )
    language: Language = Field(default="en", description="Of the note to moderators.")
