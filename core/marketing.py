"""The outbox's last word on marketing: a message whose customer revoked consent on its
channel since it was queued does not go out. Service messages are never held back."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.models import ConsentState, Message, Purpose

NO_CONSENT = "no_consent"


async def refusal(core: Core, message: Message, channel_type: str) -> str | None:
    """Why `message` must not be delivered now (a reason code), or None."""
    if message.purpose != Purpose.marketing:
        return None
    path = f"consent.{channel_type}.state"
    revoked = await core.store.customers.find_one(
        {"_id": message.customer_id, path: ConsentState.revoked.value}, {"_id": 1}
    )
    return NO_CONSENT if revoked is not None else None
