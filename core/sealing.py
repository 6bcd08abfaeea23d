"""Channel secrets sealed at rest: bot tokens, signing secrets and AES keys are encrypted in
MongoDB with a key derived from `KITH_SECRET_KEY`, so a database dump or backup alone does
not hand out the business's platform accounts.

Fernet (AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key derived with HKDF
for this one purpose. Without `KITH_SECRET_KEY` the secrets are stored in clear, as before,
and `kith serve` says so at start; documents written in clear stay readable after a key is
set and are sealed on their next update. A sealed document read with a missing or different
key is an error that says which setting to fix, never a silent empty secret.

Rotating the key: set the new `KITH_SECRET_KEY` and list the former ones in
`KITH_OLD_SECRET_KEYS`; secrets sealed with either open, new seals use the new key, and
`kith secrets reseal` rewrites every sealed secret under the new key (clear ones included):
channels', and those of every collection a feature declares `sealed` (bots' and sequences'
webhook keys, webhook endpoints' signing secrets); then the old keys can be dropped.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kith.core import features
from kith.core.collection import RetryingCollection
from kith.core.context import Core
from kith.core.errors import KithError

log = logging.getLogger(__name__)

SEALED_FIELD = "secrets_sealed"
CLEAR_FIELD = "secrets"
CHANNELS = "channels"  # the core's; features declare theirs (`Feature.sealed`)
_INFO = b"kith.channel-secrets.v1"


class SecretsUnreadable(KithError):
    """Sealed secrets that this process cannot open: KITH_SECRET_KEY is unset or differs."""

    code = "secret_key_mismatch"
    status = 500


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


class Sealer:
    """Seals and opens one channel's secrets (a dict of strings). `old_keys` still open what
    they sealed; sealing always uses `secret_key`."""

    def __init__(self, secret_key: str | None, old_keys: Sequence[str] = ()) -> None:
        self._fernet = (
            MultiFernet([_fernet(k) for k in (secret_key, *old_keys)]) if secret_key else None
        )

    @property
    def seals(self) -> bool:
        return self._fernet is not None

    def seal(self, secrets: dict[str, Any]) -> dict[str, Any]:
        """The fields to store for `secrets`: sealed when a key is set, in clear otherwise."""
        if self._fernet is None:
            return {CLEAR_FIELD: secrets, SEALED_FIELD: None}
        token = self._fernet.encrypt(json.dumps(secrets, sort_keys=True).encode())
        return {CLEAR_FIELD: {}, SEALED_FIELD: token.decode()}

    def open(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The secrets of a stored channel document, sealed or (written before a key) clear."""
        sealed = doc.get(SEALED_FIELD)
        if not sealed:
            return dict(doc.get(CLEAR_FIELD) or {})
        if self._fernet is None:
            raise SecretsUnreadable(
                f"channel {doc.get('_id')} has sealed secrets but KITH_SECRET_KEY is not set"
            )
        try:
            return dict(json.loads(self._fernet.decrypt(sealed.encode())))
        except InvalidToken:
            raise SecretsUnreadable(
                f"channel {doc.get('_id')} was sealed with another KITH_SECRET_KEY"
            ) from None


def sealer_for(core: Core) -> Sealer:
    """The Core's sealer, made once from its settings."""
    sealer = core.__dict__.get("_sealer")
    if sealer is None:
        old = [k.strip() for k in (core.settings.old_secret_keys or "").split(",") if k.strip()]
        sealer = core.__dict__["_sealer"] = Sealer(core.settings.secret_key, old)
    return sealer


async def reseal(core: Core) -> dict[str, int]:
    """Seal every stored secret with the current key (after a rotation, or for secrets
    written in clear before a key was set); returns how many documents were rewritten, by
    collection. Each write is conditional on the document being unchanged since it was read,
    so a concurrent edit wins (and it has just been sealed with the current key anyway)."""
    sealer = sealer_for(core)
    if not sealer.seals:
        raise SecretsUnreadable("KITH_SECRET_KEY is not set: there is no key to seal with")
    names = [CHANNELS, *features.sealed_collections(core)]
    return {name: await _reseal(core.store.collection(name), sealer) for name in names}


async def _reseal(collection: RetryingCollection, sealer: Sealer) -> int:
    rewritten = 0
    fields = (CLEAR_FIELD, SEALED_FIELD)
    async for doc in collection.find({}, dict.fromkeys(fields, 1)):
        if not any(doc.get(f) for f in fields):
            continue  # no secret kept here (a bot without a webhook key)
        unchanged = {"_id": doc["_id"], **{f: doc.get(f) for f in fields}}
        result = await collection.update_one(unchanged, {"$set": sealer.seal(sealer.open(doc))})
        rewritten += result.modified_count
    return rewritten
