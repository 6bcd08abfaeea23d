"""What a visitor may see of their conversation, and how the widget receives it.

Only the customer's messages and replies already delivered (marked sent by the outbox) are
shown; private notes, pending or failed replies and deleted messages never are. Links are
kept only when they are http(s), so no `javascript:` URL ever reaches the page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from kith.core.context import Core
from kith.core.models import DeliveryStatus, Direction
from kith.core.pagination import page


def safe_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


class WidgetAuthor(BaseModel):
    kind: str
    name: str | None = None


class WidgetAttachment(BaseModel):
    kind: str
    name: str | None = None
    url: str


class WidgetButton(BaseModel):
    label: str
    payload: str | None = None
    url: str | None = None


class WidgetMessage(BaseModel):
    id: str
    client_id: str | None = None
    direction: str
    author: WidgetAuthor
    text: str
    attachments: list[WidgetAttachment]
    buttons: list[WidgetButton]
    created_at: datetime


def visible_filter(conversation_id: str) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "private": {"$ne": True},
        "deleted": {"$ne": True},
        "$or": [
            {"direction": Direction.inbound.value},
            {"delivery.status": DeliveryStatus.sent.value},
        ],
    }


def to_widget(doc: dict[str, Any]) -> WidgetMessage:
    attachments = []
    for a in doc.get("attachments", []):
        url = safe_url(a.get("url"))
        if url:
            attachments.append(
                WidgetAttachment(kind=a.get("kind", "file"), name=a.get("name"), url=url)
            )
    buttons = []
    for b in doc.get("buttons", []):
        url = safe_url(b.get("url"))
        if url or b.get("payload") or not b.get("url"):
            buttons.append(WidgetButton(label=b["label"], payload=b.get("payload"), url=url))
    client_id = None
    if doc["direction"] == Direction.inbound.value:
        client_id = (doc.get("channel_message_id") or "").rpartition("/")[2] or None
    author = doc.get("author", {})
    return WidgetMessage(
        id=doc["_id"],
        client_id=client_id,
        direction=doc["direction"],
        author=WidgetAuthor(kind=author.get("kind", "system"), name=author.get("name")),
        text=doc.get("text", ""),
        attachments=attachments,
        buttons=buttons,
        created_at=doc["created_at"],
    )


async def visible_message(
    core: Core, conversation_id: str, message_id: str
) -> WidgetMessage | None:
    doc = await core.store.messages.find_one({"_id": message_id, **visible_filter(conversation_id)})
    return to_widget(doc) if doc else None


async def history(
    core: Core, conversation_id: str, *, before: str | None, limit: int
) -> tuple[list[WidgetMessage], str | None]:
    """The latest `limit` visible messages, oldest first, and a cursor for older ones."""
    docs, older = await page(
        core.store.messages,
        visible_filter(conversation_id),
        "created_at",
        cursor=before,
        limit=limit,
        descending=True,
    )
    return [to_widget(d) for d in reversed(docs)], older
