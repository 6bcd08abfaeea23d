"""Canned responses: saved replies an agent inserts by typing `/` and a shortcut."""

from __future__ import annotations

import re

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, NotFound
from kith.core.ids import derived_id
from kith.core.storable import literal_regex

SHORTCUT = re.compile(r"^[\w-]{1,32}$")


class CannedResponse(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(validation_alias=AliasChoices("_id", "id"))
    workspace_id: str
    shortcut: str
    text: str


async def create_canned(core: Core, workspace_id: str, shortcut: str, text: str) -> CannedResponse:
    """One per shortcut in a workspace: the id derives from it, so the store keeps them unique."""
    shortcut = shortcut.strip().lstrip("/").lower()
    if not SHORTCUT.match(shortcut):
        raise InvalidInput("a shortcut is 1 to 32 letters, digits, - or _", field="shortcut")
    if not text.strip() or len(text) > 10_000:
        raise InvalidInput("a canned response needs 1 to 10,000 characters", field="text")
    doc = {
        "_id": derived_id("canned", workspace_id, shortcut),
        "workspace_id": workspace_id,
        "shortcut": shortcut,
        "text": text,
        "created_at": core.clock.now(),
    }
    try:
        await core.store.canned_responses.insert_one(doc)
    except DuplicateKeyError:
        raise Conflict("that shortcut is taken", field="shortcut") from None
    return CannedResponse.model_validate(doc)


async def search_canned(
    core: Core, workspace_id: str, prefix: str = "", limit: int = 20
) -> list[CannedResponse]:
    """Shortcuts starting with `prefix` (what the agent typed after `/`), alphabetical."""
    query: dict[str, object] = {"workspace_id": workspace_id}
    prefix = prefix.strip().lstrip("/").lower()
    if prefix:
        query["shortcut"] = {"$regex": f"^{literal_regex(prefix)}"}
    docs = await core.store.canned_responses.find(query).sort("shortcut", 1).to_list(limit)
    return [CannedResponse.model_validate(d) for d in docs]


async def delete_canned(core: Core, workspace_id: str, canned_id: str) -> None:
    result = await core.store.canned_responses.delete_one(
        {"_id": canned_id, "workspace_id": workspace_id}
    )
    if not result.deleted_count:
        raise NotFound("no such canned response", field="canned_id")
