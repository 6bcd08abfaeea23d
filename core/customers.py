"""Customers and their channel identities: resolve on first contact, merge, erase."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from pymongo import InsertOne, UpdateOne
from pymongo.errors import DuplicateKeyError

from kith.core.context import Core
from kith.core.errors import InvalidInput, NotFound
from kith.core.events import SYSTEM, build_event, record
from kith.core.features import CustomerData, Sweep
from kith.core.features import customer_data as installed_customer_data
from kith.core.features import erasers as installed_erasers
from kith.core.ids import new_id
from kith.core.models import Author, Customer, Identity, IdentityRef, InboundMessage, Message
from kith.core.search_terms import customer_terms
from kith.core.tags import fold_tags

log = logging.getLogger(__name__)


def _normalize_email(email: str | None) -> str | None:
    return email.strip().lower() if email else None


LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# Core's collections that name a customer; features declare theirs (`Feature.customer_data`).
CORE_CUSTOMER_DATA = (
    CustomerData("messages"),
    CustomerData("conversations"),
    CustomerData("identities"),
    CustomerData("events"),
    CustomerData("merges", "survivor_id"),  # the journal of merges: holds the other's profile
)


def customer_data(core: Core) -> list[CustomerData]:
    """Every collection holding a customer's data: erased with them, moved on a merge."""
    return [*CORE_CUSTOMER_DATA, *installed_customer_data(core)]


class Sender(NamedTuple):
    """Who sent an inbound message: the customer, whether they are new, whether their
    profile's `last_seen` is due for an update (kept to one write a minute per identity), and
    when it was last written as far as the identity tells (None: never)."""

    customer_id: str
    new: bool
    stale: bool
    last_seen: datetime | None = None


def touch_due(last_seen: datetime | None, now: datetime) -> bool:
    """Whether a sender's `last_seen` is due for a write (None: their profile may be missing)."""
    return last_seen is None or now - last_seen >= LAST_SEEN_RESOLUTION


def _identity_key(workspace_id: str, channel_id: str, external_id: str) -> dict[str, str]:
    return {"workspace_id": workspace_id, "channel_id": channel_id, "external_id": external_id}


async def resolve_identity(core: Core, inbound: InboundMessage) -> Sender:
    """The customer behind (channel, external user id), created on first contact.

    A known identity is only read, together with other callers' lookups (group commit): its
    `last_seen` is written by `touch_customer`, at most once a minute. On first contact the
    identity is written before the customer: its unique index settles races between
    concurrent first messages, and the customer document is an upsert that any later
    message completes (the identity's `last_seen` starts empty, so the next message
    touches the profile) if this one is interrupted in between.
    """
    key = _identity_key(inbound.workspace_id, inbound.channel_id, inbound.user.id)
    identities = core.store.grouped("identities")
    now = core.clock.now()
    found = await identities.find_one(key)
    if found is not None:
        return _known(found, now)
    email = _normalize_email(inbound.user.email)
    identity = Identity(
        id=new_id(),
        workspace_id=inbound.workspace_id,
        channel_id=inbound.channel_id,
        channel_type=inbound.channel_type,
        external_id=inbound.user.id,
        customer_id=new_id(),
        email=email,
        phone=inbound.user.phone,
        created_at=now,
    )
    try:
        await identities.write(InsertOne({**identity.to_doc(), "last_seen": None}))
    except DuplicateKeyError:
        found = await identities.find_one(key)
        if found is None:
            raise
        return _known(found, now)
    customer = Customer(
        id=identity.customer_id,
        workspace_id=inbound.workspace_id,
        name=inbound.user.name,
        avatar_url=inbound.user.avatar_url,
        locale=inbound.user.locale,
        emails=[email] if email else [],
        phones=[inbound.user.phone] if inbound.user.phone else [],
        identities=[IdentityRef(channel_id=inbound.channel_id, external_id=inbound.user.id)],
        channels=[inbound.channel_type],
        first_seen=now,
        last_seen=now,
    )
    seed = customer.to_doc()
    seed.pop("last_seen")
    seed["terms"] = customer_terms(customer.name, customer.emails, customer.phones)
    first_seen = {"$setOnInsert": seed, "$max": {"last_seen": now}}
    await core.store.grouped("customers").write(
        UpdateOne({"_id": customer.id}, first_seen, upsert=True)
    )
    return Sender(customer.id, new=True, stale=False, last_seen=now)


