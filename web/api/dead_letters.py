"""`/api/v1/dead-letters`: authentic platform payloads Kith could not use, and their replay.

A webhook keeps such a payload and answers 2xx (a 4xx only makes the platform retry it);
once the cause is fixed, an admin replays it here. See `kith.core.dead_letters`.
"""

from __future__ import annotations

from fastapi import APIRouter

from kith.core.dead_letters import DeadLetter, do_replay_dead_letter, list_dead_letters
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.api.schemas import Page

router = APIRouter(tags=["operations"])


@router.get("/dead-letters", response_model=Page[DeadLetter])
async def list_(core: CoreDep, workspace_id: WorkspaceDep) -> Page[DeadLetter]:
    """The workspace's dead letters, newest first, with a preview of each payload (a page,
    like every list; letters expire after `KITH_DEAD_LETTER_DAYS`)."""
    return Page(items=await list_dead_letters(core, workspace_id), next_cursor=None)


@router.post("/dead-letters/{dead_letter_id}/replay", response_model=DeadLetter)
async def replay(dead_letter_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> DeadLetter:
    """Parse and ingest the payload again: `replayed_at` and `outcome` say it worked, a new
    `reason` that it still cannot be used. Replaying twice stores nothing twice."""
    return await do_replay_dead_letter(core, workspace_id, dead_letter_id)
