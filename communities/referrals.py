"""Who brought whom: the `community-referrals` consumer and the leaderboard.

A join that came through an invite link (`via` is the link's name, ending in `ref_<code>`)
credits the link's owner with one `community_referrals` row. A customer who started the bot
through its deep link (`/start ref_<code>`) or followed a WeChat QR code with the scene
`ref_<code>` is remembered (`community_referral_intents`), and credited to the code's owner
when they then join the community without a link of their own.

Rules: one credit per member and community, ever (the row's id is derived from the member),
so join-leave-join counts once, and a member who was in the community before (a rejoin) is
not credited at all; the owner joining through their own link is no referral; a leave within
`Referrals.revoke_days` of the credited join revokes it. Each credit and revocation is an
event (`community.referral_credited` / `community.referral_revoked`, on the referrer) that
rewards, the customer's figures and sequence triggers follow.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel
from pymongo.errors import DuplicateKeyError

from kith.communities.askers import Asker, manager_asker, seen_community, token_asker
from kith.communities.invites import (
    Invite,
    SentInvite,
    code_of,
    find_by_code,
    invites,
    make_invite,
    read_invite,
)
from kith.communities.models import Community
from kith.communities.store import get_community, members
from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.events import build_event, record
from kith.core.ids import derived_id, refuse_non_ids
from kith.core.models import Author, AuthorKind, Event
from kith.core.pagination import page
from kith.web.api.deps import CoreDep
from kith.web.api.schemas import Page

log = logging.getLogger(__name__)

REFERRALS = "community_referrals"
INTENTS = "community_referral_intents"
INTENT_DAYS = 30  # a deep-link start older than this no longer attributes a join
LEADERS = 50
BROUGHT = 10  # the customers each leader brought, latest first, that the board names
AUTHOR = Author(kind=AuthorKind.system, name="referrals")

TYPES = (
    "community.member_joined",
    "community.member_left",
    "channel.start",
    "channel.subscribed",
    "channel.scan",
)


class ReferralStatus(StrEnum):
    credited = "credited"
    revoked = "revoked"


class Referral(BaseModel):
    id: str
    community_id: str
    referrer_id: str  # the link's owner (a customer)
    referred_id: str  # the customer who joined
    member_id: str
    code: str
    via: str  # link (the invite link), start (the bot's deep link), wechat_qr
    joined_at: datetime
    status: ReferralStatus
    revoked_at: datetime | None = None


def referrals(core: Core) -> Any:
    return core.store.collection(REFERRALS)


def intents(core: Core) -> Any:
    return core.store.collection(INTENTS)


def referral_id(community_id: str, member_id: str) -> str:
    return derived_id("community-referral", community_id, member_id)


async def credited(core: Core, community_id: str, referrer_id: str) -> int:
    """The referrer's credited referrals in the community (what goals count)."""
    query = {
        "community_id": community_id,
        "referrer_id": referrer_id,
        "status": ReferralStatus.credited.value,
    }
    return int(await referrals(core).count_documents(query))


async def consume(core: Core, event: Event) -> None:
    """The `community-referrals` consumer."""
    if event.type == "community.member_joined":
        await _joined(core, event)
    elif event.type == "community.member_left":
        await _left(core, event)
    else:
        await _started(core, event)


async def _started(core: Core, event: Event) -> None:
    """A bot start or QR follow carrying a code: remembered until the customer joins."""
    code = code_of(event.data.get("payload"))
    if code is None or event.customer_id is None:
        return
    invite = await find_by_code(core, event.workspace_id, code)
    if invite is None or invite.customer_id == event.customer_id:
        return
    via = "wechat_qr" if event.data.get("channel_type") == "wechat" else "start"
    await intents(core).update_one(
        {"_id": derived_id("referral-intent", event.customer_id, invite.community_id)},
        {
            "$set": {
                "workspace_id": event.workspace_id,
                "customer_id": event.customer_id,
                "community_id": invite.community_id,
                "code": code,
                "via": via,
                "at": event.created_at,
            }
        },
        upsert=True,
    )


