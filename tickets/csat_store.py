"""Where surveys and the workspace's survey settings live.

One survey document per (ticket, resolution), its `_id` derived from both: a consumer run
twice, or two workers at once, find the same survey rather than asking twice.
"""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.ids import derived_id
from kith.tickets.csat_models import CsatSettings

SURVEYS = "csat_surveys"
SETTINGS = "csat_settings"
PAYLOAD_PREFIX = "csat:"


class State:
    """Where a survey is: due (`scheduled`), waiting for a shut reply window (`waiting`),
    being sent (`asking`), out (`asked`), or never to be asked (`skipped`)."""

    scheduled = "scheduled"
    waiting = "waiting"
    asking = "asking"
    asked = "asked"
    skipped = "skipped"


def surveys(core: Core) -> Any:
    return core.store.collection(SURVEYS)


def survey_id(ticket_id: str, resolution: int) -> str:
    return derived_id("csat", ticket_id, str(resolution))


def button_payload(survey: str, score: int) -> str:
    return f"{PAYLOAD_PREFIX}{survey}:{score}"


async def load_settings(core: Core, workspace_id: str) -> CsatSettings:
    doc = await core.store.collection(SETTINGS).find_one({"_id": workspace_id})
    if doc is None:
        return CsatSettings()
    doc.pop("_id", None)
    return CsatSettings.model_validate(doc)


async def save_settings(core: Core, workspace_id: str, settings: CsatSettings) -> None:
    doc = settings.model_dump(mode="json")
    await core.store.collection(SETTINGS).replace_one({"_id": workspace_id}, doc, upsert=True)
