"""A workspace's ticket settings: when a customer's reply reopens a solved ticket, and which
rules open tickets by themselves. Every workspace has them (the defaults until an admin saves
its own); they are read on every rule check, so they stay one small document."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from kith.core.context import Core

SETTINGS = "ticket_settings"
DEFAULT_KEYWORDS = ("refund", "complaint", "投诉", "退款", "退货")

Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class Language(StrEnum):
    """The language of what Kith writes on the workspace's tickets (rule subjects, notes):
    one chosen for the workspace, or (None, the default) the customer's, as Kith writes to
    them (`kith.core.languages`), so a Chinese conversation's ticket is titled in Chinese."""

    en = "en"
    zh = "zh"


class TicketSettings(BaseModel):
    """What `PUT /api/v1/tickets/settings` takes whole (a field left out is its default)."""

    model_config = ConfigDict(extra="forbid")

    language: Language | None = None
    reopen_days: int = Field(default=7, ge=0, le=365)
    negative_sentiment: bool = True
    keywords_enabled: bool = True
    keywords: list[Keyword] = Field(default=list(DEFAULT_KEYWORDS), max_length=100)
    bot_failures: bool = True
    waiting_enabled: bool = True
    waiting_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60)

    @field_validator("keywords")
    @classmethod
    def _distinct(cls, keywords: list[str]) -> list[str]:
        return list(dict.fromkeys(k.casefold() for k in keywords))


async def get_settings(core: Core, workspace_id: str) -> TicketSettings:
    doc = await core.store.collection(SETTINGS).find_one({"_id": workspace_id})
    if doc is None:
        return TicketSettings()
    return TicketSettings.model_validate({k: v for k, v in doc.items() if k != "_id"})


async def save_settings(core: Core, workspace_id: str, settings: TicketSettings) -> TicketSettings:
    stored: dict[str, Any] = settings.model_dump(mode="json")
    await core.store.collection(SETTINGS).replace_one({"_id": workspace_id}, stored, upsert=True)
    return settings
