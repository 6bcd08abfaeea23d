"""Changing a customer's marketing consent on one channel type: the write and its event."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.events import SYSTEM, build_event, record
from kith.core.models import Author, Consent, ConsentState, Customer

CHANGED = "consent.changed"


async def do_change_consent(
    core: Core,
    customer: Customer,
    channel_type: str,
    state: ConsentState,
    via: str,
    actor: Author = SYSTEM,
) -> bool:
    """Set `consent.<channel_type>` and record `consent.changed` (from, to, via). The write
    only applies while the state differs, so a repeated change (a second STOP, a link
    clicked twice, two workers on one event) records nothing. Returns whether it changed."""
    now = core.clock.now()
    path = f"consent.{channel_type}"
    result = await core.store.customers.find_one_and_update(
        {
            "_id": customer.id,
            "workspace_id": customer.workspace_id,
            "merged_into": None,
            f"{path}.state": {"$ne": state.value},
        },
        {"$set": {path: Consent(state=state, at=now, via=via).model_dump()}},
        projection={path: 1},
    )
    if result is None:
        return False
    before = (result.get("consent") or {}).get(channel_type) or {}
    await record(
        core,
        build_event(
            core,
            customer.workspace_id,
            CHANGED,
            actor=actor,
            customer_id=customer.id,
            data={
                "channel_type": channel_type,
                "from": before.get("state", ConsentState.unknown.value),
                "to": state.value,
                "via": via,
            },
        ),
    )
    return True
