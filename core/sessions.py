"""Browser sessions for the inbox.

Sessions are server-side documents (so logging out, or an admin removing a user, ends them
at once on every process); the cookie holds only a random token, stored as its hash.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kith.core import login_throttle
from kith.core.auth import authenticate_user
from kith.core.clock import aware, utcnow, wall
from kith.core.context import Core
from kith.core.errors import Forbidden, Unauthorized
from kith.core.ids import hash_secret
from kith.core.models import User
from kith.core.teams import Team

IDLE_TIMEOUT = timedelta(hours=12)
ABSOLUTE_TIMEOUT = timedelta(days=7)
_TOUCH_EVERY = timedelta(minutes=1)

PURGE_MARGIN = timedelta(hours=1)  # TTL indexes delete a while after expiry, never before


@dataclass(frozen=True)
class Session:
    id: str
    user: User
    csrf_token: str
    expires_at: datetime
    teams: tuple[Team, ...] = ()
    # The user signs in with a password an admin chose (`kith.core.users`): until they
    # choose their own, every page but My account and every /app/api route but the change
    # itself are refused (`PasswordChangeRequired`).
    must_change_password: bool = False

    def csrf_matches(self, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token, token or "")


async def log_in(
    core: Core, email: str, password: str, client_address: str | None
) -> tuple[str, User]:
    """Check the password (unless this account is locked at this address) and open a session;
    returns its cookie token. See `kith.core.login_throttle` for who is slowed down."""
    keys = await login_throttle.keys_for(core, email, client_address)
    attempt = await login_throttle.begin(core, keys)
    try:
        user = await authenticate_user(core, email, password)
    except Unauthorized:
        await login_throttle.failed(core, attempt)
        raise
    await login_throttle.succeeded(core, attempt)
    return await open_session(core, user), user


async def open_session(core: Core, user: User) -> str:
    token = secrets.token_urlsafe(32)
    now = wall(core.clock).now()
    await core.store.sessions.insert_one(
        {
            "_id": hash_secret(token),
            "user_id": user.id,
            "workspace_id": user.workspace_id,
            "csrf_token": secrets.token_urlsafe(32),
            "created_at": now,
            "last_seen": now,
            "expires_at": min(now + IDLE_TIMEOUT, now + ABSOLUTE_TIMEOUT),
            "absolute_expiry": now + ABSOLUTE_TIMEOUT,
            "purge_at": utcnow() + ABSOLUTE_TIMEOUT + PURGE_MARGIN,
        }
    )
    return token


@dataclass(frozen=True)
class Subquery:
    """A read that rides along with the session's own: one round trip for a whole request.

    The pipeline must not depend on the session (it is uncorrelated: constants only), and
    whoever asks checks what comes back against the session's user before using it.
    """

    collection: str
    pipeline: list[dict[str, Any]]


def _lookup(collection: str, local: str, into: str) -> dict[str, Any]:
    return {"$lookup": {"from": collection, "localField": local, "foreignField": "_id", "as": into}}


def _session_pipeline(token_hash: str, also: Mapping[str, Subquery]) -> list[dict[str, Any]]:
    """The session, its user and the user's teams (their scope), plus the riders."""
    return [
        {"$match": {"_id": token_hash}},
        _lookup("users", "user_id", "user"),
        {"$unwind": "$user"},
        _lookup("teams", "user.team_ids", "teams"),
        *(
            {"$lookup": {"from": q.collection, "pipeline": q.pipeline, "as": f"also_{name}"}}
            for name, q in also.items()
        ),
    ]


async def load_session(core: Core, token: str | None) -> Session | None:
    """The live session behind a cookie token, sliding its idle expiry; None when there is none."""
    return (await load_session_with(core, token, {}))[0]


async def load_session_with(
    core: Core, token: str | None, also: Mapping[str, Subquery]
) -> tuple[Session | None, dict[str, list[dict[str, Any]]]]:
    """`load_session`, and the `also` sub-queries' documents by name, in one round trip."""
    if not token or len(token) > 256:
        return None, {}
    cursor = await core.store.sessions.aggregate(_session_pipeline(hash_secret(token), also))
    found = await cursor.to_list(1)
    now = wall(core.clock).now()
    if not found or aware(found[0]["expires_at"]) <= now or found[0]["user"].get("disabled"):
        return None, {}
    doc = found[0]
    user = User.from_doc(doc["user"])
    teams = tuple(Team(**t) for t in doc["teams"] if t.get("workspace_id") == user.workspace_id)
    expires = aware(doc["expires_at"])
    if now - aware(doc["last_seen"]) >= _TOUCH_EVERY:
        expires = min(now + IDLE_TIMEOUT, aware(doc["absolute_expiry"]))
        await core.store.sessions.update_one(
            {"_id": doc["_id"]}, {"$set": {"last_seen": now, "expires_at": expires}}
        )
    must_change = bool(doc["user"].get("must_change_password"))
    session = Session(doc["_id"], user, doc["csrf_token"], expires, teams, must_change)
    return session, {name: doc[f"also_{name}"] for name in also}


async def end_session(core: Core, token: str | None) -> None:
    if token:
        await core.store.sessions.delete_one({"_id": hash_secret(token)})


async def end_user_sessions(core: Core, user_id: str, *, keep: str | None = None) -> int:
    """Log a user out everywhere (password change, removal), except the session `keep` (the
    id of the one that changed its own password)."""
    query: dict[str, Any] = {"user_id": user_id}
    if keep is not None:
        query["_id"] = {"$ne": keep}
    return (await core.store.sessions.delete_many(query)).deleted_count


class PasswordChangeRequired(Forbidden):
    """A request of a user who must first choose their own password: a 403 on `/app/api`;
    a page is sent to `ACCOUNT_PAGE` instead (`kith.web.errors`)."""

    code = "password_change_required"


ACCOUNT_PAGE = "/app/admin/account"
# What such a user may still do: open My account, change their password there, switch the
# page's language, read who they are, and sign out.
ALLOWED_BEFORE_PASSWORD_CHANGE = frozenset(
    {
        ("GET", ACCOUNT_PAGE),
        ("POST", "/app/logout"),
        ("GET", "/app/api/me"),
        ("PUT", "/app/api/me/password"),
        ("PUT", "/app/api/me/settings"),
    }
)


def check_password_changed(session: Session, method: str, path: str) -> None:
    """Refuse `method path` while the session's user must still choose a password."""
    if session.must_change_password and (method, path) not in ALLOWED_BEFORE_PASSWORD_CHANGE:
        raise PasswordChangeRequired(
            "choose a new password under My account first", field="new_password"
        )


WRONG_PASSWORDS_PER_SESSION = 5


async def count_wrong_password(core: Core, session_id: str) -> bool:
    """One more wrong current password typed in this session; True when that ended it (a
    stolen session cookie must not become a way to guess the account's password)."""
    doc = await core.store.sessions.find_one_and_update(
        {"_id": session_id}, {"$inc": {"wrong_passwords": 1}}, return_document=True
    )
    if doc is None or int(doc.get("wrong_passwords", 0)) < WRONG_PASSWORDS_PER_SESSION:
        return False
    await core.store.sessions.delete_one({"_id": session_id})
    return True
