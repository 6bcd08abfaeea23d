"""A moderator lifts an action (after an appeal, or on second thoughts): a mute is lifted with
`unrestrict`, a ban with `unban` (they may join again). Only those: a deleted message stays
deleted, a warning was said and a report noted, so lifting one is a 409 that says so. The lift
is an audit row of its own (by the moderator), and lifting twice is the first lift."""

from __future__ import annotations

from kith.communities.audit import AuditRow, Outcome, audit, begin, get_row, row_id
from kith.communities.models import Community, MemberStatus
from kith.communities.moderation_actions import attempt, group_admin, settle
from kith.communities.store import member_id, members
from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.models import Author

LIFTABLE = frozenset({"mute", "ban"})  # what the platform can undo


async def lift(core: Core, community: Community, audit_id: str, by: Author) -> AuditRow:
    """The lift's own audit row (taken, or refused with the platform's reason)."""
    row = await get_row(core, community.id, audit_id)
    if row.action not in LIFTABLE:
        raise Conflict(
            f"only a mute or a ban can be lifted: a {row.action} has nothing to undo",
            field="audit_id",
        )
    if row.outcome != Outcome.taken:
        raise Conflict("the action was not taken", field="audit_id")
    now = core.clock.now()
    lifting = AuditRow(
        id=row_id("lift", row.id),
        workspace_id=community.workspace_id,
        community_id=community.id,
        customer_id=row.customer_id,
        platform_user_id=row.platform_user_id,
        member_name=row.member_name,
        rule="moderator",
        detail=f"lifts {row.action}",
        facts={"action": row.action},
        action="lift",
        message_id=row.message_id,
        excerpt=row.excerpt,
        by=by,
        at=now,
        lifts=row.id,
    )
    await audit(core).update_one(  # a refused lift may be tried again
        {"_id": lifting.id, "outcome": Outcome.refused.value},
        {"$set": {"outcome": Outcome.pending.value, "at": now, "by": by.model_dump()}},
    )
    started = await begin(core, lifting)
    if started is None:  # lifted before
        return await get_row(core, community.id, lifting.id)
    reason = await _undo(core, community, row)
    if reason is None:
        await audit(core).update_one(
            {"_id": row.id}, {"$set": {"lifted_at": now, "lifted_by": by.model_dump()}}
        )
    data = {"lifts": row.id, "action": row.action}
    return await settle(core, community, lifting, reason, "community.moderation_lifted", data)


async def _undo(core: Core, community: Community, row: AuditRow) -> str | None:
    """The platform's reason if it refused (None: undone)."""
    reason = await attempt(_platform(core, community, row), retry=False)
    if reason is None and row.action == "ban":
        await members(core).update_one(
            {
                "_id": member_id(community.id, row.platform_user_id),
                "status": MemberStatus.banned.value,
            },
            {"$set": {"status": MemberStatus.left.value}},
        )
    return reason


async def _platform(core: Core, community: Community, row: AuditRow) -> None:
    admin, channel = await group_admin(core, community)
    chat, user = community.platform_chat_id, row.platform_user_id
    if row.action == "mute":
        await admin.unrestrict(core, channel, chat, user)
        return
    await admin.unban(core, channel, chat, user)
