"""The courtesy policy: whether, when and where one marketing message may reach a customer.

Broadcasts and sequences ask `decide()` before each send and count it with
`take_daily_slot()`; the outbox refuses a marketing message whose consent was revoked since.
`decide` checks, in order: the customer still exists (not erased, not merged), the send's
deadline, then each preferred channel type for a reachable identity (consent, the platform's
rule), then quiet hours in the customer's zone. The daily cap is not peeked at here: a retried
send that already holds its slot must not be refused by its own count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import DuplicateKeyError

from kith.connectors.wechat.sender import WINDOW, WINDOW_EVENTS
from kith.core.clock import utcnow
from kith.core.context import Core
from kith.core.ids import derived_id
from kith.core.models import ConsentState, Customer, Direction
from kith.courtesy.facts import Facts
from kith.courtesy.settings import CourtesySettings, load_settings
from kith.courtesy.zones import local_day, quiet_until, zone_of

SLOTS = "courtesy_slots"
SLOT_KEPT = timedelta(days=3)  # a local day has ended everywhere by then


@dataclass(frozen=True)
class Route:
    """The identity a marketing send goes out on."""

    channel_id: str
    channel_type: str
    external_id: str


@dataclass(frozen=True)
class Go:
    route: Route


@dataclass(frozen=True)
class Hold:
    until: datetime
    reason: str


@dataclass(frozen=True)
class Skip:
    reason: str


class SkipReason(StrEnum):
    no_consent = "no_consent"
    no_reachable_channel = "no_reachable_channel"
    frequency_cap = "frequency_cap"
    send_by_passed = "send_by_passed"
    wechat_window_closed = "wechat_window_closed"
    telegram_not_started = "telegram_not_started"
    erased = "erased"
    merged = "merged"


QUIET_HOURS = "quiet_hours"
# When no channel passes, the reason said is the most specific one found: the customer's own
# refusal, then a platform's rule, then plain unreachability.
SPECIFICITY = {
    SkipReason.no_consent: 3,
    SkipReason.wechat_window_closed: 2,
    SkipReason.telegram_not_started: 2,
    SkipReason.no_reachable_channel: 1,
}


async def decide(
    core: Core,
    customer: Customer,
    channels: Sequence[str],
    now: datetime,
    send_by: datetime | None,
    facts: Facts | None = None,
) -> Go | Hold | Skip:
    """Go on the first reachable channel of `channels` (preference order), Hold until quiet
    hours end, or Skip with a `SkipReason`. Reads the customer afresh (consent may have
    changed since the caller's copy) and the workspace's courtesy settings, or looks them up
    in the `facts` a batch read at its start (`kith.courtesy.facts`)."""
    if facts is not None:
        doc = await facts.customer(customer.id)
    else:
        doc = await core.store.customers.find_one({"_id": customer.id})
    if doc is None:
        return Skip(SkipReason.erased)
    if doc.get("merged_into"):
        return Skip(SkipReason.merged)
    current = Customer.from_doc(doc)
    if send_by is not None and now > send_by:
        return Skip(SkipReason.send_by_passed)
    if facts is not None:
        settings = await facts.settings_of(current.workspace_id)
    else:
        settings = await load_settings(core, current.workspace_id)
    found = await _route(core, current, channels, settings, now, facts)
    if isinstance(found, Skip):
        return found
    route, channel_zone = found
    until = quiet_until(now, zone_of(current.timezone, channel_zone, settings.timezone), settings)
    if until is None:
        return Go(route)
    if send_by is not None and until > send_by:
        return Skip(SkipReason.send_by_passed)
    return Hold(until=until, reason=QUIET_HOURS)


async def _route(
    core: Core,
    customer: Customer,
    channels: Sequence[str],
    settings: CourtesySettings,
    now: datetime,
    facts: Facts | None,
) -> tuple[Route, str | None] | Skip:
    """The first channel type that passes, with its channel's zone if it states one."""
    best: SkipReason = SkipReason.no_reachable_channel
    for channel_type in dict.fromkeys(channels):
        refusal = _consent_refusal(customer, channel_type, settings)
        if refusal is None:
            if facts is not None:
                found = facts.identities_of(customer.id, customer.workspace_id, channel_type)
            else:
                found = await _identities(core, customer, channel_type)
            for identity, channel in found:
                reason = await _platform_refusal(core, customer, identity, now, facts)
                if reason is None:
                    route = Route(channel["_id"], channel_type, identity["external_id"])
                    return route, (channel.get("config") or {}).get("timezone")
                refusal = _more_specific(refusal, reason)
            refusal = refusal or SkipReason.no_reachable_channel
        best = _more_specific(best, refusal) or best
    return Skip(best)


def _more_specific(known: SkipReason | None, new: SkipReason) -> SkipReason:
    if known is None or SPECIFICITY[new] > SPECIFICITY[known]:
        return new
    return known


def _consent_refusal(
    customer: Customer, channel_type: str, settings: CourtesySettings
) -> SkipReason | None:
    """Revoked never passes; unknown passes unless the workspace requires a grant there."""
    consent = customer.consent.get(channel_type)
    state = consent.state if consent else ConsentState.unknown
    if state == ConsentState.revoked:
        return SkipReason.no_consent
    if state == ConsentState.unknown and channel_type in settings.require_granted:
        return SkipReason.no_consent
    return None


async def _identities(
    core: Core, customer: Customer, channel_type: str
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The customer's identities of that type on enabled channels, latest seen first."""
    identities = await core.store.identities.find(
        {"customer_id": customer.id, "channel_type": channel_type}
    ).to_list(None)
    if not identities:
        return []
    channel_ids = sorted({i["channel_id"] for i in identities})
    channels = {
        c["_id"]: c
        async for c in core.store.channels.find(
            {"_id": {"$in": channel_ids}, "workspace_id": customer.workspace_id, "enabled": True},
            {"config": 1},
        )
    }
    usable = [(i, channels[i["channel_id"]]) for i in identities if i["channel_id"] in channels]
    usable.sort(key=lambda pair: pair[0].get("last_seen") or pair[0]["created_at"], reverse=True)
    return usable


async def _platform_refusal(
    core: Core,
    customer: Customer,
    identity: dict[str, Any],
    now: datetime,
    facts: Facts | None = None,
) -> SkipReason | None:
    channel_type = identity["channel_type"]
    if channel_type == "wechat":
        since = await _last_wechat_interaction(core, customer, identity)
        return SkipReason.wechat_window_closed if now - since > WINDOW else None
    if channel_type == "telegram":
        # A private chat's id is the user's: a conversation in it means they started the bot.
        if facts is not None:
            seen = facts.conversation(
                customer.id, channel_id=identity["channel_id"], thread_key=identity["external_id"]
            )
            return None if seen else SkipReason.telegram_not_started
        private = await core.store.conversations.find_one(
            {
                "customer_id": customer.id,
                "channel_id": identity["channel_id"],
                "thread_key": identity["external_id"],
            },
            {"_id": 1},
        )
        return None if private else SkipReason.telegram_not_started
    return None


async def _last_wechat_interaction(
    core: Core, customer: Customer, identity: dict[str, Any]
) -> datetime:
    """The latest message, follow, scan or menu click on that account (as the sender does)."""
    message = await core.store.messages.find_one(
        {
            "customer_id": customer.id,
            "channel_id": identity["channel_id"],
            "direction": Direction.inbound.value,
        },
        {"created_at": 1},
        sort=[("created_at", -1)],
    )
    event = await core.store.events.find_one(
        {
            "customer_id": customer.id,
            "type": {"$in": WINDOW_EVENTS},
            "data.channel_id": identity["channel_id"],
        },
        {"created_at": 1},
        sort=[("created_at", -1)],
    )
    seen = [doc["created_at"] for doc in (message, event) if doc is not None]
    return max(seen, default=identity["created_at"] - WINDOW - WINDOW)


async def take_daily_slot(
    core: Core,
    customer: Customer,
    now: datetime,
    key: str,
    settings: CourtesySettings | None = None,
) -> bool:
    """Count one marketing send in the customer's local calendar day, across all channels.

    One document per (customer, local day) holds the keys that took a slot; the update only
    matches while the key is new and the count under the cap, so two takers at the cap
    cannot both win, and the same key twice takes one slot. False once the cap is reached.
    The update is group-committed (`kith.core.group_commit`): the slots a batch of sends takes
    at once go out in one `bulk_write`, each still conditional on its own key and the cap.
    """
    settings = settings or await load_settings(core, customer.workspace_id)
    cap = settings.daily_cap
    day = local_day(now, zone_of(customer.timezone, None, settings.timezone))
    slots = core.store.collection(SLOTS)
    doc_id = derived_id("courtesy-day", customer.id, day.isoformat())
    condition: dict[str, Any] = {"_id": doc_id, "keys": {"$ne": key}}
    if cap is not None:
        condition["count"] = {"$lt": cap}
    for _ in range(3):
        try:
            await core.store.grouped(SLOTS).write(
                UpdateOne(
                    condition,
                    {
                        "$push": {"keys": key},
                        "$inc": {"count": 1},
                        "$setOnInsert": {
                            "workspace_id": customer.workspace_id,
                            "customer_id": customer.id,
                            "day": day.isoformat(),
                            # The TTL monitor runs on the server's wall clock, not on Kith's.
                            "purge_at": utcnow() + SLOT_KEPT,
                        },
                    },
                    upsert=True,
                )
            )
            return True
        except DuplicateKeyError:  # the day exists and refused us, or a racing first insert
            stored = await slots.find_one({"_id": doc_id}, {"keys": 1, "count": 1})
            if stored is None:
                continue
            if key in stored.get("keys", []):
                return True
            if cap is not None and stored.get("count", 0) >= cap:
                return False
    return False
