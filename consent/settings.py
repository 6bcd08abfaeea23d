"""A workspace's consent keywords: whole messages that revoke or grant marketing consent."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from kith.core.context import Core

COLLECTION = "consent_settings"
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class ConsentSettings(BaseModel):
    """`stop_keywords` revoke the channel's marketing consent, `start_keywords` grant it back;
    matched against the whole message, trimmed, in any case."""

    model_config = ConfigDict(extra="forbid")

    stop_keywords: list[Keyword] = Field(
        default=["STOP", "UNSUBSCRIBE", "退订", "取消订阅"], max_length=30
    )
    start_keywords: list[Keyword] = Field(default=["START", "订阅"], max_length=30)

    @field_validator("start_keywords")
    @classmethod
    def _disjoint(cls, value: list[str], info: ValidationInfo) -> list[str]:
        stops = {k.casefold() for k in info.data.get("stop_keywords", [])}
        for n, keyword in enumerate(value):
            if keyword.casefold() in stops:
                raise ValueError(f"item {n}, {keyword!r}, is also a stop keyword")
        return value


async def load_settings(core: Core, workspace_id: str) -> ConsentSettings:
    doc = await core.store.collection(COLLECTION).find_one(
        {"_id": workspace_id}, {"stop_keywords": 1, "start_keywords": 1}
    )
    if doc is None or "stop_keywords" not in doc:
        return ConsentSettings()
    doc.pop("_id", None)
    return ConsentSettings.model_validate(doc)


async def save_settings(core: Core, workspace_id: str, settings: ConsentSettings) -> None:
    """Only the keywords: the same document keeps the workspace's link key (`links`)."""
    await core.store.collection(COLLECTION).update_one(
        {"_id": workspace_id}, {"$set": settings.model_dump()}, upsert=True
    )
