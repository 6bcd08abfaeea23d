"""The widget's HTTP side: start a visitor session, post a message, read and stream the thread,
say how long the wait for a person is and leave an email while waiting.

Every route works on the caller's own conversation, found from their signed identity; no
route takes a conversation id, so there is none to guess.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from kith.connectors.base import current_core
from kith.connectors.webchat import assets
from kith.connectors.webchat.access import (
    ALLOWED_HEADERS,
    WidgetRoute,
    cors_headers,
    current_visitor,
    origin_allowed,
    visitor_from,
    webchat_channel,
)
from kith.connectors.webchat.config import WebchatConfig
from kith.connectors.webchat.identity import (
    COOKIE_NAME,
    Visitor,
    issue_token,
    new_visitor,
    verify_user,
)
from kith.connectors.webchat.indicator import RECHECK, Typing, typing_now
from kith.connectors.webchat.limits import (
    RateLimited,
    new_visitor_buckets,
    post_buckets,
    stream_slots,
)
from kith.connectors.webchat.views import (
    WidgetMessage,
    business_name,
    history,
    to_widget,
    visible_message,
)
from kith.connectors.webchat.waiting import WaitAnswer, wait_state
from kith.core.channel_records import get_channel
from kith.core.client_address import client_address
from kith.core.context import Core
from kith.core.customers import do_add_email, do_update_customer, get_customer
from kith.core.errors import Forbidden, InvalidInput, NotFound
from kith.core.events import SYSTEM
from kith.core.models import (
    Channel,
    Conversation,
    Event,
    InboundMessage,
    InboundUser,
    OutboundContent,
    Wording,
)
from kith.core.outbox import send
from kith.core.pipeline import ingest
from kith.core.ratelimit import reserve
from kith.core.realtime import event_cursor, feed_for, stream_cursor
from kith.core.threads import conversation_id, thread_key
from kith.core.token_bucket import take_all

router = APIRouter(tags=["web chat"], route_class=WidgetRoute)
router.include_router(assets.router)

COOKIE_MAX_AGE = 365 * 24 * 3600
HEARTBEAT_SECONDS = 15.0
# What a visitor writes: a person types far slower than this.
VISITOR_LIMIT = (20, 60.0)
STREAMED = {"message.received", "message.delivered"}


def address_of(request: Request, core: Core) -> str | None:
    return client_address(request.scope, core.settings.trusted_proxies)


async def _new_visitor(request: Request, core: Core, channel: Channel) -> Visitor:
    """A fresh visitor, metered per address and per channel: each may become a customer."""
    wait = await take_all(core, new_visitor_buckets(channel.id, address_of(request, core)))
    if wait > 0:
        raise RateLimited(wait, "too many new chats from here; wait a moment")
    return new_visitor(channel.id)


def thread_of(channel: Channel, visitor: Visitor) -> str:
    """The visitor's one conversation on this channel (the pipeline's per-user thread)."""
    return conversation_id(channel.workspace_id, channel.id, thread_key(None, visitor.external_id))


class SessionRequest(BaseModel):
    """The page's settings: the business's user id and its hash, when it knows the user."""

    model_config = ConfigDict(extra="forbid")

    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    user_hash: str | None = Field(default=None, max_length=128)


class SessionAnswer(BaseModel):
    token: str
    verified: bool


@router.post("/widget/{channel_id}/session", response_model=SessionAnswer)
async def start_session(
    body: SessionRequest,
    request: Request,
    response: Response,
    core: Annotated[Core, Depends(current_core)],
    channel: Annotated[Channel, Depends(webchat_channel)],
) -> SessionAnswer:
    """Keep the browser's visitor (or make one) and bind the business's verified user to it.

    A page that no longer names the user it named before (a logout) gets a new anonymous
    visitor, so the next person at that browser does not see the previous one's chat.
    """
    current = visitor_from(request, core, channel)
    verified = body.user_id is not None and verify_user(
        channel.settings_as(WebchatConfig).identity_secret, body.user_id, body.user_hash
    )
    if verified:
        base = current or await _new_visitor(request, core, channel)
        visitor = Visitor(channel.id, base.visitor_id, body.user_id)
    elif current is not None and current.user_id is None:
        visitor = current
    else:
        visitor = await _new_visitor(request, core, channel)
    token = issue_token(core, visitor)
    secure = request.url.scheme == "https" or (core.settings.public_url or "").startswith("https:")
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=COOKIE_MAX_AGE,
        path=f"/widget/{channel.id}/",
        httponly=True,
        secure=secure,
        samesite="none" if secure else "lax",
    )
    return SessionAnswer(token=token, verified=verified)


class WidgetPost(BaseModel):
    """One message typed (or one quick reply pressed) in the widget."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Made by the widget per message; a retried POST with it is not stored twice.",
    )
    text: str = Field(default="", max_length=5000)
    payload: str | None = Field(default=None, max_length=64, description="A pressed button's.")
    name: str | None = Field(default=None, max_length=256)
    email: str | None = Field(default=None, max_length=320)
    locale: str | None = Field(
        default=None,
        max_length=35,
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        description="The visitor's language (the browser's, e.g. `zh-CN`): a new customer's "
        "locale, which the bot answers in until they write, and broadcasts choose by.",
    )


