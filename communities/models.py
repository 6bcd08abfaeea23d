"""A community (one group or channel on one channel of the workspace) and its members.

The roster is built from what the platform tells us (joins, leaves, the members who speak):
Telegram cannot list a group's members, so `member_count` is what we have seen, unless the
platform told us its own count (`platform_member_count`)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from kith.communities.settings import (
    PLACEHOLDERS,
    JoinRequests,
    Moderation,
    Referrals,
    Rules,
    Welcome,
)
from kith.core.models import Record


class BotStatus(StrEnum):
    member = "member"  # the bot reads (and may post) but cannot moderate
    admin = "admin"  # the bot may moderate and create invite links
    left = "left"  # removed, or it left: updates for the chat are ignored


class MemberRole(StrEnum):
    member = "member"
    admin = "admin"  # administrators and the creator: moderation never acts on them
    restricted = "restricted"


class MemberStatus(StrEnum):
    member = "member"
    left = "left"
    banned = "banned"


class Community(Record):
    channel_id: str
    channel_type: str
    platform_chat_id: str
    title: str = ""
    kind: str = "group"  # the platform's word: group, supergroup, channel, slack_channel …
    conversation_id: str  # the group's conversation: what is posted into it goes there
    bot_status: BotStatus = BotStatus.member
    member_count: int = 0  # members now, as seen
    platform_member_count: int | None = None
    migrated_from: list[str] = Field(default_factory=list)  # earlier chat ids (migrations)
    welcome: Welcome = Welcome()
    rules: Rules = Rules()
    moderation: Moderation = Moderation()
    referrals: Referrals = Referrals()
    join_requests: JoinRequests = JoinRequests()
    created_at: datetime
    updated_at: datetime


class ViaLink(BaseModel):
    """The Kith invite link a stay came through (`kith.communities.via`)."""

    invite_id: str
    name: str = Field(description="The link's name as the manager gave it (may be empty).")
    customer_id: str = Field(description="Whose link it is.")
    owner: str | None = Field(default=None, description="Their name.")


class Span(BaseModel):
    """One stay in the community: joined (how), and left (or not yet)."""

    model_config = ConfigDict(extra="ignore")

    joined_at: datetime
    left_at: datetime | None = None
    via: str | None = None  # the invite link or referral code a join came through
    removed: bool = False  # left because a moderator or the bot removed them
    link: ViaLink | None = Field(
        default=None,
        description="The Kith invite link `via` names, with its owner (read, not stored).",
    )

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude={"link"})


class Member(Record):
    community_id: str
    customer_id: str
    platform_user_id: str
    name: str | None = None
    role: MemberRole = MemberRole.member
    status: MemberStatus = MemberStatus.member
    first_joined_at: datetime
    joined_at: datetime  # the current (or last) stay's
    left_at: datetime | None = None
    spans: list[Span] = Field(default=[], description="Every stay, oldest first (capped).")
    last_spoke_at: datetime | None = None
    message_count: int = 0
    awaiting_rules: bool = Field(
        default=False,
        description="Restricted until they press the rules button (read from their join, "
        "`kith.communities.waiting`; not stored).",
    )


LANGUAGE_KEY = re.compile(r"^[A-Za-z0-9_-]{1,35}$")  # a text's language, fit for a path


def _offers_no_null(schema: dict[str, Any]) -> None:
    """The patch's schema without the `null` its fields refuse (`None` only means absent)."""
    for field in schema.get("properties", {}).values():
        kept = [o for o in field.pop("anyOf", []) if o.get("type") != "null"]
        field.pop("default", None)
        if len(kept) == 1:
            field.update(kept[0])
        elif kept:
            field["anyOf"] = kept


class CommunityPatch(BaseModel):
    """What managers change (`PATCH /api/v1/communities/{id}`); absent keeps the current, in
    a section too: `{"moderation": {"words": {"patterns": […]}}}` changes the patterns alone
    (`kith.communities.actions`). `null` is no value here: a field is left out to keep it.

    Per-language texts merge by language too: `{"welcome": {"texts": {"en": "Hi {name}"}}}`
    changes the English welcome and keeps the others; a language given `null` or `""` is
    removed (`{"texts": {"zh": null}}`). A list (a rule's words, referral goals) is set whole."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_offers_no_null)
    _removed: frozenset[str] = PrivateAttr(default=frozenset())  # "welcome.texts.zh" …

    @model_validator(mode="wrap")
    @classmethod
    def _removals(cls, data: Any, handler: ModelWrapValidatorHandler[CommunityPatch]) -> Any:
        """A text map's `null` or `""` languages taken out before validation, kept as paths
        to remove (the sections' models refuse both as texts)."""
        removed: set[str] = set()
        if isinstance(data, dict):
            data = dict(data)
            for path in PLACEHOLDERS:
                section, name = path.split(".")
                given = data.get(section)
                if not (isinstance(given, dict) and isinstance(given.get(name), dict)):
                    continue
                texts = given[name]
                gone = {k for k, v in texts.items() if v in (None, "") and LANGUAGE_KEY.match(k)}
                removed |= {f"{path}.{k}" for k in gone}
                kept = {k: v for k, v in texts.items() if k not in gone}
                data[section] = {**given, name: kept}
        patch = handler(data)
        patch._removed = frozenset(removed)
        return patch

    @property
    def removed(self) -> frozenset[str]:
        """The paths of the languages to remove (`welcome.texts.zh`)."""
        return self._removed

    title: str | None = Field(default=None, max_length=256)
    welcome: Welcome | None = None
    rules: Rules | None = None
    moderation: Moderation | None = None
    referrals: Referrals | None = None
    join_requests: JoinRequests | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise PydanticCustomError(
                "not_null", "may not be null: leave the field out to keep its value"
            )
        return value
