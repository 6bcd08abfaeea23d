"""Managing a workspace's users: create, change, disable. Each action records an event.

A workspace must never lose its last admin, or nobody could manage it again: an admin cannot
demote or disable themselves, and a change that would leave no enabled admin is refused.
A new password (changed by its owner, or reset by an admin) ends the user's other sessions:
whoever learnt the old one is signed out with it. Disabling a user ends all their sessions at
once (every process reads sessions from the database, so the next request of that browser is
already signed out).

A password an admin chose (a new user's, or a reset) is known to two people, so, as Zendesk
and Chatwoot do, its account is marked `must_change_password`: at the next sign-in the user
is sent to My account and may do nothing else until they choose their own
(`kith.core.sessions.check_password_changed`). Accounts made by `kith user create` or the
demo are not marked: whoever types that password is the one who will use it.
"""

from __future__ import annotations

from typing import Any

from kith.core import login_throttle
from kith.core.auth import create_user, password_matches, set_password
from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, NotFound, Unauthorized
from kith.core.events import build_event, record
from kith.core.models import Author, AuthorKind, Role, User
from kith.core.sessions import count_wrong_password, end_user_sessions
from kith.core.storage import existing_ids

USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
PASSWORD_CHANGED = "user.password_changed"  # noqa: S105 (an event type, not a password)
PASSWORD_RESET = "user.password_reset"  # noqa: S105 (an event type, not a password)
LOGIN_UNLOCKED = "user.login_unlocked"
_DEFAULTS: dict[str, Any] = {"disabled": False, "team_ids": []}


def author(user: User) -> Author:
    return Author(kind=AuthorKind.agent, id=user.id, name=user.name)


async def _enabled_admins(core: Core, workspace_id: str) -> int:
    query = {"workspace_id": workspace_id, "role": Role.admin.value, "disabled": {"$ne": True}}
    return int(await core.store.users.count_documents(query))


async def _record(core: Core, actor: User, type_: str, data: dict[str, Any]) -> None:
    await record(core, build_event(core, actor.workspace_id, type_, actor=author(actor), data=data))


async def do_create_user(
    core: Core,
    actor: User,
    email: str,
    password: str,
    *,
    name: str | None = None,
    role: Role = Role.agent,
    team_ids: list[str] | None = None,
) -> dict[str, Any]:
    """A new login in the actor's workspace, already in its teams, whose owner must choose
    their own password at their first sign-in; returns the stored doc."""
    teams = await existing_ids(
        core.store.teams, actor.workspace_id, team_ids or [], "team_ids", "team"
    )
    user = await create_user(core, actor.workspace_id, email, password, name=name, role=role)
    await core.store.users.update_one(
        {"_id": user.id}, {"$set": {"team_ids": teams, "must_change_password": True}}
    )
    await _record(
        core, actor, USER_CREATED, {"user_id": user.id, "role": role.value, "team_ids": teams}
    )
    return await get_user_doc(core, actor.workspace_id, user.id)


