"""A moderator lifts an action (after an appeal, or on second thoughts): a mute is lifted with
`unrestrict`, a ban with the platform's unban where its `GroupAdmin` has one, else `remove`
(a ban lifted at once: they may join again). Deleted messages and warnings have nothing to
undo on the platform; their row is marked lifted all the same. The lift is an audit row of its
own (by the moderator), and lifting twice is the first lift."""

from __future__ import annotations

from kith.communities.audit import AuditRow, Outcome, audit, begin, get_row, row_id
from kith.communities.models import Community, MemberStatus
from kith.communities.moderation_actions import group_admin
from kith.communities.store import get_community, member_id, members
from kith.core.context import Core
from kith.core.errors import Conflict, DeliveryError, KithError
from kith.core.events import build_event, record
from kith.core.groups import Unsupported
from kith.core.ids import derived_id
from kith.core.models import Author

LIFTABLE = frozenset({"delete", "warn", "mute", "ban", "report"})


async def lift(
    core: Core, workspace_id: str, community_id: str, audit_id: str, by: Author
) -> AuditRow:
    """The lift's own audit row (taken, or refused with the platform's reason)."""
    community = await get_community(core, workspace_id, community_id)
    row = await get_row(core, community.id, audit_id)
    if row.action not in LIFTABLE:
        raise Conflict("only a moderation action can be lifted", field="audit_id")
    if row.outcome != Outcome.taken:
        raise Conflict("the action was not taken", field="audit_id")
    now = core.clock.now()
    lifting = AuditRow(
        id=row_id("lift", row.id),
        workspace_id=workspace_id,
        community_id=community.id,
        customer_id=row.customer_id,
        platform_user_id=row.platform_user_id,
        member_name=row.member_name,
        rule="moderator",
        detail=f"lifts {row.action}",
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
    outcome = Outcome.refused if reason else Outcome.taken
    await audit(core).update_one(
        {"_id": lifting.id}, {"$set": {"outcome": outcome.value, "reason": reason}}
    )
    if reason is None:
        await audit(core).update_one(
            {"_id": row.id}, {"$set": {"lifted_at": now, "lifted_by": by.model_dump()}}
        )
    await _record(core, community, row, lifting, outcome)
    return await get_row(core, community.id, lifting.id)


async def _undo(core: Core, community: Community, row: AuditRow) -> str | None:
    if row.action not in ("mute", "ban"):
        return None
    try:
        admin, channel = await group_admin(core, community)
        chat, user = community.platform_chat_id, row.platform_user_id
        if row.action == "mute":
            await admin.unrestrict(core, channel, chat, user)
            return None
        unban = getattr(admin, "unban", None)
        if unban is not None:
            await unban(core, channel, chat, user)
        else:
            await admin.remove(core, channel, chat, user)
    except DeliveryError as exc:
        return exc.message
    except Unsupported as exc:
        return f"unsupported: {exc}" if str(exc) else "unsupported"
    except KithError as exc:
        return exc.message
    await members(core).update_one(
        {"_id": member_id(community.id, user), "status": MemberStatus.banned.value},
        {"$set": {"status": MemberStatus.left.value}},
    )
    return None


async def _record(
    core: Core, community: Community, row: AuditRow, lifting: AuditRow, outcome: Outcome
) -> None:
    await record(
        core,
        build_event(
            core,
            community.workspace_id,
            "community.moderation_lifted",
            actor=lifting.by,
            event_id=derived_id("community-event", "community.moderation_lifted", lifting.id),
            conversation_id=community.conversation_id,
            customer_id=row.customer_id,
            data={
                "community_id": community.id,
                "audit_id": lifting.id,
                "lifts": row.id,
                "action": row.action,
                "outcome": outcome.value,
            },
        ),
    )