class PostAnswer(BaseModel):
    message: WidgetMessage
    duplicate: bool


@router.post("/widget/{channel_id}/messages", response_model=PostAnswer)
async def post_message(
    body: WidgetPost,
    request: Request,
    core: Annotated[Core, Depends(current_core)],
    channel: Annotated[Channel, Depends(webchat_channel)],
    visitor: Annotated[Visitor, Depends(current_visitor)],
) -> PostAnswer:
    if not body.text.strip() and not body.payload:
        raise InvalidInput("a message needs text", field="text")
    limit, per = VISITOR_LIMIT
    wait = await reserve(core, f"webchat:{channel.id}:{visitor.external_id}", limit, per)
    if wait <= 0:
        wait = await take_all(core, post_buckets(channel.id, address_of(request, core)))
    if wait > 0:
        raise RateLimited(wait)
    received = await ingest(
        core,
        channel,
        InboundMessage.on(
            channel,
            channel_message_id=f"{visitor.external_id}/{body.client_id}",
            user=InboundUser(
                id=visitor.external_id, name=body.name, email=body.email, locale=body.locale
            ),
            text=body.text,
            payload=body.payload,
        ),
    )
    message = received.message
    if body.name and message.customer_id:
        await _learn_name(core, message.workspace_id, message.customer_id, body.name)
    doc = message.to_doc()
    return PostAnswer(message=to_widget(doc, business_name(channel)), duplicate=received.duplicate)


async def _learn_name(core: Core, workspace_id: str, customer_id: str, name: str) -> None:
    """The page's name for a visitor who had none (they signed in after chatting): a name an
    agent or an import set is kept. A visitor without one is not given a made-up name (bots
    would greet "Hi Visitor 4821!"): the inbox tells nameless customers apart by a label
    made from their id."""
    try:
        customer = await get_customer(core, workspace_id, customer_id)
    except NotFound:  # merged into another meanwhile: that profile keeps its own name
        return
    if not customer.name:
        await do_update_customer(core, customer, fields={"name": name})


class HistoryAnswer(BaseModel):
    items: list[WidgetMessage]
    older: str | None
    stream_after: str | None = Field(
        description="Open the event stream after this cursor: nothing said since is missed."
    )


async def _latest_cursor(core: Core, conv_id: str) -> str | None:
    doc = await core.store.events.find_one(
        {"conversation_id": conv_id}, sort=[("created_at", -1), ("_id", -1)]
    )
    return event_cursor(Event.from_doc(doc)) if doc else None


