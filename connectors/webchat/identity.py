"""Who is chatting: signed visitor tokens and the business's identity verification.

A visitor token is `<base64url JSON>.<base64url HMAC-SHA256>`, bound to one channel. It holds a
random visitor id and, once verified, the business's own user id. The same token travels as an
HttpOnly cookie and, for browsers that block third-party cookies, as the `X-Kith-Visitor`
header (the widget keeps a copy in localStorage). Nothing in it is secret; it only has to be
unforgeable, so a visitor can claim no other visitor's conversation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache

from kith.core.context import Core
from kith.core.errors import Unauthorized

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-kith-visitor"  # noqa: S105 (a header name, not a secret)
COOKIE_NAME = "kith_visitor"


@lru_cache(maxsize=1)
def _process_secret() -> str:
    log.warning(
        "KITH_SECRET_KEY is not set: web chat visitors are signed with a random per-process key "
        "and lose their conversation when Kith restarts; set it in production"
    )
    return secrets.token_urlsafe(32)


def _derive(secret: str) -> bytes:
    return hmac.new(secret.encode(), b"kith.webchat.visitor.v1", hashlib.sha256).digest()


def signing_key(core: Core) -> bytes:
    """The widget's own key, derived from the install secret so it signs nothing else."""
    secret = (
        getattr(core.settings, "secret_key", None)
        or os.environ.get("KITH_SECRET_KEY")
        or _process_secret()
    )
    return _derive(secret)


def verifying_keys(core: Core) -> list[bytes]:
    """The signing key, then those of KITH_OLD_SECRET_KEYS: visitors signed before a key
    rotation keep their conversation."""
    old = getattr(core.settings, "old_secret_keys", None) or ""
    return [signing_key(core), *(_derive(k.strip()) for k in old.split(",") if k.strip())]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Visitor:
    """A browser on one channel; `user_id` is set only after the business's hash checked out."""

    channel_id: str
    visitor_id: str
    user_id: str | None = None

    @property
    def external_id(self) -> str:
        """The identity on the channel: the verified user, else this browser."""
        return f"u:{self.user_id}" if self.user_id else f"v:{self.visitor_id}"


def new_visitor(channel_id: str) -> Visitor:
    return Visitor(channel_id=channel_id, visitor_id=secrets.token_urlsafe(18))


def issue_token(core: Core, visitor: Visitor) -> str:
    body = _b64(
        json.dumps(
            {"c": visitor.channel_id, "v": visitor.visitor_id, "u": visitor.user_id},
            separators=(",", ":"),
        ).encode()
    )
    mac = hmac.new(signing_key(core), body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def read_token(core: Core, channel_id: str, token: str | None) -> Visitor | None:
    """The visitor a token names, or None when it is missing, forged or for another channel."""
    if not token or len(token) > 1024 or token.count(".") != 1:
        return None
    body, mac = token.split(".")
    try:
        given = _unb64(mac)
        if not any(
            hmac.compare_digest(given, hmac.new(key, body.encode(), hashlib.sha256).digest())
            for key in verifying_keys(core)
        ):
            return None
        claims = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(claims, dict) or claims.get("c") != channel_id:
        return None
    visitor_id, user_id = claims.get("v"), claims.get("u")
    if not isinstance(visitor_id, str) or not isinstance(user_id, str | None):
        return None
    return Visitor(channel_id=channel_id, visitor_id=visitor_id, user_id=user_id)


def user_hash(identity_secret: str, user_id: str) -> str:
    """What the business's server computes: hex HMAC-SHA256(identity_secret, user_id)."""
    return hmac.new(identity_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify_user(identity_secret: str | None, user_id: str, given_hash: str | None) -> bool:
    """True when `user_id` may be trusted; a wrong or missing hash raises `Unauthorized`.

    Without an identity secret a user id cannot be verified and is never trusted (it would let
    anyone read the conversation of anyone whose id they guess); it returns False.
    """
    if not identity_secret:
        return False
    if not given_hash:
        raise Unauthorized("user_hash is required to identify a user", field="user_hash")
    if not hmac.compare_digest(user_hash(identity_secret, user_id), given_hash.strip().lower()):
        raise Unauthorized("user_hash does not match user_id", field="user_hash")
    return True