def _known(identity: dict[str, Any], now: datetime) -> Sender:
    last_seen = identity.get("last_seen")
    return Sender(str(identity["customer_id"]), False, touch_due(last_seen, now), last_seen)


async def touch_customer(core: Core, message: Message, external_id: str | None) -> None:
    """Record activity on the profile, then on the sender's identity (whose `last_seen` keeps
    this to once a minute); recreates a minimal profile if a first attempt died before
    writing it."""
    seed = Customer(
        id=message.customer_id,
        workspace_id=message.workspace_id,
        name=message.author.name,
        first_seen=message.created_at,
        last_seen=message.created_at,
    ).to_doc()
    seed.pop("last_seen")
    seed["terms"] = customer_terms(message.author.name)
    seen = {"$max": {"last_seen": message.created_at}}
    await core.store.grouped("customers").write(
        UpdateOne({"_id": message.customer_id}, {"$setOnInsert": seed, **seen}, upsert=True)
    )
    if external_id is not None:
        key = _identity_key(message.workspace_id, message.channel_id, external_id)
        touched = {"$set": {"last_seen": message.created_at}}  # it starts as null
        await core.store.grouped("identities").write(UpdateOne(key, touched))


async def get_customer(core: Core, workspace_id: str, customer_id: str) -> Customer:
    doc = await core.store.customers.find_one(
        {"_id": customer_id, "workspace_id": workspace_id, "merged_into": None}
    )
    if doc is None:
        raise NotFound("no such customer", field="customer_id", reason="no_customer")
    return Customer.from_doc(doc)


async def customers_by_id(core: Core, ids: list[str]) -> dict[str, Customer]:
    """The customers of `ids` that are not merged away, by id (a list's names)."""
    docs = await core.store.customers.find({"_id": {"$in": sorted(set(ids))}}).to_list(None)
    return {d["_id"]: Customer.from_doc(d) for d in docs if not d.get("merged_into")}


# emails and phones come checked and normalised (`kith.contacts.edit`)
PROFILE_FIELDS = frozenset({"name", "avatar_url", "locale", "timezone", "tags", "emails", "phones"})


async def do_update_customer(
    core: Core,
    customer: Customer,
    *,
    actor: Author = SYSTEM,
    fields: dict[str, Any] | None = None,
    attributes: dict[str, Any] | None = None,
) -> Customer:
    """Replace profile `fields` and merge `attributes` key by key (None removes one); one
    `customer.updated` event names what changed, so open inbox panels refresh."""
    fields = fields or {}
    unknown = set(fields) - PROFILE_FIELDS
    if unknown:
        raise InvalidInput("not a profile field", field=sorted(unknown)[0])
    if "tags" in fields:  # one tag whatever its case (`kith.core.tags`)
        fields = {**fields, "tags": fold_tags(fields["tags"])}
    changed = {k: v for k, v in fields.items() if getattr(customer, k) != v}
    to_set = dict(changed)
    to_unset: dict[str, str] = {}
    for key, value in (attributes or {}).items():
        if value is None:
            to_unset[f"attributes.{key}"] = ""
        else:
            to_set[f"attributes.{key}"] = value
    update: dict[str, Any] = {}
    if to_set:
        update["$set"] = to_set
    if to_unset:
        update["$unset"] = to_unset
    if not update:
        return customer
    await core.store.customers.update_one({"_id": customer.id}, update)
    data = {"fields": sorted(changed), "attributes": sorted(attributes or {})}
    if "tags" in changed:
        data["tags"] = changed["tags"]
        # What was added, for triggers and goals ("tag added"): the list alone cannot say.
        had = fold_tags(customer.tags)
        data["tags_added"] = [t for t in changed["tags"] if t not in had]
    event = build_event(
        core,
        customer.workspace_id,
        "customer.updated",
        actor=actor,
        customer_id=customer.id,
        data=data,
    )
    await record(core, event)
    return await get_customer(core, customer.workspace_id, customer.id)


