"""Bodies of the inbox's JSON API (`/app/api`). Requests forbid unknown fields."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kith.core.models import Role
from kith.core.permissions import can_answer


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Reply(Strict):
    text: str = Field(min_length=1, max_length=100_000)
    private: bool = False


class CustomerMerge(Strict):
    """Fold `other_id` into the customer of the URL (the panel's)."""

    other_id: str = Field(min_length=1, max_length=64)


class TagsChange(Strict):
    tags: list[str] = Field(max_length=100)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        cleaned = [t.strip() for t in value if t.strip()]
        if any(len(t) > 64 for t in cleaned):
            raise ValueError("tags are at most 64 characters")
        return list(dict.fromkeys(cleaned))


class Presence(Strict):
    # `typing` a reply (the web chat widget shows it to the customer), `noting` a private note
    state: str = Field(pattern="^(viewing|typing|noting|left)$")


class CannedCreate(Strict):
    shortcut: str = Field(min_length=1, max_length=33)
    text: str = Field(min_length=1, max_length=10_000)


class Settings(Strict):
    locale: str = Field(pattern="^(en|zh)$")


class UserCreate(Strict):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=8, max_length=1024)
    name: str | None = Field(default=None, max_length=128)
    role: Role = Role.agent
    team_ids: list[str] = Field(default=[], max_length=50)


class TeamCreate(Strict):
    name: str = Field(min_length=1, max_length=128)
    channel_ids: list[str] = Field(default=[], max_length=200)
    member_ids: list[str] = Field(default=[], max_length=500)


class TeamChange(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=128)
    channel_ids: list[str] | None = Field(default=None, max_length=200)
    add_member_ids: list[str] = Field(default=[], max_length=500)
    remove_member_ids: list[str] = Field(default=[], max_length=500)


def user_out(doc: dict[str, Any]) -> dict[str, Any]:
    """A user as other agents see them: never the password hash. `can_answer`: they may be
    given a conversation or a ticket (an enabled agent or admin; the assignee lists offer
    only them)."""
    return {
        "id": doc["_id"],
        "name": doc.get("name"),
        "email": doc.get("email"),
        "role": doc.get("role"),
        "team_ids": doc.get("team_ids", []),
        "disabled": bool(doc.get("disabled")),
        "must_change_password": bool(doc.get("must_change_password")),
        "can_answer": can_answer(doc),
    }
