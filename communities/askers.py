"""Who asks the communities' routes, one function per kind of caller: an API token
(`token_asker`, the workspace's), a community manager on the page's session
(`manager_asker`: agents read, admins and marketers change), and a moderator (`agent_asker`:
whoever works the inbox, where appeals arrive)."""

from __future__ import annotations

from fastapi import Request

from kith.broadcasts.api import Asker
from kith.broadcasts.api import token_asker as token_asker
from kith.core.errors import Forbidden
from kith.core.models import Author, AuthorKind
from kith.core.permissions import MANAGERS
from kith.web.inbox.deps import AgentDep

READ = frozenset({"GET", "HEAD"})


async def agent_asker(agent: AgentDep) -> Asker:
    """Any signed-in user."""
    author = Author(kind=AuthorKind.agent, id=agent.user.id, name=agent.user.name)
    return Asker(workspace_id=agent.user.workspace_id, author=author)


async def manager_asker(request: Request, agent: AgentDep) -> Asker:
    """The signed-in user (CSRF checked on writes); an agent may only read."""
    if agent.user.role not in MANAGERS and request.method not in READ:
        raise Forbidden("only admins and marketers change communities")
    return await agent_asker(agent)
