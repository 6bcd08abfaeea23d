"""Managers' changes to a community, recorded as `community.updated`."""

from __future__ import annotations

from kith.communities.models import Community, CommunityPatch
from kith.communities.store import communities, get_community
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.models import Author


async def update(
    core: Core, workspace_id: str, community_id: str, patch: CommunityPatch, actor: Author
) -> Community:
    await get_community(core, workspace_id, community_id)
    changes = patch.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    if changes:
        changes["updated_at"] = core.clock.now()
        await communities(core).update_one(
            {"_id": community_id, "workspace_id": workspace_id}, {"$set": changes}
        )
        fields = sorted(k for k in changes if k != "updated_at")
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
