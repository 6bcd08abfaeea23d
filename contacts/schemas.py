"""Request and answer bodies shared by the merge API and the Contacts pages' JSON."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SuggestionMerge(BaseModel):
    """Which customer of a suggestion survives and which is folded into it."""

    model_config = ConfigDict(extra="forbid")

    survivor_id: str = Field(min_length=1, max_length=64)
    other_id: str = Field(min_length=1, max_length=64)


class MergedOut(BaseModel):
    merge_id: str
    survivor_id: str