async def _joined(core: Core, event: Event) -> None:
    data = event.data
    if event.customer_id is None or data.get("last_left_at"):
        return  # a rejoin brings nobody new
    try:
        community = await get_community(core, event.workspace_id, str(data["community_id"]))
    except NotFound:
        return
    if not community.referrals.enabled:
        return
    found = await _source(core, community, event.customer_id, data.get("via"), event.created_at)
    if found is None:
        return
    invite, via = found
    if invite.customer_id == event.customer_id:
        return  # joining through one's own link
    member = await members(core).find_one({"_id": data["member_id"]}, {"joined_at": 1})
    referral = Referral(
        id=referral_id(community.id, str(data["member_id"])),
        community_id=community.id,
        referrer_id=invite.customer_id,
        referred_id=event.customer_id,
        member_id=str(data["member_id"]),
        code=invite.code,
        via=via,
        joined_at=member["joined_at"] if member else event.created_at,
        status=ReferralStatus.credited,
    )
    doc = {
        **referral.model_dump(exclude={"id"}),
        "_id": referral.id,
        "workspace_id": community.workspace_id,
        "join_event_id": event.id,
    }
    try:
        await referrals(core).insert_one(doc)
    except DuplicateKeyError:  # credited before; only this join's retry goes on to the event
        stored = await referrals(core).find_one({"_id": referral.id})
        if stored is None or stored.get("join_event_id") != event.id:
            return
        referral = Referral.model_validate({**stored, "id": stored["_id"]})
    await _tell(core, community, referral, "community.referral_credited", "credited")


async def _source(
    core: Core, community: Community, customer_id: str, via: Any, at: datetime
) -> tuple[Invite, str] | None:
    """The invite a join is credited to: its link's, else the customer's deep-link start."""
    code = code_of(via if isinstance(via, str) else None)
    if code is not None:
        invite = await find_by_code(core, community.workspace_id, code)
        if invite is not None and invite.community_id == community.id:
            return invite, "link"
    intent = await intents(core).find_one(  # by fields: a merge moves it to the survivor
        {"customer_id": customer_id, "community_id": community.id}, sort=[("at", -1)]
    )
    if intent is None or at - intent["at"] > timedelta(days=INTENT_DAYS):
        return None
    invite = await find_by_code(core, community.workspace_id, intent["code"])
    return (invite, str(intent.get("via", "start"))) if invite is not None else None


async def _left(core: Core, event: Event) -> None:
    data = event.data
    stored = await referrals(core).find_one(
        {
            "_id": referral_id(str(data["community_id"]), str(data["member_id"])),
            "status": ReferralStatus.credited.value,
        }
    )
    if stored is None:
        return
    referral = Referral.model_validate({**stored, "id": stored["_id"]})
    try:
        community = await get_community(core, event.workspace_id, referral.community_id)
    except NotFound:
        return
    member = await get_member_by_id(core, referral.member_id)
    left_at = (member or {}).get("left_at") or event.created_at
    if left_at - referral.joined_at > timedelta(days=community.referrals.revoke_days):
        return  # stayed long enough: the credit holds
    done = await referrals(core).update_one(
        {"_id": referral.id, "status": ReferralStatus.credited.value},
        {"$set": {"status": ReferralStatus.revoked.value, "revoked_at": left_at}},
    )
    if done.modified_count:
        revoked = referral.model_copy(
            update={"status": ReferralStatus.revoked, "revoked_at": left_at}
        )
        await _tell(core, community, revoked, "community.referral_revoked", "revoked")


async def get_member_by_id(core: Core, member_id: str) -> dict[str, Any] | None:
    doc: dict[str, Any] | None = await members(core).find_one({"_id": member_id})
    return doc


async def _tell(
    core: Core, community: Community, referral: Referral, type_: str, what: str
) -> None:
    """The event, on the referrer, with their counts after the change."""
    total = await referrals(core).count_documents(
        {"referrer_id": referral.referrer_id, "status": ReferralStatus.credited.value}
    )
    event = build_event(
        core,
        community.workspace_id,
        type_,
        actor=AUTHOR,
        event_id=derived_id("community-referral-event", referral.id, what),
        customer_id=referral.referrer_id,
        data={
            "community_id": community.id,
            "referral_id": referral.id,
            "referrer_id": referral.referrer_id,
            "referred_id": referral.referred_id,
            "member_id": referral.member_id,
            "via": referral.via,
            "count": await credited(core, community.id, referral.referrer_id),
            "total": int(total),
        },
    )
    await record(core, event)


class Brought(BaseModel):
    """One customer a referrer brought in (their latest first, `BROUGHT` of them at most)."""

    customer_id: str
    name: str | None = None
    joined_at: datetime
    status: ReferralStatus


