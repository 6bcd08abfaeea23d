"""What a visitor may see of their conversation, and how the widget receives it.

Only the customer's messages and replies already delivered (marked sent by the outbox) are
shown; private notes, pending or failed replies and deleted messages never are. Links are
kept only when they are http(s), so no `javascript:` URL ever reaches the page.

A reply posted with an API token (an agent author with no user) or by the system speaks for
the business: the visitor sees the channel's display name (its title, else its name), never
"API". Any other agent is a `person`, whom the widget announces once as having joined.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field

from kith.connectors.webchat.config import WebchatConfig
from kith.core.context import Core
from kith.core.models import AuthorKind, Channel, DeliveryStatus, Direction
from kith.core.pagination import page


def safe_url(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url.strip())
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def business_name(channel: Channel) -> str:
    """The name the business speaks under in the widget: its title, as the chat window shows."""
    return channel.settings_as(WebchatConfig).title or channel.name


class WidgetAuthor(BaseModel):
    kind: str
    name: str | None = None
    person: bool = Field(
        default=False,
        description="A member of the team (not a bot, the API or the system): the widget says "
        "once that they joined the conversation.",
    )


# The author of replies posted with an API token (kith.web.api.conversations.API_AUTHOR): an
# agent of no user, named "API". The REST API test of the widget pins the two together.
API_NAME = "API"


def widget_author(author: dict[str, Any], business: str) -> WidgetAuthor:
    kind, name = author.get("kind", AuthorKind.system.value), author.get("name")
    if kind == AuthorKind.agent.value and not author.get("id") and name in (None, "", API_NAME):
        return WidgetAuthor(kind=kind, name=business)
    if kind == AuthorKind.system.value:
        return WidgetAuthor(kind=kind, name=business)
    return WidgetAuthor(kind=kind, name=name, person=kind == AuthorKind.agent.value)


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


def to_widget(doc: dict[str, Any], business: str) -> WidgetMessage:
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
    return WidgetMessage(
        id=doc["_id"],
        client_id=client_id,
        direction=doc["direction"],
        author=widget_author(doc.get("author", {}), business),
        text=doc.get("text", ""),
        attachments=attachments,
        buttons=buttons,
        created_at=doc["created_at"],
    )


async def visible_message(
    core: Core, channel: Channel, conversation_id: str, message_id: str
) -> WidgetMessage | None:
    doc = await core.store.messages.find_one({"_id": message_id, **visible_filter(conversation_id)})
    return to_widget(doc, business_name(channel)) if doc else None


async def history(
    core: Core, channel: Channel, conversation_id: str, *, before: str | None, limit: int
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
    business = business_name(channel)
    return [to_widget(d, business) for d in reversed(docs)], older
