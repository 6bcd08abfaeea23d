"""Who is restricted until they accept the rules: members whose join waits for a press of the
welcome's (or a raid summary's) rules button (`community_joins`, `rules: pending`). The roster
reads it from the joins, where the rules keep it, so it is shown and filtered by but never
stored twice (`Member.awaiting_rules` is filled on reading)."""

from __future__ import annotations

from typing import Any

from kith.communities.joins import RulesState, joins
from kith.communities.models import Member, MemberStatus
from kith.core.context import Core
from kith.core.storable import literal_regex

STATUS = "rules"  # the roster's filter: members waiting to accept the rules
MOST = 10_000  # waiting members read for the filter (a raid's, a week of joins …)


async def waiting_ids(core: Core, community_id: str, among: list[str] | None = None) -> set[str]:
    """The member ids (of `among`, else all) whose join waits for the rules to be accepted."""
    query: dict[str, Any] = {"community_id": community_id, "rules": RulesState.pending.value}
    if among is not None:
        query["member_id"] = {"$in": among}
    found = joins(core).find(query, {"member_id": 1}).limit(MOST)
    return {str(doc["member_id"]) async for doc in found}


async def roster_query(
    core: Core, community_id: str, status: str, q: str | None = None
) -> dict[str, Any]:
    """The roster's query for a status filter: `member`, `left`, `banned`, `all`, or `rules`
    (members still in and waiting to accept the rules); with `q`, those whose name holds it in
    any case, or whose platform id is it (the invite picker's search)."""
    query: dict[str, Any] = {"community_id": community_id}
    if q and q.strip():
        held = {"$regex": literal_regex(q.strip()), "$options": "i"}
        query["$or"] = [{"name": held}, {"platform_user_id": q.strip()}]
    if status == STATUS:
        waiting = sorted(await waiting_ids(core, community_id))
        query.update(status=MemberStatus.member.value, _id={"$in": waiting})
    elif status != "all":
        query["status"] = MemberStatus(status).value
    return query


async def with_waiting(core: Core, community_id: str, docs: list[dict[str, Any]]) -> list[Member]:
    """The roster's members, each marked when it waits to accept the rules."""
    shown = [Member.from_doc(d) for d in docs]
    waiting = await waiting_ids(core, community_id, [m.id for m in shown])
    for member in shown:
        member.awaiting_rules = member.status == MemberStatus.member and member.id in waiting
    return shown
