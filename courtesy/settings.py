"""A workspace's courtesy settings: quiet hours, the daily cap, its time zone, and on which
channels a marketing send needs consent given outright (not merely never refused)."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kith.core.context import Core

COLLECTION = "courtesy_settings"


def valid_zone(name: str) -> str:
    """`name` if it is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (an IANA name such as Asia/Shanghai)"
        ) from None
    return name


class CourtesySettings(BaseModel):
    """Quiet hours run from `quiet_start` to `quiet_end` in the customer's local time (across
    midnight when start > end; none when equal). `daily_cap` marketing messages per customer
    per local calendar day, across every channel (None: no cap)."""

    model_config = ConfigDict(extra="forbid")

    quiet_start: time = Field(default=time(21, 0), description="Local time quiet hours begin.")
    quiet_end: time = Field(default=time(9, 0), description="Local time quiet hours end.")
    daily_cap: int | None = Field(
        default=2, ge=1, le=100, description="Marketing messages per customer per local day."
    )
    timezone: str = Field(
        default="UTC", max_length=64, description="The zone of customers whose own is unknown."
    )
    require_granted: list[str] = Field(
        default=[],
        max_length=20,
        description="Channel types where unknown consent is not enough (e.g. ['email'] for "
        "double opt-in); elsewhere only a revoked consent stops a marketing send.",
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return valid_zone(value)

    @field_validator("quiet_start", "quiet_end")
    @classmethod
    def _minutes(cls, value: time) -> time:
        if value.tzinfo is not None:
            raise ValueError("a local time of day, without a zone")
        return value.replace(second=0, microsecond=0)


async def load_settings(core: Core, workspace_id: str) -> CourtesySettings:
    doc = await core.store.collection(COLLECTION).find_one({"_id": workspace_id})
    if doc is None:
        return CourtesySettings()
    doc.pop("_id", None)
    return CourtesySettings.model_validate(doc)


async def save_settings(core: Core, workspace_id: str, settings: CourtesySettings) -> None:
    doc = settings.model_dump(mode="json")
    await core.store.collection(COLLECTION).replace_one({"_id": workspace_id}, doc, upsert=True)
