"""User accounts and secrets' checks. Secrets are shown once and stored only as hashes.

API tokens live in `kith.core.api_tokens` (re-exported here for older callers)."""

from __future__ import annotations

import hmac

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pymongo.errors import DuplicateKeyError

from kith.core.api_tokens import create_api_token, workspace_for_token
from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput, Unauthorized
from kith.core.ids import hash_secret, new_id
from kith.core.models import Role, User
from kith.core.offload import run_bounded

__all__ = [
    "authenticate_user",
    "check_password_rules",
    "create_api_token",
    "create_user",
    "password_matches",
    "secret_matches",
    "set_password",
    "workspace_for_token",
]

_hasher = PasswordHasher()
# Verifying against a fixed hash when the user is unknown keeps response times alike.
_DUMMY_HASH = _hasher.hash("kith-no-such-user")


MIN_PASSWORD = 8
MAX_PASSWORD = 1024


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD} characters",
            field=field,
            reason="string_too_short",
            limits={"min_length": MIN_PASSWORD},
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(
            f"a password has at most {MAX_PASSWORD} characters",
            field=field,
            reason="string_too_long",
            limits={"max_length": MAX_PASSWORD},
        )


def secret_matches(secret: str, stored_hash: str | None) -> bool:
    return stored_hash is not None and hmac.compare_digest(hash_secret(secret), stored_hash)


async def _hash_password(core: Core, password: str) -> str:
    """argon2 is slow on purpose: hashed in a thread, bounded like the checks at login."""
    return await run_bounded(core.settings.password_checks_in_flight, _hasher.hash, password)


async def _verifies(core: Core, stored: str, password: str) -> bool:
    try:
        await run_bounded(core.settings.password_checks_in_flight, _hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return True


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
    check_password_rules(password)
    user = User(
        id=new_id(),
        workspace_id=workspace_id,
        email=email,
        name=name or email.split("@")[0],
        role=role,
        created_at=core.clock.now(),
    )
    doc = user.to_doc()
    doc["password_hash"] = await _hash_password(core, password)
    try:
        await core.store.users.insert_one(doc)
    except DuplicateKeyError:
        raise Conflict(
            "a user with that email exists", field="email", reason="email_taken"
        ) from None
    return user


async def authenticate_user(core: Core, email: str, password: str) -> User:
    doc = await core.store.users.find_one({"email": email.strip().lower()})
    stored = doc["password_hash"] if doc else _DUMMY_HASH
    matches = await _verifies(core, stored, password)
    if not matches or doc is None:  # an unknown email answers like a wrong password
        raise Unauthorized("wrong email or password")
    if doc.get("disabled"):  # said only to who knows the password
        raise Unauthorized("this account is disabled", code="account_disabled")
    return User.from_doc(doc)


async def set_password(core: Core, user_id: str, password: str, field: str = "password") -> None:
    """Store a new password's hash."""
    check_password_rules(password, field)
    hashed = await _hash_password(core, password)
    await core.store.users.update_one({"_id": user_id}, {"$set": {"password_hash": hashed}})


async def password_matches(core: Core, user_id: str, password: str) -> bool:
    doc = await core.store.users.find_one({"_id": user_id}, {"password_hash": 1})
    stored = doc.get("password_hash") if doc else None
    return await _verifies(core, stored or _DUMMY_HASH, password) and stored is not None
