"""Where SLA calendars and policies live, their writes, and which policy a ticket is under.

A ticket's team's policy applies, else the workspace's default, else none (clocks run, nothing
is due). A team is claimed by one policy at most: a second claim is refused (409 on `team_id`,
naming the policy that holds it), and the unique index on `team_key` (the claimed team, set
only when a team is named) settles two saves racing for one team. Policies stored before
`team_key` existed have none, so the index builds over a database where two of them share a
team; the check by `team_id` still sees them, so saving either is refused until one lets the
team go. Policies and calendars are read at each ticket change; saving one also queues the
`sla-recompute` job (`kith.tickets.sla_recompute`), which retargets the open tickets it may
concern, from the time each has already consumed.
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, KithError, NotFound, raise_all
from kith.core.ids import new_id
from kith.core.teams import get_team, name_key
from kith.tickets.calendars import BusinessCalendar
from kith.tickets.sla import Terms
from kith.tickets.sla_models import AROUND_THE_CLOCK, CalendarIn, PolicyIn, SlaCalendar, SlaPolicy

CALENDARS = "sla_calendars"
POLICIES = "sla_policies"


def calendars(core: Core) -> Any:
    return core.store.collection(CALENDARS)


def policies(core: Core) -> Any:
    return core.store.collection(POLICIES)


async def list_calendars(core: Core, workspace_id: str) -> list[SlaCalendar]:
    docs = await calendars(core).find({"workspace_id": workspace_id}).sort("_id", 1).to_list()
    return [SlaCalendar.from_doc(d) for d in docs]


async def get_calendar(core: Core, workspace_id: str, calendar_id: str) -> SlaCalendar:
    doc = await calendars(core).find_one({"_id": calendar_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such calendar", field="calendar_id")
    return SlaCalendar.from_doc(doc)


async def save_calendar(
    core: Core, workspace_id: str, body: CalendarIn, calendar_id: str | None = None
) -> SlaCalendar:
    """Create (no id) or replace a calendar."""
    now = core.clock.now()
    if calendar_id is not None:
        now = (await get_calendar(core, workspace_id, calendar_id)).created_at
    calendar = SlaCalendar(
        id=calendar_id or new_id(),
        workspace_id=workspace_id,
        created_at=now,
        **body.model_dump(),
    )
    await calendars(core).replace_one({"_id": calendar.id}, calendar.to_doc(), upsert=True)
    return calendar


async def delete_calendar(core: Core, workspace_id: str, calendar_id: str) -> None:
    await get_calendar(core, workspace_id, calendar_id)
    if await policies(core).find_one({"workspace_id": workspace_id, "calendar_id": calendar_id}):
        raise Conflict("a policy uses this calendar", field="calendar_id")
    await calendars(core).delete_one({"_id": calendar_id, "workspace_id": workspace_id})


async def list_policies(core: Core, workspace_id: str) -> list[SlaPolicy]:
    docs = await policies(core).find({"workspace_id": workspace_id}).sort("_id", 1).to_list()
    return [SlaPolicy.from_doc(d) for d in docs]


async def get_policy(core: Core, workspace_id: str, policy_id: str) -> SlaPolicy:
    doc = await policies(core).find_one({"_id": policy_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such policy", field="policy_id")
    return SlaPolicy.from_doc(doc)


async def save_policy(
    core: Core, workspace_id: str, body: PolicyIn, policy_id: str | None = None
) -> SlaPolicy:
    """Create (no id) or replace a policy; a new default takes over from the old one."""
    body = body.model_copy(update={"name": body.name.strip()})
    raise_all(await _refusals(core, workspace_id, body, policy_id))
    now = core.clock.now()
    created = (await get_policy(core, workspace_id, policy_id)).created_at if policy_id else now
    policy = SlaPolicy(
        id=policy_id or new_id(),
        workspace_id=workspace_id,
        created_at=created,
        updated_at=now,
        **body.model_dump(),
    )
    doc = policy.to_doc()
    if policy.team_id is not None:
        doc["team_key"] = policy.team_id  # the claim the unique index holds (no team: none)
    try:
        await policies(core).replace_one({"_id": policy.id}, doc, upsert=True)
    except DuplicateKeyError:
        holder = await _team_holder(core, workspace_id, policy.team_id, policy.id)
        if holder is None or policy.team_id is None:
            raise
        raise _team_taken(holder) from None
    if policy.default:  # after the write: a refused save leaves the old default in place
        await policies(core).update_many(
            {"workspace_id": workspace_id, "default": True, "_id": {"$ne": policy.id}},
            {"$set": {"default": False}},
        )
    return policy


async def _team_holder(
    core: Core, workspace_id: str, team_id: str | None, policy_id: str | None
) -> SlaPolicy | None:
    """The (oldest) other policy that claims `team_id`, if any."""
    if team_id is None:
        return None
    query = {"workspace_id": workspace_id, "team_id": team_id, "_id": {"$ne": policy_id}}
    doc = await policies(core).find_one(query, sort=[("_id", 1)])
    return SlaPolicy.from_doc(doc) if doc else None


def _team_taken(holder: SlaPolicy) -> Conflict:
    return Conflict(
        f"the policy {holder.name!r} already covers this team",
        field="team_id",
        reason="policy_team_taken",
        limits={"policy_id": holder.id, "name": holder.name},
    )


async def _refusals(
    core: Core, workspace_id: str, body: PolicyIn, policy_id: str | None
) -> list[KithError]:
    """Every reason to refuse the policy at once: a blank or taken name (folded as team
    names are), a calendar or team that is not the workspace's, a team another policy
    covers (409 when it is the only fault)."""
    refusals: list[KithError] = []
    if not body.name:
        refusals.append(InvalidInput("give the policy a name", field="name", reason="missing"))
    else:
        others = (
            await policies(core)
            .find({"workspace_id": workspace_id, "_id": {"$ne": policy_id}}, {"name": 1})
            .to_list()
        )
        if any(name_key(d["name"]) == name_key(body.name) for d in others):
            refusals.append(
                InvalidInput(
                    "another policy has this name", field="name", reason="policy_name_taken"
                )
            )
    if body.calendar_id is not None:
        try:
            await get_calendar(core, workspace_id, body.calendar_id)
        except NotFound:
            refusals.append(InvalidInput("no such calendar", field="calendar_id"))
    if body.team_id is not None:
        try:
            await get_team(core, workspace_id, body.team_id)
        except NotFound:
            refusals.append(InvalidInput("no such team", field="team_id", reason="no_team"))
        else:
            holder = await _team_holder(core, workspace_id, body.team_id, policy_id)
            if holder is not None:
                refusals.append(_team_taken(holder))
    refusals += await _unknown_in_actions(core, workspace_id, body, policy_id)
    return refusals


async def _unknown_in_actions(
    core: Core, workspace_id: str, body: PolicyIn, policy_id: str | None
) -> list[KithError]:
    """A team or user a breach action names that is not the workspace's (`no_team`,
    `no_user`). One the stored policy already named is let through: a team deleted since
    leaves the policy savable (its action does nothing; the page shows it as removed)."""
    stored = (await get_policy(core, workspace_id, policy_id)).breach_actions if policy_id else []
    known = {(k, v) for a in stored for k, v in a.model_dump().items() if k.endswith("_id")}
    named = [
        (f"breach_actions.{n}.{key}", key, value)
        for n, action in enumerate(body.breach_actions)
        for key, value in action.model_dump().items()
        if key in ("team_id", "user_id") and value is not None and (key, value) not in known
    ]
    refusals: list[KithError] = []
    for field, key, value in named:
        collection, noun = (
            (core.store.teams, "team") if key == "team_id" else (core.store.users, "user")
        )
        if (
            await collection.find_one({"_id": value, "workspace_id": workspace_id}, {"_id": 1})
            is None
        ):
            refusals.append(
                InvalidInput(f"no such {noun} in this workspace", field=field, reason=f"no_{noun}")
            )
    return refusals


async def delete_policy(core: Core, workspace_id: str, policy_id: str) -> None:
    """Delete a policy other than the default (whose deletion would leave every ticket
    without a policy, in silence: another policy must become the default first)."""
    if (await get_policy(core, workspace_id, policy_id)).default:
        raise Conflict(
            "make another policy the default first", field="default", reason="default_policy"
        )
    result = await policies(core).delete_one({"_id": policy_id, "workspace_id": workspace_id})
    if not result.deleted_count:
        raise NotFound("no such policy", field="policy_id")


async def policy_for(core: Core, workspace_id: str, team_id: str | None) -> SlaPolicy | None:
    """The team's policy, else the workspace's default (the oldest, if several claim it)."""
    query: dict[str, Any] = {"workspace_id": workspace_id, "default": True}
    if team_id is not None:
        query = {"workspace_id": workspace_id, "$or": [{"team_id": team_id}, {"default": True}]}
    docs = await policies(core).find(query).sort("_id", 1).to_list()
    return pick_policy([SlaPolicy.from_doc(d) for d in docs], team_id)


def pick_policy(found: list[SlaPolicy], team_id: str | None) -> SlaPolicy | None:
    """Of a workspace's policies in id order: the team's, else the (oldest) default."""
    for policy in found:
        if team_id is not None and policy.team_id == team_id:
            return policy
    return next((p for p in found if p.default), None)


async def business_calendar(
    core: Core, workspace_id: str, calendar_id: str | None
) -> BusinessCalendar:
    """A policy's calendar (around the clock when it names none, or names one since deleted)."""
    if calendar_id is None:
        return AROUND_THE_CLOCK
    doc = await calendars(core).find_one({"_id": calendar_id, "workspace_id": workspace_id})
    return SlaCalendar.from_doc(doc).business() if doc else AROUND_THE_CLOCK


async def terms_for(core: Core, workspace_id: str, team_id: str | None, priority: str) -> Terms:
    policy = await policy_for(core, workspace_id, team_id)
    calendar = await business_calendar(core, workspace_id, policy.calendar_id if policy else None)
    return Terms(policy, calendar, priority)
