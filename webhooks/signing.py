"""Each endpoint's signing secret, and the Standard Webhooks headers made with it.

The secret is `whsec_` and 32 random bytes in base64, the form Standard Webhooks libraries
read. It is sealed in the endpoint's document like channel secrets (`kith.core.sealing`) and
shown once, when made or rotated. After a rotation the previous secret still signs for a day
(the header then carries two signatures), so a receiver can switch without losing events.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Any

from standardwebhooks import Webhook

from kith.core.clock import aware
from kith.core.sealing import CLEAR_FIELD, SEALED_FIELD, Sealer

PREFIX = "whsec_"
ROTATION_GRACE = timedelta(days=1)


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sealed(
    sealer: Sealer, secret: str, previous: str | None = None, until: datetime | None = None
) -> dict[str, Any]:
    """The fields to store for a secret (and the one it replaces, valid `until`)."""
    kept: dict[str, Any] = {"secret": secret}
    if previous and until:
        kept |= {"previous": previous, "previous_until": aware(until).isoformat()}
    return sealer.seal(kept)


def signing_secrets(sealer: Sealer, doc: dict[str, Any], now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its grace."""
    opened = sealer.open(doc)
    found = [str(opened["secret"])] if opened.get("secret") else []
    until = opened.get("previous_until")
    if opened.get("previous") and until and datetime.fromisoformat(until) > aware(now):
        found.append(str(opened["previous"]))
    return found


def current_secret(sealer: Sealer, doc: dict[str, Any]) -> str | None:
    secret = sealer.open(doc).get("secret")
    return str(secret) if secret else None


SECRET_FIELDS = {CLEAR_FIELD: 1, SEALED_FIELD: 1}


def headers(msg_id: str, sent_at: datetime, body: str, keys: list[str]) -> dict[str, str]:
    """`webhook-id`, `webhook-timestamp` and `webhook-signature` (one `v1,` signature per
    key, space separated), signed by the standardwebhooks library."""
    signatures = " ".join(Webhook(key).sign(msg_id, aware(sent_at), body) for key in keys)
    return {
        "content-type": "application/json",
        "user-agent": "Kith-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(aware(sent_at).timestamp())),
        "webhook-signature": signatures,
    }
