"""Who asks the communities' routes, and which communities they see.

One function per kind of caller: an API token (`token_asker`, the whole workspace), a
community manager on the page's session (`manager_asker`: agents read, admins and marketers
change), and a moderator (`agent_asker`: whoever works the inbox, where appeals arrive).
A team-bound agent sees the communities of their teams' channels only, as they see those
channels' conversations (`kith.core.permissions`): another team's group is 403, its roster,
log, join requests and referrals with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from kith.communities.models import Community
from kith.communities.store import get_community
from kith.core.context import Core
from kith.core.errors import Forbidden
from kith.core.models import Author, AuthorKind
from kith.core.permissions import MANAGERS, Scope
from kith.web.api.deps import WorkspaceDep
from kith.web.inbox.deps import AgentDep

READ = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Asker:
    """`scope` is `None` for an API token, which sees the whole workspace."""

    workspace_id: str
    author: Author
    scope: Scope | None = None


async def token_asker(workspace_id: WorkspaceDep) -> Asker:
    return Asker(workspace_id, Author(kind=AuthorKind.system, name="api"))


async def agent_asker(agent: AgentDep) -> Asker:
    """Any signed-in user."""
    author = Author(kind=AuthorKind.agent, id=agent.user.id, name=agent.user.name)
    return Asker(agent.user.workspace_id, author, agent.scope)


async def manager_asker(request: Request, agent: AgentDep) -> Asker:
    """The signed-in user (CSRF checked on writes); an agent may only read."""
    if agent.user.role not in MANAGERS and request.method not in READ:
        raise Forbidden("only admins and marketers change communities")
    return await agent_asker(agent)


def visible(scope: Scope | None) -> dict[str, Any]:
    """The filter of the communities `scope` sees, to add to a workspace's query."""
    if scope is None or scope.channel_ids is None:
        return {}
    return {"channel_id": {"$in": sorted(scope.channel_ids)}}


def ensure_sees(scope: Scope | None, community: Community) -> None:
    if scope is not None and not scope.sees(community.channel_id, None):
        raise Forbidden("this community's group is on another team's channel")


async def seen_community(core: Core, asker: Asker, community_id: str) -> Community:
    """The community (404 outside the workspace, as elsewhere; 403 for another team's)."""
    community = await get_community(core, asker.workspace_id, community_id)
    ensure_sees(asker.scope, community)
    return community
