"""`/api/v1/conversations`: filter, read, change and reply."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from kith.core.conversations import (
    get_conversation,
    list_conversations,
    list_messages,
)
from kith.core.errors import KithError, raise_all
from kith.core.ids import refuse_non_ids
from kith.core.models import Author, AuthorKind, Conversation, ConversationStatus, Message
from kith.core.outbox import send
from kith.web.api.deps import CoreDep, Cursor, WorkspaceDep
from kith.web.api.schemas import ConversationPatch, MessageCreate, Page

router = APIRouter(prefix="/conversations", tags=["conversations"])

API_AUTHOR = Author(kind=AuthorKind.agent, id=None, name="API")


@router.get("", response_model=Page[Conversation])
async def list_(
    core: CoreDep,
    workspace_id: WorkspaceDep,
    status: ConversationStatus | None = None,
    assignee: Annotated[str | None, Query(max_length=64)] = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    label: Annotated[str | None, Query(max_length=64)] = None,
    customer_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Words or Chinese text in the messages, or the customer's name, "
            "email or phone; every word must match.",
        ),
    ] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> Page[Conversation]:
    refuse_non_ids({"assignee": assignee, "channel": channel, "customer_id": customer_id})
    items, next_cursor = await list_conversations(
        core,
        workspace_id,
        status=status,
        assignee_id=assignee,
        channel_id=channel,
        label=label,
        customer_id=customer_id,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{conversation_id}", response_model=Conversation)
async def get(conversation_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> Conversation:
    return await get_conversation(core, workspace_id, conversation_id)


@router.patch("/{conversation_id}", response_model=Conversation)
async def patch(
    conversation_id: str, body: ConversationPatch, core: CoreDep, workspace_id: WorkspaceDep
) -> Conversation:
    conversation = await get_conversation(core, workspace_id, conversation_id)
    return await body.apply(core, conversation, API_AUTHOR)


@router.get("/{conversation_id}/messages", response_model=Page[Message])
async def messages(
    conversation_id: str,
    core: CoreDep,
    workspace_id: WorkspaceDep,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[Message]:
    conversation = await get_conversation(core, workspace_id, conversation_id)
    items, next_cursor = await list_messages(core, conversation, cursor=cursor, limit=limit)
    return Page(items=items, next_cursor=next_cursor)


@router.post("/{conversation_id}/messages", status_code=201, response_model=Message)
async def reply(
    conversation_id: str, body: MessageCreate, core: CoreDep, workspace_id: WorkspaceDep
) -> Message:
    errors: list[KithError] = []
    for n, button in enumerate(body.buttons):
        errors += button.refusals(f"buttons.{n}")
    for n, attachment in enumerate(body.attachments):
        errors += attachment.refusals(f"attachments.{n}")
    raise_all(errors)
    conversation = await get_conversation(core, workspace_id, conversation_id)
    return await send(core, conversation, body, API_AUTHOR)
