"""Signed unsubscribe links: `/u/<token>` names (workspace, customer, channel type).

A token is `<base64url JSON [workspace, customer, channel type]>.<base64url HMAC-SHA256>`,
truncated to 128 bits. It never expires (an old newsletter's link must keep working: Gmail
and Yahoo ask that one-click unsubscribe be honoured) but can be revoked for a whole
workspace by rotating its link key (`POST /api/v1/consent/link-key`): the key is derived from
`KITH_SECRET_KEY` and a random salt kept per workspace, so a leaked database alone forges
nothing, and a new salt voids every link issued before. Former `KITH_SECRET_KEYS` (listed in
`KITH_OLD_SECRET_KEYS`) still verify, so rotating the install key keeps links working.

`seal` / `unseal` sign other kinds of link the same way (the tracked links of sequences and
broadcasts, `kith.web.tracked_links`), each under its own purpose string, so a token of one
kind never verifies as another.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
from dataclasses import dataclass
from functools import lru_cache

from pymongo.errors import DuplicateKeyError

from kith.consent.settings import COLLECTION
from kith.core.context import Core

log = logging.getLogger(__name__)

MAC_BYTES = 16
_INFO = b"kith.unsubscribe-link.v1"
EVERY_ADDRESS = frozenset({"", "0.0.0.0", "::"})  # noqa: S104 (compared with, not bound)
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class LinkTarget:
    """Whose consent on which channel type a link revokes."""

    workspace_id: str
    customer_id: str
    channel_type: str


@lru_cache(maxsize=1)
def _process_secret() -> str:
    log.warning(
        "KITH_SECRET_KEY is not set: unsubscribe links are signed with a random per-process "
        "key and stop working when Kith restarts; set it in production"
    )
    return secrets.token_urlsafe(32)


def _install_secrets(core: Core) -> list[str]:
    old = [k.strip() for k in (core.settings.old_secret_keys or "").split(",") if k.strip()]
    return [core.settings.secret_key or _process_secret(), *old]


async def _salt(core: Core, workspace_id: str) -> str:
    """The workspace's link salt, made on first use (one writer wins a race)."""
    settings = core.store.collection(COLLECTION)
    doc = await settings.find_one({"_id": workspace_id}, {"link_salt": 1})
    if doc is None or not doc.get("link_salt"):
        with contextlib.suppress(DuplicateKeyError):  # another writer made it first
            await settings.update_one(
                {"_id": workspace_id, "link_salt": None},
                {"$set": {"link_salt": secrets.token_hex(24)}},
                upsert=True,
            )
        doc = await settings.find_one({"_id": workspace_id}, {"link_salt": 1})
    if doc is None or not doc.get("link_salt"):
        raise RuntimeError(f"workspace {workspace_id} has no unsubscribe link key")
    return str(doc["link_salt"])


async def rotate_link_key(core: Core, workspace_id: str) -> None:
    """Void every unsubscribe link of the workspace issued so far."""
    await core.store.collection(COLLECTION).update_one(
        {"_id": workspace_id}, {"$set": {"link_salt": secrets.token_hex(24)}}, upsert=True
    )


def _key(secret: str, workspace_id: str, salt: str, info: bytes) -> bytes:
    material = b"\x00".join((info, workspace_id.encode(), salt.encode()))
    return hmac.new(secret.encode(), material, hashlib.sha256).digest()


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def seal(core: Core, fields: list[str], info: bytes) -> str:
    """A token naming `fields` (the first is the workspace id), signed with the workspace's
    link key for one purpose (`info`): a token made for one purpose verifies for no other."""
    payload = json.dumps(fields, separators=(",", ":")).encode()
    key = _key(_install_secrets(core)[0], fields[0], await _salt(core, fields[0]), info)
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


async def unseal(core: Core, token: str, info: bytes, size: int) -> list[str] | None:
    """The `size` non-empty fields of a genuine token for `info`; None for anything forged,
    damaged, made for another purpose or revoked."""
    body, _, mac = token.partition(".")
    try:
        payload, given = _unb64(body), _unb64(mac)
        fields = json.loads(payload)
    except (binascii.Error, ValueError, TypeError):
        return None
    if not isinstance(fields, list) or len(fields) != size:
        return None
    if not all(isinstance(x, str) and x for x in fields):
        return None
    doc = await core.store.collection(COLLECTION).find_one({"_id": fields[0]}, {"link_salt": 1})
    if doc is None or not doc.get("link_salt"):
        return None
    for secret in _install_secrets(core):
        key = _key(secret, fields[0], doc["link_salt"], info)
        if hmac.compare_digest(_mac(key, payload), given):
            return fields
    return None


async def make_token(core: Core, target: LinkTarget) -> str:
    fields = [target.workspace_id, target.customer_id, target.channel_type]
    return await seal(core, fields, _INFO)


async def read_token(core: Core, token: str) -> LinkTarget | None:
    """The target of a genuine token; None for anything forged, damaged or revoked."""
    fields = await unseal(core, token, _INFO, 3)
    return LinkTarget(*fields) if fields else None


def public_base(core: Core) -> str:
    """Where customers reach Kith: `KITH_PUBLIC_URL`, else the address Kith listens on (this
    machine's loopback when that is every address: `0.0.0.0` is no place to go)."""
    settings = core.settings
    host = LOOPBACK if settings.host in EVERY_ADDRESS else settings.host
    host = f"[{host}]" if ":" in host else host
    return (settings.public_url or f"http://{host}:{settings.port}").rstrip("/")


async def unsubscribe_url(core: Core, target: LinkTarget) -> str:
    return f"{public_base(core)}/u/{await make_token(core, target)}"
