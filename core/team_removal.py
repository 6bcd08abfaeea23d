"""Deleting a team, and what happens to what it holds.

What Chatwoot does for the work itself: its `Team` has `has_many :conversations,
dependent: :nullify`, so a deleted team's conversations stay, in no team. Kith does the same
for conversations and tickets: they are live work, an agent still sees them through their
channel, and an admin may hand them to another team; refusing the delete until every one
was moved by hand would only make the admin do that move one at a time. Members keep their
accounts and lose the team from `team_ids`.

What Zendesk does for the rules that name a group (triggers, automations): they must be
changed first. Kith refuses the delete while a bot, an SLA policy or a sequence names the
team (409 `team_in_use` at `team_id`, naming each), because moving a rule to "no team" would
silently change what it does: a hand-off step would reach everyone, a team's SLA policy
would stop applying to anything, an escalation's "notify the team" would notify nobody.
"""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.events import build_event, record
from kith.core.models import Author
from kith.core.teams import get_team

TEAM_DELETED = "team.deleted"
# The rules that may name a team: collection, and where in a document the team's id sits.
_RULES: dict[str, tuple[str, list[str]]] = {
    "bots": ("bots", ["team_id", "flows.steps.team_id"]),
    "sla_policies": ("sla_policies", ["team_id", "breach_actions.team_id"]),
    "sequences": ("sequences", ["steps.team_id"]),
}


async def team_holdings(core: Core, workspace_id: str, team_id: str) -> dict[str, Any]:
    """What the team holds: how many members, conversations and tickets it has (those move
    to no team), and the names of the bots, SLA policies and sequences that name it (those
    keep it from being deleted). What the delete dialog shows before asking."""
    await get_team(core, workspace_id, team_id)
    owned = {"workspace_id": workspace_id, "team_id": team_id}
    counts = {
        "members": await core.store.users.count_documents(
            {"workspace_id": workspace_id, "team_ids": team_id}
        ),
        "conversations": await core.store.conversations.count_documents(owned),
        "tickets": await core.store.collection("tickets").count_documents(owned),
    }
    used_by: dict[str, list[str]] = {}
    for kind, (collection, paths) in _RULES.items():
        query = {"workspace_id": workspace_id, "$or": [{p: team_id} for p in paths]}
        docs = await core.store.collection(collection).find(query, {"name": 1}).to_list(None)
        if docs:
            used_by[kind] = sorted(str(d.get("name") or d["_id"]) for d in docs)
    return {**counts, "used_by": used_by}


async def do_delete_team(
    core: Core, workspace_id: str, team_id: str, actor: Author
) -> dict[str, Any]:
    """Delete the team (see the module's docstring for why work moves and rules refuse);
    records `team.deleted` with the team's name and what moved. The team goes first, so a
    hand-off racing the delete finds it gone; conversations and tickets are moved after."""
    team = await get_team(core, workspace_id, team_id)
    held = await team_holdings(core, workspace_id, team_id)
    if held["used_by"]:
        named = "; ".join(f"{k}: {', '.join(v)}" for k, v in held["used_by"].items())
        raise Conflict(
            f"still named by {named}: change them first",
            field="team_id",
            code="team_in_use",
            reason="team_in_use",
            limits={"names": ", ".join(n for v in held["used_by"].values() for n in v)},
        )
    await core.store.teams.delete_one({"_id": team_id, "workspace_id": workspace_id})
    owned = {"workspace_id": workspace_id, "team_id": team_id}
    moved = {
        "conversations": (
            await core.store.conversations.update_many(owned, {"$set": {"team_id": None}})
        ).modified_count,
        "tickets": (
            await core.store.collection("tickets").update_many(owned, {"$set": {"team_id": None}})
        ).modified_count,
        "members": (
            await core.store.users.update_many(
                {"workspace_id": workspace_id, "team_ids": team_id},
                {"$pull": {"team_ids": team_id}},
            )
        ).modified_count,
    }
    data = {"team_id": team_id, "name": team.name, **moved}
    await record(core, build_event(core, workspace_id, TEAM_DELETED, actor=actor, data=data))
    return data
