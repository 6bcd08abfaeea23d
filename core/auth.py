"""API tokens and user accounts. Secrets are shown once and stored only as hashes."""

from __future__ import annotations

import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, Unauthorized
from kith.core.ids import hash_secret, new_id, new_secret
from kith.core.models import Role, User
from kith.core.offload import run_bounded

_hasher = PasswordHasher()
# Verifying against a fixed hash when the user is unknown keeps response times alike.
_DUMMY_HASH = _hasher.hash("kith-no-such-user")


async def create_api_token(
    core: Core, workspace_id: str, name: str, token: str | None = None
) -> str:
    """A new workspace API token; the clear text is returned once and never stored."""
    token = token or new_secret("kith")
    if len(token) < 16:
        raise InvalidInput("a token needs at least 16 characters", field="token")
    try:
        await core.store.api_tokens.insert_one(
            {
                "_id": new_id(),
                "workspace_id": workspace_id,
                "name": name,
                "token_hash": hash_secret(token),
                "created_at": core.clock.now(),
            }
        )
    except DuplicateKeyError:
        raise Conflict("that token already exists", field="token") from None
    return token


async def workspace_for_token(core: Core, token: str) -> str:
    """The workspace an API token belongs to; `Unauthorized` for anything else."""
    doc = await core.store.api_tokens.find_one({"token_hash": hash_secret(token)})
    if doc is None:
        raise Unauthorized("invalid API token")
    return str(doc["workspace_id"])


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(hash_secret(secret), stored_hash)


async def create_user(
    core: Core,
    workspace_id: str,
    email: str,
    password: str,
    *,
    name: str | None = None,
    role: Role = Role.agent,
) -> User:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise InvalidInput("not an email address", field="email")
    if len(password) < 8:
        raise InvalidInput("a password needs at least 8 characters", field="password")
    user = User(
        id=new_id(),
        workspace_id=workspace_id,
        email=email,
        name=name or email.split("@")[0],
        role=role,
        created_at=core.clock.now(),
    )
    doc = user.to_doc()
    doc["password_hash"] = _hasher.hash(password)
    try:
        await core.store.users.insert_one(doc)
    except DuplicateKeyError:
        raise Conflict("a user with that email exists", field="email") from None
    return user


async def authenticate_user(core: Core, email: str, password: str) -> User:
    doc = await core.store.users.find_one({"email": email.strip().lower()})
    stored = doc["password_hash"] if doc else _DUMMY_HASH
    try:
        await run_bounded(core.settings.password_checks_in_flight, _hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong email or password") from None
    if doc is None or doc.get("disabled"):  # a disabled account answers like a wrong password
        raise Unauthorized("wrong email or password")
    return User.from_doc(doc)
