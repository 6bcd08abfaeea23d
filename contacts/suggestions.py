"""Merge suggestions: customers who share an email, a phone or a WeChat unionid.

A suggestion is a shared key (kind and value) and the customers holding it, two or more.
Its id is derived from the workspace and the key, so it stays the same while the key is
shared and carries no personal data in URLs. The WeChat connector stores no unionid itself
(it needs the user-info API); a unionid is read from the attribute `wechat_unionid`, where
an import or `PATCH /api/v1/customers/{id}` puts it.

Dismissing a suggestion records, per customer shown, that this suggestion was dismissed; the
suggestion stays hidden while every customer holding the key has dismissed it, so a new
customer with the same email brings it back. Those records are the customer's data
(`merge_dismissals`, erased with them).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from kith.core.context import Core
from kith.core.customers import do_merge_customers, get_customer
from kith.core.errors import InvalidInput, NotFound
from kith.core.events import SYSTEM
from kith.core.features import CustomerData, Feature, Index
from kith.core.ids import derived_id, new_id
from kith.core.models import Author, Customer
from kith.core.pagination import decode_cursor, encode_cursor

DISMISSALS = "merge_dismissals"


class SharedKey(StrEnum):
    email = "email"
    phone = "phone"
    wechat_unionid = "wechat_unionid"


# Where each key is stored on a customer, and whether that field is a list.
KEY_PATHS: dict[SharedKey, tuple[str, bool]] = {
    SharedKey.email: ("emails", True),
    SharedKey.phone: ("phones", True),
    SharedKey.wechat_unionid: ("attributes.wechat_unionid", False),
}


class SuggestedCustomer(BaseModel):
    id: str
    name: str | None
    channels: list[str]
    emails: list[str]
    phones: list[str]
    last_seen: datetime | None


class Suggestion(BaseModel):
    id: str
    key: SharedKey
    value: str
    customers: list[SuggestedCustomer]


def suggestion_id(workspace_id: str, key: SharedKey, value: str) -> str:
    return derived_id("merge-suggestion", workspace_id, key.value, value)


def _pipeline(workspace_id: str, key: SharedKey, after: str | None, limit: int) -> list[Any]:
    path, is_list = KEY_PATHS[key]
    stages: list[dict[str, Any]] = [
        {
            "$match": {
                "workspace_id": workspace_id,
                "merged_into": None,
                (f"{path}.0" if is_list else path): {"$exists": True},
            }
        }
    ]
    if is_list:
        stages.append({"$unwind": f"${path}"})
    stages += [
        {"$group": {"_id": f"${path}", "ids": {"$addToSet": "$_id"}}},
        {"$match": {"ids.1": {"$exists": True}, **({"_id": {"$gt": after}} if after else {})}},
        {"$sort": {"_id": 1}},
        {"$limit": limit},
    ]
    return stages


async def _dismissed(core: Core, workspace_id: str, ids: list[str]) -> set[tuple[str, str]]:
    docs = (
        await core.store.collection(DISMISSALS)
        .find(
            {"workspace_id": workspace_id, "suggestion_id": {"$in": ids}},
            {"suggestion_id": 1, "customer_id": 1},
        )
        .to_list(None)
    )
    return {(d["suggestion_id"], d["customer_id"]) for d in docs}


async def _groups(
    core: Core, workspace_id: str, key: SharedKey, after: str | None, limit: int
) -> list[tuple[str, list[str]]]:
    cursor = await core.store.customers.aggregate(_pipeline(workspace_id, key, after, limit))
    return [(str(g["_id"]), sorted(g["ids"])) for g in await cursor.to_list(None)]


async def _suggestion(
    core: Core, workspace_id: str, key: SharedKey, value: str, ids: list[str]
) -> Suggestion:
    docs = await core.store.customers.find({"_id": {"$in": ids}}).sort("_id", 1).to_list(None)
    customers = [Customer.from_doc(d) for d in docs]
    return Suggestion(
        id=suggestion_id(workspace_id, key, value),
        key=key,
        value=value,
        customers=[
            SuggestedCustomer(
                id=c.id,
                name=c.name,
                channels=c.channels,
                emails=c.emails,
                phones=c.phones,
                last_seen=c.last_seen,
            )
            for c in customers
        ],
    )


async def list_suggestions(
    core: Core, workspace_id: str, cursor: str | None, limit: int
) -> tuple[list[Suggestion], str | None]:
    """One page of undismissed suggestions, ordered by key kind then value; the cursor is the
    last (kind, value) returned."""
    kinds = list(SharedKey)
    start, after = 0, None
    if cursor:
        kind, after = decode_cursor(cursor)
        if kind not in kinds:
            raise InvalidInput("malformed cursor", field="cursor")
        start = kinds.index(SharedKey(kind))
    found: list[tuple[SharedKey, str, list[str]]] = []
    for key in kinds[start:]:
        while len(found) <= limit:
            groups = await _groups(core, workspace_id, key, after, limit + 1)
            ids = [suggestion_id(workspace_id, key, value) for value, _ in groups]
            dismissed = await _dismissed(core, workspace_id, ids)
            for (value, members), sid in zip(groups, ids, strict=True):
                if not all((sid, m) in dismissed for m in members):
                    found.append((key, value, members))
            if len(groups) <= limit:
                break
            after = groups[-1][0]
        after = None
    shown = [await _suggestion(core, workspace_id, *group) for group in found[:limit]]
    more = len(found) > limit
    return shown, encode_cursor(shown[-1].key.value, shown[-1].value) if more else None


async def find_suggestion(core: Core, workspace_id: str, sid: str) -> Suggestion:
    """The suggestion with this id as it stands now (404 once the key is no longer shared)."""
    for key in SharedKey:
        after: str | None = None
        while True:
            groups = await _groups(core, workspace_id, key, after, 200)
            for value, members in groups:
                if suggestion_id(workspace_id, key, value) == sid:
                    return await _suggestion(core, workspace_id, key, value, members)
            if len(groups) < 200:
                break
            after = groups[-1][0]
    raise NotFound("no such merge suggestion (the key is no longer shared)", field="suggestion_id")


async def dismiss(core: Core, workspace_id: str, sid: str, actor: Author = SYSTEM) -> Suggestion:
    """Hide a suggestion for the customers holding its key now."""
    suggestion = await find_suggestion(core, workspace_id, sid)
    now = core.clock.now()
    for customer in suggestion.customers:
        await core.store.collection(DISMISSALS).update_one(
            {"workspace_id": workspace_id, "suggestion_id": sid, "customer_id": customer.id},
            {
                "$setOnInsert": {"_id": new_id(), "at": now},
                "$set": {"by": actor.model_dump(mode="python")},
            },
            upsert=True,
        )
    return suggestion


async def merge_from_suggestion(
    core: Core, workspace_id: str, sid: str, survivor_id: str, other_id: str, actor: Author
) -> tuple[str, Customer]:
    """Merge two customers of a suggestion (both must hold its key now); audited with the
    suggestion's id in the merge journal. Returns the merge's id and the survivor."""
    suggestion = await find_suggestion(core, workspace_id, sid)
    members = {c.id for c in suggestion.customers}
    for field, value in (("survivor_id", survivor_id), ("other_id", other_id)):
        if value not in members:
            raise InvalidInput("that customer is not part of this suggestion", field=field)
    await get_customer(core, workspace_id, survivor_id)
    merge_id = new_id()
    survivor = await do_merge_customers(
        core, workspace_id, survivor_id, other_id, actor, merge_id=merge_id, via=f"suggestion:{sid}"
    )
    return merge_id, survivor


feature = Feature(
    name="merge-suggestions",
    indexes=(
        # Not unique: a merge moves both customers' records onto the survivor.
        Index(DISMISSALS, (("workspace_id", 1), ("suggestion_id", 1))),
        Index(DISMISSALS, (("customer_id", 1),)),
        Index("merges", (("survivor_id", 1),)),
        Index("merges", (("workspace_id", 1), ("_id", -1))),
    ),
    customer_data=(CustomerData(DISMISSALS),),
)