async def do_add_email(
    core: Core, customer: Customer, email: str, *, actor: Author = SYSTEM
) -> Customer:
    """Add an address the customer gave (already checked and normalized) to their emails."""
    return await do_add_contact_details(core, customer, emails=(email,), actor=actor)


async def do_add_contact_details(
    core: Core,
    customer: Customer,
    *,
    emails: tuple[str, ...] = (),
    phones: tuple[str, ...] = (),
    actor: Author = SYSTEM,
) -> Customer:
    """Add addresses and numbers the customer gave (already checked and normalized) to their
    profile, with one `customer.updated` event naming the fields that changed (search and
    open panels follow it); what they already have changes nothing."""
    emails = tuple(e for e in emails if e not in customer.emails)
    phones = tuple(p for p in phones if p not in customer.phones)
    added = {"emails": list(emails), "phones": list(phones)}
    fields = [name for name, values in added.items() if values]
    if not fields:
        return customer
    await core.store.customers.update_one(
        {"_id": customer.id},
        {"$addToSet": {name: {"$each": added[name]} for name in fields}},
    )
    event = build_event(
        core,
        customer.workspace_id,
        "customer.updated",
        actor=actor,
        customer_id=customer.id,
        data={"fields": fields, "attributes": []},
    )
    await record(core, event)
    return await get_customer(core, customer.workspace_id, customer.id)


def _merged_profile(survivor: Customer, other: Customer) -> dict[str, Any]:
    """The survivor keeps its own values and gains what only the other had."""
    refs = {(r.channel_id, r.external_id): r for r in [*survivor.identities, *other.identities]}
    consent = {**{k: v.model_dump() for k, v in other.consent.items()}}
    consent.update({k: v.model_dump() for k, v in survivor.consent.items()})
    return {
        "name": survivor.name or other.name,
        "avatar_url": survivor.avatar_url or other.avatar_url,
        "locale": survivor.locale or other.locale,
        "timezone": survivor.timezone or other.timezone,
        "tags": fold_tags([*survivor.tags, *other.tags]),
        "attributes": {**other.attributes, **survivor.attributes},
        "consent": consent,
        "emails": list(dict.fromkeys([*survivor.emails, *other.emails])),
        "phones": list(dict.fromkeys([*survivor.phones, *other.phones])),
        "identities": [r.model_dump() for r in refs.values()],
        "channels": list(dict.fromkeys([*survivor.channels, *other.channels])),
        "first_seen": min(survivor.first_seen, other.first_seen),
    } | _last_seen(survivor, other)


def _last_seen(survivor: Customer, other: Customer) -> dict[str, Any]:
    """The later activity of the two; nothing when neither was seen (an imported contact),
    as a stored null would break the next activity's `$max` on the embedded engine."""
    seen = [d for d in (survivor.last_seen, other.last_seen) if d is not None]
    return {"last_seen": max(seen)} if seen else {}


async def _journal_merge(
    core: Core,
    merge_id: str,
    other_doc: dict[str, Any],
    profile: dict[str, Any],
    moved: dict[str, list[str]],
    actor: Author,
    via: str | None,
    survivor_id: str,
) -> None:
    """What undoing a merge needs (`kith.contacts.merges`): both profiles as they were, the
    profile written, and the ids about to move in each collection."""
    survivor_doc = await core.store.customers.find_one({"_id": survivor_id})
    await core.store.collection("merges").insert_one(
        {
            "_id": merge_id,
            "workspace_id": other_doc["workspace_id"],
            "survivor_id": survivor_id,  # follows the survivor if it is merged in turn
            "kept_id": survivor_id,
            "other_id": other_doc["_id"],
            "survivor_before": survivor_doc,
            "other_before": other_doc,
            "merged_profile": profile,
            "moved": moved,
            "actor": actor.model_dump(mode="python"),
            "via": via,
            "created_at": core.clock.now(),
            "undone_at": None,
        }
    )


async def _move_to_survivor(
    core: Core, data: CustomerData, other_id: str, survivor_id: str
) -> None:
    collection = core.store.collection(data.collection)
    if data.merge_moves:
        await collection.update_many({data.field: other_id}, {"$set": {data.field: survivor_id}})
    else:  # rows the survivor recomputes (segment membership): moved, they would clash
        await collection.delete_many({data.field: other_id})


