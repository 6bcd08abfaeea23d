"""Managers' changes to a community, recorded as `community.updated`.

A section given in part changes only the fields given, in nested rules too (the patch's
promise, "absent keeps the current"): each field given is set by its own path, so two
managers changing different fields of one section at once both keep their change. The
section, merged, is validated whole before anything is written."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from kith.communities.models import Community, CommunityPatch
from kith.communities.store import communities, get_community
from kith.core.context import Core
from kith.core.errors import all_refused
from kith.core.events import build_event, record
from kith.core.models import Author


async def update(
    core: Core, workspace_id: str, community_id: str, patch: CommunityPatch, actor: Author
) -> Community:
    community = await get_community(core, workspace_id, community_id)
    changes = _paths(community, patch, "")
    _check(community, changes)
    if changes:
        changes["updated_at"] = core.clock.now()
        await communities(core).update_one(
            {"_id": community_id, "workspace_id": workspace_id}, {"$set": changes}
        )
        fields = sorted(patch.model_fields_set)
        await record(
            core,
            build_event(
                core,
                workspace_id,
                "community.updated",
                actor=actor,
                data={"community_id": community_id, "fields": fields},
            ),
        )
    return await get_community(core, workspace_id, community_id)


def _paths(current: BaseModel, given: BaseModel, prefix: str) -> dict[str, Any]:
    """`{"moderation.words.patterns": […]}`: the fields given, a sub-model given as its own
    fields given (a value that is a list or a dict, such as `texts`, is set whole)."""
    out: dict[str, Any] = {}
    for name in sorted(given.model_fields_set):
        value, before = getattr(given, name), getattr(current, name, None)
        if isinstance(value, BaseModel) and isinstance(before, BaseModel):
            out |= _paths(before, value, f"{prefix}{name}.")
        else:
            out[prefix + name] = given.model_dump(mode="json", include={name})[name]
    return out


def _check(community: Community, changes: dict[str, Any]) -> None:
    """The community with the changes made must still be valid as a whole (a rule's own
    checks may read a field given together with one kept)."""
    doc = community.model_dump(mode="json")
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = doc
        for part in parents:
            node = node[part]
        node[leaf] = value
    try:
        Community.model_validate(doc)
    except ValidationError as exc:
        raise all_refused(exc.errors(), doc) from None
