"""Who may read and change which conversations: the rules behind every inbox request.

- admin: everything in the workspace;
- agent: conversations of their teams' channels, and those handed to one of their teams;
- marketer: reads every conversation, changes none and replies to none. The inbox is not
  theirs (`kith.web.inbox.nav`: they land on Contacts); they read a conversation by following
  a customer page's link into it.
Anything of the workspace outside the rules is `Forbidden` (403); another workspace's ids are
`NotFound` (404), as if they did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kith.core.context import Core
from kith.core.errors import Forbidden, InvalidInput, NotFound
from kith.core.models import Conversation, Role, User
from kith.core.teams import Team, channels_of_teams

# Who manages the marketing side (contacts, segments, broadcasts, sequences, communities).
MANAGERS = frozenset({Role.admin, Role.marketer})
# Who changes and answers conversations, hence who may be given one (or a ticket).
WRITERS = frozenset({Role.admin, Role.agent})


@dataclass(frozen=True)
class Scope:
    """What one user may see: `None` channel ids means every channel of the workspace."""

    user: User
    channel_ids: frozenset[str] | None
    team_ids: frozenset[str]

    @property
    def can_write(self) -> bool:
        return self.user.role in WRITERS

    @property
    def is_admin(self) -> bool:
        return self.user.role == Role.admin

    def sees(self, channel_id: str, team_id: str | None) -> bool:
        if self.channel_ids is None:
            return True
        return channel_id in self.channel_ids or (team_id is not None and team_id in self.team_ids)

    def conversation_filter(self) -> dict[str, Any]:
        """The MongoDB filter of the conversations this user may read (workspace included)."""
        query: dict[str, Any] = {"workspace_id": self.user.workspace_id}
        if self.channel_ids is not None:
            query["$or"] = [
                {"channel_id": {"$in": sorted(self.channel_ids)}},
                {"team_id": {"$in": sorted(self.team_ids)}},
            ]
        return query


async def scope_of(core: Core, user: User) -> Scope:
    if user.role in (Role.admin, Role.marketer):
        return Scope(user, None, frozenset(user.team_ids))
    channels = await channels_of_teams(core, user.workspace_id, user.team_ids)
    return Scope(user, frozenset(channels), frozenset(user.team_ids))


def scope_with_teams(user: User, teams: Iterable[Team]) -> Scope:
    """`scope_of` from the user's team documents, already read (with the session)."""
    if user.role in (Role.admin, Role.marketer):
        return Scope(user, None, frozenset(user.team_ids))
    mine = [t for t in teams if t.id in user.team_ids and t.workspace_id == user.workspace_id]
    channels = {c for team in mine for c in team.channel_ids}
    return Scope(user, frozenset(channels), frozenset(user.team_ids))


def ensure_can_read(scope: Scope, conversation: Conversation) -> None:
    """Another workspace's conversation does not exist for this reader (404, as on every
    route: its id must not be confirmed); another team's is refused (403)."""
    if conversation.workspace_id != scope.user.workspace_id:
        raise NotFound("no such conversation", field="conversation_id")
    if not scope.sees(conversation.channel_id, conversation.team_id):
        raise Forbidden("this conversation belongs to another team")


def ensure_can_write(scope: Scope, conversation: Conversation) -> None:
    ensure_can_read(scope, conversation)
    if not scope.can_write:
        raise Forbidden("your role can read conversations but not change or answer them")


async def sees_customer(core: Core, scope: Scope, customer_id: str) -> bool:
    """A team-bound reader sees a customer who talks to one of their teams' channels: what
    the customer panel shows, and whose own events (tags, a merge) keep it current."""
    if scope.channel_ids is None:
        return True
    seen = await core.store.conversations.find_one(
        {"$and": [scope.conversation_filter(), {"customer_id": customer_id}]}, {"_id": 1}
    )
    return seen is not None


async def ensure_can_reach(
    core: Core, scope: Scope | None, *, customer_id: str | None, conversation_id: str | None
) -> None:
    """A team-bound agent works only on customers who talk to their teams' channels: on the
    conversation named, else on one of the customer's (403 otherwise). `None`: an API token,
    which sees the whole workspace. What the workspace does not hold is 404, as elsewhere."""
    if scope is None or scope.channel_ids is None:
        return
    if conversation_id is not None:
        query: dict[str, Any] = {"_id": conversation_id}
    elif customer_id is not None:
        query = {"customer_id": customer_id}
    else:
        return
    seen = await core.store.conversations.find_one(
        {"$and": [scope.conversation_filter(), query]}, {"_id": 1}
    )
    if seen is not None:
        return
    workspace = {"workspace_id": scope.user.workspace_id}
    if conversation_id is not None:
        if await core.store.conversations.find_one({**workspace, **query}, {"_id": 1}) is None:
            raise NotFound("no such conversation", field="conversation_id")
    elif await core.store.customers.find_one({**workspace, "_id": customer_id}, {"_id": 1}) is None:
        raise NotFound("no such customer", field="customer_id")
    raise Forbidden("this customer talks to another team")


def can_answer(user: dict[str, Any]) -> bool:
    """Whether a stored user can take a conversation: enabled, in a role that replies."""
    return user.get("role") in WRITERS and not user.get("disabled")


async def assignee_refusal(core: Core, workspace_id: str, user_id: str) -> InvalidInput | None:
    """Why `user_id` may not be given a conversation or a ticket (a 422 on `assignee_id`), or
    None: a marketer or a disabled user could not answer it, and it would wait for nobody."""
    user = await core.store.users.find_one(
        {"_id": user_id, "workspace_id": workspace_id}, {"role": 1, "disabled": 1}
    )
    if user is None:
        return InvalidInput("no such user in this workspace", field="assignee_id", reason="no_user")
    if user.get("disabled"):
        why = "this user is disabled and cannot answer"
        return InvalidInput(why, field="assignee_id", reason="assignee_disabled")
    if not can_answer(user):
        why = "this user's role cannot answer conversations: choose an agent or an admin"
        return InvalidInput(why, field="assignee_id", reason="assignee_cannot_reply")
    return None


def ensure_admin(scope: Scope) -> None:
    if not scope.is_admin:
        raise Forbidden("only an admin can do that")