async def _brought(core: Core, community_id: str, referrer_id: str) -> list[dict[str, Any]]:
    query = {"community_id": community_id, "referrer_id": referrer_id}
    found = referrals(core).find(query, sort=[("joined_at", -1), ("_id", 1)], limit=BROUGHT)
    return list(await found.to_list(None))


class Leader(BaseModel):
    customer_id: str
    name: str | None = None
    credited: int
    revoked: int
    brought: list[Brought] = []


class Leaderboard(BaseModel):
    community_id: str
    items: list[Leader]


async def leaderboard(core: Core, community: Community, limit: int = LEADERS) -> Leaderboard:
    """Referrers by credited referrals, top first (ties: more recent first, then id)."""
    pipeline: list[dict[str, Any]] = [
        {"$match": {"community_id": community.id}},
        {
            "$group": {
                "_id": "$referrer_id",
                "credited": {
                    "$sum": {"$cond": [{"$eq": ["$status", ReferralStatus.credited.value]}, 1, 0]}
                },
                "revoked": {
                    "$sum": {"$cond": [{"$eq": ["$status", ReferralStatus.revoked.value]}, 1, 0]}
                },
                "last": {"$max": "$joined_at"},
            }
        },
        {"$match": {"credited": {"$gt": 0}}},
        {"$sort": {"credited": -1, "last": -1, "_id": 1}},
        {"$limit": limit},
    ]
    rows = await (await referrals(core).aggregate(pipeline)).to_list(None)
    # Who each brought: one indexed read of BROUGHT at most per leader, all at once (one
    # `$in` read would be unbounded for a leader who brought thousands).
    latest = await asyncio.gather(*(_brought(core, community.id, row["_id"]) for row in rows))
    brought = {row["_id"]: found for row, found in zip(rows, latest, strict=True)}
    ids = [row["_id"] for row in rows]
    ids += [r["referred_id"] for each in brought.values() for r in each]
    names = {
        doc["_id"]: doc.get("name")
        async for doc in core.store.customers.find({"_id": {"$in": ids}}, {"name": 1})
    }
    items = [
        Leader(
            customer_id=row["_id"],
            name=names.get(row["_id"]),
            credited=row["credited"],
            revoked=row["revoked"],
            brought=[
                Brought(
                    customer_id=r["referred_id"],
                    name=names.get(r["referred_id"]),
                    joined_at=r["joined_at"],
                    status=r["status"],
                )
                for r in brought[row["_id"]]
            ],
        )
        for row in rows
    ]
    return Leaderboard(community_id=community.id, items=items)


def build(prefix: str, who: Any, schema: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["communities"], include_in_schema=schema)
    asked = Depends(who)

    @router.post(
        "/{community_id}/invite-links",
        response_model=Invite,
        status_code=201,
        responses={200: {"model": Invite, "description": "Made before: the same link."}},
    )
    async def invite(
        community_id: str,
        body: SentInvite,
        response: Response,
        core: CoreDep,
        asker: Asker = asked,
    ) -> Invite:
        """Made once per customer and name: 201 when this request made it, 200 with the
        same link when it was made before. A refusal names every bad field at once."""
        wanted = read_invite(core, body)
        invite, made = await make_invite(core, asker.workspace_id, community_id, wanted)
        if not made:
            response.status_code = 200
        return invite

    @router.get("/{community_id}/invite-links", response_model=Page[Invite])
    async def invite_links(
        community_id: str,
        core: CoreDep,
        asker: Asker = asked,
        customer_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        cursor: Annotated[str | None, Query(max_length=1024)] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
    ) -> Page[Invite]:
        """The community's invite links, newest first; `customer_id` keeps one customer's."""
        community = await seen_community(core, asker, community_id)
        query: dict[str, Any] = {"community_id": community.id}
        if customer_id is not None:
            refuse_non_ids({"customer_id": customer_id})
            query["customer_id"] = customer_id
        docs, next_cursor = await page(
            invites(core), query, "created_at", cursor=cursor, limit=limit, descending=True
        )
        return Page(items=[Invite.from_doc(d) for d in docs], next_cursor=next_cursor)

    @router.get("/{community_id}/referrals", response_model=Leaderboard)
    async def board(community_id: str, core: CoreDep, asker: Asker = asked) -> Leaderboard:
        community = await seen_community(core, asker, community_id)
        return await leaderboard(core, community)

    return router


api_router = build("/api/v1/communities", token_asker, schema=True)
app_router = build("/app/api/communities", manager_asker, schema=False)
