"""The API channel's HTTP side: inbound messages and reading replies back."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from kith.connectors.base import bearer_token, current_core
from kith.core.auth import secret_matches
from kith.core.channel_records import active_channel, channel_token_hash
from kith.core.context import Core
from kith.core.errors import InvalidInput, Unauthorized, raise_all
from kith.core.models import Attachment, Button, Channel, InboundMessage, InboundUser
from kith.core.pagination import page
from kith.core.pipeline import ingest
from kith.core.threads import conversation_id, thread_key

router = APIRouter(tags=["API channel"])


class ApiInbound(BaseModel):
    """One message from the integrating system's user."""

    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(min_length=1, max_length=512, description="Your id; retries dedup.")
    user: InboundUser
    thread: str | None = Field(default=None, min_length=1, max_length=512)
    text: str = Field(default="", max_length=100_000)
    attachments: list[Attachment] = Field(default=[], max_length=50)
    payload: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="The payload of the reply's button the user chose (send its label as text).",
    )


class ApiReceipt(BaseModel):
    message_id: str
    conversation_id: str
    customer_id: str
    duplicate: bool


async def authorized_channel(
    channel_id: str, request: Request, core: Annotated[Core, Depends(current_core)]
) -> Channel:
    token = bearer_token(request)
    if not secret_matches(token, await channel_token_hash(core, channel_id)):
        raise Unauthorized("invalid channel token", field="Authorization")
    return await active_channel(core, channel_id, "api")


@router.post("/webhooks/api/{channel_id}", response_model=ApiReceipt)
async def receive(
    body: ApiInbound,
    channel: Annotated[Channel, Depends(authorized_channel)],
    core: Annotated[Core, Depends(current_core)],
) -> ApiReceipt:
    if not body.text.strip() and not body.attachments and not body.payload:
        raise InvalidInput(
            "a message needs text, an attachment or a button's payload", field="text"
        )
    raise_all([e for n, a in enumerate(body.attachments) for e in a.refusals(f"attachments.{n}")])
    received = await ingest(
        core,
        channel,
        InboundMessage.on(
            channel,
            channel_message_id=body.message_id,
            user=body.user,
            thread_key=body.thread,
            text=body.text,
            attachments=body.attachments,
            payload=body.payload,
        ),
    )
    return ApiReceipt(
        message_id=received.message.id,
        conversation_id=received.conversation.id,
        customer_id=received.message.customer_id,
        duplicate=received.duplicate,
    )


class ApiReply(BaseModel):
    id: str
    direction: str
    text: str
    author: dict[str, Any]
    attachments: list[Attachment]
    buttons: list[Button] = Field(
        description="The reply's buttons: show `label`; send `payload` back when chosen, or "
        "open `url`."
    )
    created_at: datetime


class ApiReplies(BaseModel):
    items: list[ApiReply]
    next_cursor: str | None


@router.get("/webhooks/api/{channel_id}/messages", response_model=ApiReplies)
async def read_thread(
    channel: Annotated[Channel, Depends(authorized_channel)],
    core: Annotated[Core, Depends(current_core)],
    user_id: Annotated[str, Query(min_length=1, max_length=256)],
    thread: Annotated[str | None, Query(max_length=512)] = None,
    cursor: Annotated[str | None, Query(max_length=1024)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ApiReplies:
    """The thread as the user sees it (no private notes), oldest first, from `cursor` on."""
    conv_id = conversation_id(channel.workspace_id, channel.id, thread_key(thread, user_id))
    conv = await core.store.conversations.find_one({"_id": conv_id}, {"external_user_id": 1})
    if conv is None or conv.get("external_user_id") != user_id:
        return ApiReplies(items=[], next_cursor=None)
    docs, next_cursor = await page(
        core.store.messages,
        {"conversation_id": conv_id, "private": False},
        "created_at",
        cursor=cursor,
        limit=limit,
        descending=False,
    )
    items = [
        ApiReply(
            id=d["_id"],
            direction=d["direction"],
            text=d.get("text", ""),
            author={k: v for k, v in d["author"].items() if k in ("kind", "name")},
            attachments=d.get("attachments", []),
            buttons=d.get("buttons") or [],
            created_at=d["created_at"],
        )
        for d in docs
    ]
    return ApiReplies(items=items, next_cursor=next_cursor)
