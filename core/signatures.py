"""The signature on every request Kith sends to a user's endpoint (API-channel callbacks,
bot webhook steps), so that the endpoint can tell Kith's requests from anyone else's."""

from __future__ import annotations

import hashlib
import hmac

from kith.core.clock import Clock, wall

SIGNATURE_HEADER = "X-Kith-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as Stripe signs its webhooks."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def sign_now(clock: Clock, secret: str, body: bytes) -> str:
    """`sign` at the wall clock's time: a receiver checks `t` against its own real clock, and
    Kith's may run ahead of it (`kith demo`'s runs an hour a second)."""
    return sign(secret, int(wall(clock).now().timestamp()), body)
