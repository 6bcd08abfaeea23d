"""Requests to join through an invite link that needs approval (Telegram's
`creates_join_request`): the `community-join-requests` consumer, the approve / decline
action and its routes.

Each `channel.join_requested` becomes one `community_join_requests` row (its id derived
from the update, so a redelivery finds it). `JoinRequests.mode` says who decides: the bot
approves at once, or moderators get a private note in the inbox naming who asked and
through which link, and approve or decline through the API. A request is not a join: the
platform's own join update follows an approval (carrying the link, so referrals credit its
owner once, as for any join). A member who gets in another way (approved in Telegram's own
app) settles their pending requests as approved by the platform; a member who leaves closes
their join still waiting for the rules to be accepted (`joins.close_left`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from kith.communities import roster
from kith.communities.askers import Asker, agent_asker, seen_community, token_asker
from kith.communities.joins import close_left, conversation
from kith.communities.models import BotStatus, Community
from kith.communities.store import get_community
from kith.communities.texts import pick
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.errors import Conflict, DeliveryError, NotFound
from kith.core.events import build_event, record
from kith.core.groups import Unsupported
from kith.core.ids import derived_id
from kith.core.models import (
    Author,
    AuthorKind,
    ChannelEvent,
    Event,
    OutboundContent,
    Record,
    Wording,
)
from kith.core.outbox import send
from kith.core.pagination import page
from kith.core.pipeline import channel_event_of
from kith.web.api.deps import CoreDep
from kith.web.api.schemas import Page

REQUESTS = "community_join_requests"
TYPES = ("channel.join_requested", "community.member_joined", "community.member_left")
BOT = Author(kind=AuthorKind.system, name="join requests")
PLATFORM = Author(kind=AuthorKind.system, name="platform")

NOTICE = {
    "en": "{name} (id {user}) asks to join through the link “{link}”. Approve or decline: "
    "POST /api/v1/communities/{community}/join-requests/{request}/approve (or /decline).",
    "zh": "{name}（ID {user}）通过链接“{link}”申请入群。批准或拒绝："
    "POST /api/v1/communities/{community}/join-requests/{request}/approve（或 /decline）。",
}
NO_LINK = {"en": "(none named)", "zh": "（未注明）"}
FAILED = {
    "en": "The bot could not approve it itself: {reason}. ",
    "zh": "机器人未能自动批准：{reason}。",
}


class RequestStatus(StrEnum):
    pending = "pending"
    approved = "approved"
    declined = "declined"


class JoinRequest(Record):
    community_id: str
    customer_id: str | None
    platform_user_id: str
    name: str | None = None
    via: str | None = None  # the invite link's name (else its URL)
    requested_at: datetime
    status: RequestStatus = RequestStatus.pending
    decided_at: datetime | None = None
    decided_by: dict[str, Any] | None = None  # the Author: an agent, the bot, the platform
    bot_error: str | None = None  # why the bot could not approve it itself


def requests(core: Core) -> Any:
    return core.store.collection(REQUESTS)


async def consume(core: Core, event: Event) -> None:
    if event.type == "community.member_joined":
        await _joined(core, event)
        return
    if event.type == "community.member_left":
        await close_left(core, event)  # their join waiting on the rules ends too
        return
    change = channel_event_of(event)
    if change.group_id is None:
        return
    community = await roster.see(core, _chat(change))
    if community.bot_status == BotStatus.left:
        return  # a late update from a chat the bot was removed from
    request = await _store(core, community, change, event)
    if request.status != RequestStatus.pending:
        return  # a retried delivery of a request settled already
    data = {"request_id": request.id, "platform_user_id": request.platform_user_id}
    await _note(core, community, "community.join_requested", request, {**data, "via": request.via})
    reason = None
    if community.join_requests.mode == "approve" and request.bot_error is None:
        try:
            await decide(core, community, request, approve=True, actor=BOT)
            return
        except Conflict as exc:
            reason = exc.message
            await requests(core).update_one({"_id": request.id}, {"$set": {"bot_error": reason}})
    await _notice(core, community, request, reason or request.bot_error)


async def decide(
    core: Core, community: Community, request: JoinRequest, *, approve: bool, actor: Author
) -> JoinRequest:
    """Approve or decline a pending request on the platform, then record it once. A
    retryable platform failure propagates (the consumer retries); the rest is a Conflict."""
    if request.status != RequestStatus.pending:
        raise Conflict(f"the request is {request.status.value} already", field="request_id")
    kind = core.channels.get(community.channel_type)
    admin = kind.group_admin if kind is not None else None
    try:
        if admin is None:
            raise Unsupported(f"{community.channel_type} channels have no join requests")
        channel = await get_channel(core, community.workspace_id, community.channel_id)
        call = admin.approve_join_request if approve else admin.decline_join_request
        await call(core, channel, community.platform_chat_id, request.platform_user_id)
    except Unsupported as exc:
        raise Conflict(f"unsupported: {exc}", field="community_id") from None
    except DeliveryError as exc:
        if exc.retryable and actor is BOT:
            raise
        raise Conflict(f"the platform refused: {exc.message}", field="request_id") from None
    status = RequestStatus.approved if approve else RequestStatus.declined
    return await _settle(core, community, request, status, actor)


async def _settle(
    core: Core, community: Community, request: JoinRequest, status: RequestStatus, actor: Author
) -> JoinRequest:
    """Pending → `status`, once: whoever settles it first records the event."""
    fields = {
        "status": status.value,
        "decided_at": core.clock.now(),
        "decided_by": actor.model_dump(mode="json", exclude_none=True),
    }
    doc = await requests(core).find_one_and_update(
        {"_id": request.id, "status": RequestStatus.pending.value},
        {"$set": fields},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:  # settled meanwhile (a second moderator, or the join itself)
        return await get_request(core, community, request.id)
    done = JoinRequest.from_doc(doc)
    data = {"request_id": done.id, "platform_user_id": done.platform_user_id, "by": actor.kind}
    await _note(core, community, f"community.join_request_{status.value}", done, data)
    return done


async def _store(
    core: Core, community: Community, change: ChannelEvent, event: Event
) -> JoinRequest:
    request = JoinRequest(
        id=derived_id("community-join-request", event.id),
        workspace_id=community.workspace_id,
        community_id=community.id,
        customer_id=event.customer_id,
        platform_user_id=change.user.id,
        name=change.user.name,
        via=change.payload,
        requested_at=change.occurred_at or event.created_at,
    )
    try:
        await requests(core).insert_one(request.to_doc())
    except DuplicateKeyError:
        return await get_request(core, community, request.id)
    return request


async def _joined(core: Core, event: Event) -> None:
    """In after all (approved in the platform's own app): their pending requests are done."""
    community_key, user = event.data.get("community_id"), event.data.get("platform_user_id")
    pending = {"community_id": community_key, "platform_user_id": user, "status": "pending"}
    docs = await requests(core).find(pending).to_list(None)
    if not docs:
        return
    community = await get_community(core, event.workspace_id, str(community_key))
    for doc in docs:
        await _settle(core, community, JoinRequest.from_doc(doc), RequestStatus.approved, PLATFORM)


async def _notice(
    core: Core, community: Community, request: JoinRequest, reason: str | None
) -> None:
    """A private note on the group's conversation: what the inbox shows moderators."""
    languages = [community.join_requests.language]
    text = pick(NOTICE, {}, languages).format(
        name=request.name or request.platform_user_id,
        user=request.platform_user_id,
        link=request.via or pick(NO_LINK, {}, languages),
        community=community.id,
        request=request.id,
    )
    if reason:
        text = pick(FAILED, {}, languages).format(reason=reason) + text
    talk = await conversation(core, community, request.customer_id or "")
    content = OutboundContent(text=text, private=True)
    wording = _wording(community, request, reason)
    note_id = derived_id("community-join-note", request.id)
    await send(core, talk, content, BOT, message_id=note_id, wording=wording)


def _wording(community: Community, request: JoinRequest, reason: str | None) -> Wording:
    """The notice as each agent's inbox words it (`said_community_join_request…`); the
    member's name, the link and the platform's reason are values, shown as written."""
    values: dict[str, str | int | float] = {
        "name": request.name or request.platform_user_id,
        "user": request.platform_user_id,
        "community": community.id,
        "request": request.id,
    }
    terms: dict[str, str | list[str]] = {}
    if request.via:
        values["link"] = request.via
    else:
        terms["link"] = "said_no_link"
    key = "community_join_request"
    if reason:
        key, values["reason"] = "community_join_request_failed", reason
    return Wording(key=key, values=values, terms=terms)


async def _note(
    core: Core, community: Community, type_: str, request: JoinRequest, data: dict[str, Any]
) -> None:
    event = build_event(
        core,
        community.workspace_id,
        type_,
        actor=BOT,
        event_id=derived_id("community-event", type_, request.id),
        conversation_id=community.conversation_id,
        customer_id=request.customer_id,
        data={"community_id": community.id, "channel_id": community.channel_id, **data},
    )
    await record(core, event)


def _chat(change: ChannelEvent) -> roster.Chat:
    assert change.group_id is not None
    return roster.Chat(
        workspace_id=change.workspace_id,
        channel_id=change.channel_id,
        channel_type=change.channel_type,
        platform_chat_id=change.group_id,
        title=change.group_name,
        kind=change.group_kind,
    )


async def get_request(core: Core, community: Community, request_id: str) -> JoinRequest:
    doc = await requests(core).find_one({"_id": request_id, "community_id": community.id})
    if doc is None:
        raise NotFound("no such join request", field="request_id")
    return JoinRequest.from_doc(doc)


Status = Literal["pending", "approved", "declined", "all"]
Cursor = Annotated[str | None, Query(max_length=1024)]
Limit = Annotated[int, Query(ge=1, le=100)]


def build(prefix: str, who: Any, schema: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["communities"], include_in_schema=schema)
    asked = Depends(who)

    @router.get("/{community_id}/join-requests", response_model=Page[JoinRequest])
    async def list_(
        community_id: str,
        core: CoreDep,
        asker: Asker = asked,
        status: Status = "pending",
        cursor: Cursor = None,
        limit: Limit = 50,
    ) -> Page[JoinRequest]:
        community = await seen_community(core, asker, community_id)
        query: dict[str, Any] = {"community_id": community.id}
        if status != "all":
            query["status"] = status
        docs, next_cursor = await page(
            requests(core), query, "requested_at", cursor=cursor, limit=limit, descending=True
        )
        return Page(items=[JoinRequest.from_doc(d) for d in docs], next_cursor=next_cursor)

    @router.post("/{community_id}/join-requests/{request_id}/{verdict}", response_model=JoinRequest)
    async def decide_(
        community_id: str,
        request_id: str,
        verdict: Literal["approve", "decline"],
        core: CoreDep,
        asker: Asker = asked,
    ) -> JoinRequest:
        community = await seen_community(core, asker, community_id)
        request = await get_request(core, community, request_id)
        approve = verdict == "approve"
        return await decide(core, community, request, approve=approve, actor=asker.author)

    return router


api_router = build("/api/v1/communities", token_asker, schema=True)
app_router = build("/app/api/communities", agent_asker, schema=False)