async def get_user_doc(core: Core, workspace_id: str, user_id: str) -> dict[str, Any]:
    doc = await core.store.users.find_one({"_id": user_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such user", field="user_id", reason="no_user")
    return dict(doc)


def _refuse_own_lockout(actor: User, target: dict[str, Any], changes: dict[str, Any]) -> None:
    if target["_id"] != actor.id:
        return
    if changes.get("disabled"):
        raise Conflict(
            "you cannot disable your own account",
            field="disabled",
            code="own_account",
            reason="own_account_disabled",
        )
    if "role" in changes and changes["role"] != Role.admin.value:
        raise Conflict(
            "you cannot remove your own admin role",
            field="role",
            code="own_account",
            reason="own_admin_role",
        )


def _current(target: dict[str, Any], key: str) -> Any:
    return target.get(key, _DEFAULTS.get(key))


def _removes_an_admin(target: dict[str, Any], changes: dict[str, Any]) -> bool:
    def admin(doc: dict[str, Any]) -> bool:
        return doc.get("role") == Role.admin.value and not doc.get("disabled")

    return admin(target) and not admin({**target, **changes})


async def _changes(
    core: Core,
    target: dict[str, Any],
    name: str | None,
    role: Role | None,
    team_ids: list[str] | None,
    disabled: bool | None,
) -> dict[str, Any]:
    """The checked new values that differ from the stored ones."""
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name.strip()
        if not changes["name"] or len(changes["name"]) > 128:
            raise InvalidInput(
                "a name needs 1 to 128 characters",
                field="name",
                reason="name_length",
                limits={"min_length": 1, "max_length": 128},
            )
    if role is not None:
        changes["role"] = role.value
    if team_ids is not None:
        changes["team_ids"] = await existing_ids(
            core.store.teams, target["workspace_id"], team_ids, "team_ids", "team"
        )
    if disabled is not None:
        changes["disabled"] = disabled
    return {k: v for k, v in changes.items() if _current(target, k) != v}


async def do_update_user(
    core: Core,
    actor: User,
    user_id: str,
    *,
    name: str | None = None,
    role: Role | None = None,
    team_ids: list[str] | None = None,
    disabled: bool | None = None,
) -> dict[str, Any]:
    """Change a user's name, role, teams or disabled flag (None leaves a field as it is)."""
    target = await get_user_doc(core, actor.workspace_id, user_id)
    changes = await _changes(core, target, name, role, team_ids, disabled)
    if not changes:
        return target
    _refuse_own_lockout(actor, target, changes)
    removes_admin = _removes_an_admin(target, changes)
    last_admin = Conflict(
        "the workspace needs at least one admin",
        field="disabled" if changes.get("disabled") else "role",
        code="last_admin",
        reason="last_admin",
    )
    if removes_admin and await _enabled_admins(core, actor.workspace_id) <= 1:
        raise last_admin
    await core.store.users.update_one({"_id": user_id}, {"$set": changes})
    if removes_admin and not await _enabled_admins(core, actor.workspace_id):
        # Two admins demoted each other at the same moment: undo this one.
        undo = {k: _current(target, k) for k in changes}
        await core.store.users.update_one({"_id": user_id}, {"$set": undo})
        raise last_admin
    if changes.get("disabled"):
        await end_user_sessions(core, user_id)
    await _record(core, actor, USER_UPDATED, {"user_id": user_id, "changes": changes})
    return {**target, **changes}


async def do_change_password(
    core: Core, actor: User, session_id: str, current: str, new: str
) -> int:
    """The actor's own new password, after the current one; ends their other sessions (this
    one stays). Returns how many sessions ended. A few wrong current passwords end this
    session too."""
    if not await password_matches(core, actor.id, current):
        if await count_wrong_password(core, session_id):
            raise Unauthorized("too many wrong passwords: sign in again", code="not_signed_in")
        # 422, not 401: the session is fine, only this field is wrong.
        raise InvalidInput(
            "the current password is wrong",
            field="current_password",
            code="wrong_password",
            reason="wrong_password",
        )
    if current == new:
        raise InvalidInput(
            "the new password is the current one", field="new_password", reason="password_unchanged"
        )
    await set_password(core, actor.id, new, field="new_password")
    await core.store.users.update_one({"_id": actor.id}, {"$set": {"must_change_password": False}})
    ended = await end_user_sessions(core, actor.id, keep=session_id)
    await _record(core, actor, PASSWORD_CHANGED, {"user_id": actor.id, "sessions_ended": ended})
    return ended


async def do_reset_password(
    core: Core, actor: User, user_id: str, new: str, *, session_id: str | None = None
) -> int:
    """An admin sets another user's password (they forgot it, or it leaked): every session
    of that user ends, and they must choose their own at their next sign-in (an admin
    resetting their own keeps `session_id` and is not asked again)."""
    target = await get_user_doc(core, actor.workspace_id, user_id)
    await set_password(core, target["_id"], new)
    own = target["_id"] == actor.id
    await core.store.users.update_one(
        {"_id": target["_id"]}, {"$set": {"must_change_password": not own}}
    )
    keep = session_id if own else None
    ended = await end_user_sessions(core, target["_id"], keep=keep)
    await _record(core, actor, PASSWORD_RESET, {"user_id": user_id, "sessions_ended": ended})
    return ended


async def do_unlock_login(core: Core, actor: User, user_id: str) -> int:
    """An admin lifts a user's sign-in locks (the owner was locked out by their own typing,
    or by a guesser): the user's failures are forgotten at every address. Answers how many
    locks were still running; recorded even when none was, as every admin action is."""
    target = await get_user_doc(core, actor.workspace_id, user_id)
    lifted = await login_throttle.unlock(core, target["email"])
    await _record(core, actor, LOGIN_UNLOCKED, {"user_id": user_id, "locks_lifted": lifted})
    return lifted