@router.get("/widget/{channel_id}/messages", response_model=HistoryAnswer)
async def read_history(
    core: Annotated[Core, Depends(current_core)],
    channel: Annotated[Channel, Depends(webchat_channel)],
    visitor: Annotated[Visitor, Depends(current_visitor)],
    before: Annotated[str | None, Query(max_length=1024)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> HistoryAnswer:
    """The visitor's own conversation: latest messages oldest first, `older` pages back."""
    conv_id = thread_of(channel, visitor)
    stream_after = await _latest_cursor(core, conv_id)  # read first: the stream covers the rest
    items, older = await history(core, channel, conv_id, before=before, limit=limit)
    return HistoryAnswer(items=items, older=older, stream_after=stream_after)


async def _with_heartbeat(
    source: AsyncIterator[Any], every: Callable[[], float]
) -> AsyncIterator[Any]:
    """Items of `source`, and None whenever it has been quiet for `every()` seconds."""
    pending = asyncio.ensure_future(anext(source))
    try:
        while True:
            done, _ = await asyncio.wait({pending}, timeout=every())
            if not done:
                yield None
                continue
            try:
                item = pending.result()
            except StopAsyncIteration:
                return
            yield item
            pending = asyncio.ensure_future(anext(source))
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending
        aclose = getattr(source, "aclose", None)
        if aclose is not None:
            with contextlib.suppress(Exception):
                await aclose()


@router.get("/widget/{channel_id}/events")
async def stream_events(
    request: Request,
    core: Annotated[Core, Depends(current_core)],
    channel: Annotated[Channel, Depends(webchat_channel)],
    visitor: Annotated[Visitor, Depends(current_visitor)],
    last_event_id: Annotated[str | None, Query(max_length=256)] = None,
) -> StreamingResponse:
    """Server-Sent Events: each new visible message of the visitor's conversation (`message`),
    and who of the team is typing a reply in it (`typing`: `{"name", "expires_in"}`, `name`
    null when nobody is).

    After a reconnect, `Last-Event-ID` (header, or `last_event_id` in the query) resumes
    right after the last event the widget saw, so nothing said meanwhile is lost.
    """
    after = request.headers.get("last-event-id") or last_event_id or None
    conv_id = thread_of(channel, visitor)
    slots, address = stream_slots(core), address_of(request, core)
    slots.check(visitor.external_id, address)  # a 429 now rather than a stream that ends

    async def body() -> AsyncIterator[str]:
        try:
            with slots.hold(visitor.external_id, address):
                async with contextlib.aclosing(_frames(core, channel, conv_id, after)) as frames:
                    async for frame in frames:
                        yield frame
        except RateLimited:  # lost a race for the last slot since the check
            yield "retry: 5000\n: too many streams\n\n"

    return StreamingResponse(
        body(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(
    core: Core, channel: Channel, conv_id: str, after: str | None
) -> AsyncGenerator[str]:
    """The stream's SSE frames: each visible message of the conversation, who types a reply
    (looked up again every `RECHECK` seconds while someone does), and heartbeats.

    Typing frames carry no id: a resumed stream asks the presence afresh. A reply shown ends
    its author's indicator until the presence changes again (the inbox reports `viewing` on
    sending), so the reply is never followed by a stale "typing…"."""
    events = feed_for(core).subscribe(channel.workspace_id, after=after, conversation_id=conv_id)
    cursor = after  # never moves back: a late-committed event must not make resume repeat
    typing = Typing(name=None)
    yield "retry: 3000\n: connected\n\n"

    def every() -> float:
        return RECHECK if typing.name else HEARTBEAT_SECONDS

    async for event in _with_heartbeat(events, every):
        if event is None:
            if typing.name:
                typing = await typing_now(core, channel, conv_id)
                yield f"event: typing\ndata: {typing.model_dump_json()}\n\n"
            yield ": ping\n\n"
            continue
        if event.conversation_id != conv_id:
            continue
        if event.type == "presence.changed":
            now = await typing_now(core, channel, conv_id)
            if now.name or typing.name:
                typing = now
                yield f"event: typing\ndata: {typing.model_dump_json()}\n\n"
            continue
        if event.type not in STREAMED:
            continue
        message = await visible_message(core, channel, conv_id, event.message_id or "")
        if message is None:
            continue
        if message.direction != "in":
            typing = Typing(name=None)  # the widget drops the indicator with the reply
        data = message.model_dump_json()
        cursor = stream_cursor(cursor, event)
        yield f"id: {cursor}\nevent: message\ndata: {data}\n\n"


@router.get("/widget/{channel_id}/wait", response_model=WaitAnswer)
async def read_wait(
    core: Annotated[Core, Depends(current_core)],
    channel: Annotated[Channel, Depends(webchat_channel)],
    visitor: Annotated[Visitor, Depends(current_visitor)],
) -> WaitAnswer:
    """While the visitor waits for a person: the usual reply time, or when the team is back,
    and whether to ask for an email (`kith.connectors.webchat.waiting`)."""
    return await wait_state(core, channel, thread_of(channel, visitor))


class EmailLeft(BaseModel):
    """An address a waiting visitor leaves so the team can answer there too."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)


@router.post("/widget/{channel_id}/email", response_model=WaitAnswer)
async def leave_email(
    body: EmailLeft,
    core: Annotated[Core, Depends(current_core)],
    channel: Annotated[Channel, Depends(webchat_channel)],
    visitor: Annotated[Visitor, Depends(current_visitor)],
) -> WaitAnswer:
    """Keep the address on the visitor's customer and tell the team in a private note."""
    try:
        email = validate_email(body.email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput(f"not an email address: {exc}", field="email") from None
    limit, per = VISITOR_LIMIT
    wait = await reserve(core, f"webchat:{channel.id}:{visitor.external_id}", limit, per)
    if wait > 0:
        raise RateLimited(wait)
    conv_id = thread_of(channel, visitor)
    doc = await core.store.conversations.find_one({"_id": conv_id})
    if doc is None:
        raise NotFound("write a message first: there is no conversation yet", field="email")
    conversation = Conversation.from_doc(doc)
    customer = await get_customer(core, conversation.workspace_id, conversation.customer_id)
    if email not in customer.emails:
        await do_add_email(core, customer, email)
        await send(
            core,
            conversation,
            OutboundContent(
                text=f"The customer left their email in the chat: {email}", private=True
            ),
            SYSTEM,
            wording=Wording(key="webchat_email_left", values={"email": email}),
        )
    return await wait_state(core, channel, conv_id)


@router.options("/widget/{channel_id}/{rest:path}", include_in_schema=False)
async def preflight(
    channel_id: str, request: Request, core: Annotated[Core, Depends(current_core)]
) -> Response:
    """CORS preflight: only the channel's allowed origins may call it with credentials."""
    origin = request.headers.get("origin")
    channel = await get_channel(core, None, channel_id)
    if origin is None or channel.type != "webchat" or not origin_allowed(request, channel, origin):
        refusal = Forbidden("this site may not embed the chat", field="Origin")
        return JSONResponse({"error": refusal.to_dict()}, status_code=refusal.status)
    headers = cors_headers(origin)
    headers.update(
        {
            "Access-Control-Allow-Methods": "GET, POST",
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "600",
        }
    )
    return Response(status_code=204, headers=headers)