async def do_merge_customers(
    core: Core,
    workspace_id: str,
    survivor_id: str,
    other_id: str,
    actor: Author = SYSTEM,
    *,
    merge_id: str | None = None,
    via: str | None = None,
) -> Customer:
    """Fold `other` into `survivor`: every collection naming them (core's and the installed
    features'), tags and attributes.

    Idempotent: merging a customer already merged into the survivor returns the survivor.
    The other customer stays as a tombstone pointing at the survivor, so late references
    (an identity read just before the move) still find their way. A journal entry in `merges`
    (`merge_id`, or a new id) keeps both profiles as they were and the ids moved per
    collection, so the merge can be undone (`kith.contacts.merges`); `via` says what asked.
    """
    if survivor_id == other_id:
        raise InvalidInput("cannot merge a customer into itself", field="other_id")
    survivor = await get_customer(core, workspace_id, survivor_id)
    other_doc = await core.store.customers.find_one({"_id": other_id, "workspace_id": workspace_id})
    if other_doc is None:
        raise NotFound("no such customer", field="other_id", reason="no_customer")
    other = Customer.from_doc(other_doc)
    if other.merged_into == survivor_id:
        return survivor
    if other.merged_into is not None:
        raise InvalidInput("that customer was merged into another one", field="other_id")
    holders = customer_data(core)
    # One collection's work never depends on another's: run them side by side (a merge touches
    # every feature's collections, and one at a time took seconds on a loaded server).
    found = await asyncio.gather(
        *(
            core.store.collection(data.collection).distinct("_id", {data.field: other_id})
            for data in holders
        )
    )
    moved = {data.collection: ids for data, ids in zip(holders, found, strict=True)}
    profile = _merged_profile(survivor, other)
    merge_id = merge_id or new_id()
    await _journal_merge(core, merge_id, other_doc, profile, moved, actor, via, survivor_id)
    # After the journal: a merge cut short here can still be undone.
    await asyncio.gather(
        *(_move_to_survivor(core, data, other_id, survivor_id) for data in holders)
    )
    await core.store.customers.update_one({"_id": survivor_id}, {"$set": profile})
    await core.store.customers.replace_one(
        {"_id": other_id},
        {
            "workspace_id": workspace_id,
            "merged_into": survivor_id,
            "first_seen": other.first_seen,
            **({"last_seen": other.last_seen} if other.last_seen else {}),
        },
    )
    await record(
        core,
        build_event(
            core,
            workspace_id,
            "customer.merged",
            actor=actor,
            customer_id=survivor_id,
            data={"merged_id": other_id, "merge_id": merge_id, "via": via},
        ),
    )
    log.info("customers merged", extra={"survivor": survivor_id, "merged": other_id})
    return await get_customer(core, workspace_id, survivor_id)


async def do_erase_customer(
    core: Core, workspace_id: str, customer_id: str, actor: Author = SYSTEM
) -> dict[str, int]:
    """Erase a customer on request: their profile and every document naming them, in core's
    collections and in those the installed features declare.

    What remains is one audit event holding counts and who asked, no personal data.
    """
    await get_customer(core, workspace_id, customer_id)
    merged = await core.store.customers.distinct(
        "_id", {"workspace_id": workspace_id, "merged_into": customer_id}
    )
    names = [customer_id, *merged]  # documents a racing write left on a merged tombstone
    sweeps: list[Sweep] = []
    for eraser in installed_erasers(core):  # what names them in others' documents, first
        if (sweep := await eraser(core, workspace_id, names)) is not None:
            sweeps.append(sweep)
    counts: dict[str, int] = {}
    for data in customer_data(core):
        result = await core.store.collection(data.collection).delete_many(
            {data.field: {"$in": names}}
        )
        counts[data.collection] = result.deleted_count
    await core.store.customers.delete_many(
        {"workspace_id": workspace_id, "$or": [{"_id": customer_id}, {"merged_into": customer_id}]}
    )
    for sweep in sweeps:
        await sweep()
    await record(core, build_event(core, workspace_id, "customer.erased", actor=actor, data=counts))
    return counts
