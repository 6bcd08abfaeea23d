"""The inbox's reads: the conversation list with its views and filters, and the 360° panel.

Every query starts from the conversations the reader may see (`kith.core.scopes`), so an
agent's list can only ever hold their teams' conversations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kith.core.context import Core
from kith.core.customers import customers_by_id as customers_by_id  # the inbox's API reads it here
from kith.core.errors import NotFound
from kith.core.models import Conversation, ConversationStatus, Customer, Message, Priority
from kith.core.pagination import page
from kith.core.permissions import Scope, ensure_can_read
from kith.core.scopes import conversations_visible
from kith.core.search import search_page
from kith.core.sessions import Subquery
from kith.core.tags import labelled


@dataclass(frozen=True)
class ListQuery:
    view: str = "all"  # mine | unassigned | all
    status: ConversationStatus | None = ConversationStatus.open
    channel_id: str | None = None
    label: str | None = None
    priority: Priority | None = None
    sentiment: str | None = None
    sort: str = "activity"  # activity (newest first) | waiting (unanswered longest first)
    q: str | None = None
    cursor: str | None = None
    limit: int = 25


async def list_inbox(
    core: Core, scope: Scope, query: ListQuery
) -> tuple[list[Conversation], str | None]:
    clauses: list[dict[str, Any]] = [conversations_visible(scope.user.workspace_id, scope)]
    if query.view == "mine":
        clauses.append({"assignee_id": scope.user.id})
    elif query.view == "unassigned":
        clauses.append({"assignee_id": None})
    for key, value in (
        ("status", query.status.value if query.status else None),
        ("channel_id", query.channel_id),
        ("labels", labelled(query.label)),
        ("priority", query.priority.value if query.priority else None),
    ):
        if value is not None:
            clauses.append({key: value})
    if query.sentiment:
        clauses.append({"sentiment.label": query.sentiment})  # kept by the sentiment feature
    waiting = query.sort == "waiting"
    if waiting:  # only conversations whose customer awaits a person's answer
        clauses.append({"waiting_since": {"$ne": None}})
    filter_ = clauses[0] if len(clauses) == 1 else {"$and": clauses}
    field = "waiting_since" if waiting else "last_message_at"
    if query.q:  # the scope is on the conversations searched: other teams never crowd it
        docs, next_cursor = await search_page(
            core,
            scope.user.workspace_id,
            filter_,
            query.q,
            cursor=query.cursor,
            limit=query.limit,
            field=field,
            descending=not waiting,
        )
    else:
        docs, next_cursor = await page(
            core.store.conversations,
            filter_,
            field,
            cursor=query.cursor,
            limit=query.limit,
            descending=not waiting,
        )
    return [Conversation.from_doc(d) for d in docs], next_cursor


VIEW_MESSAGES = 100  # a conversation view opens on its latest messages


def view_subqueries(conversation_id: str, limit: int = VIEW_MESSAGES) -> dict[str, Subquery]:
    """What a conversation view reads, as sub-queries that ride along with the session's
    read: the conversation with its customer, and its latest `limit` messages."""
    customer = {
        "$lookup": {
            "from": "customers",
            "localField": "customer_id",
            "foreignField": "_id",
            "as": "customer",
        }
    }
    return {
        "conversation": Subquery("conversations", [{"$match": {"_id": conversation_id}}, customer]),
        "messages": Subquery(
            "messages",
            [
                {"$match": {"conversation_id": conversation_id}},
                {"$sort": {"created_at": -1, "_id": -1}},
                {"$limit": limit},
            ],
        ),
    }


@dataclass(frozen=True)
class ConversationView:
    conversation: Conversation
    customer: Customer | None
    messages: list[Message]  # oldest first (a view opens at the bottom)


def conversation_view(scope: Scope, found: dict[str, list[dict[str, Any]]]) -> ConversationView:
    """The view from what `view_subqueries` read: 404 if no such conversation, 403 if the
    reader may not see it (checked before anything of it is used)."""
    if not found["conversation"]:
        raise NotFound("no such conversation", field="conversation_id")
    doc = found["conversation"][0]
    customers = doc.pop("customer", [])
    conversation = Conversation.from_doc(doc)
    ensure_can_read(scope, conversation)
    customer = next((Customer.from_doc(c) for c in customers if not c.get("merged_into")), None)
    messages = [Message.from_doc(m) for m in reversed(found["messages"])]
    return ConversationView(conversation, customer, messages)


def _visible_channels(scope: Scope, conversations: list[dict[str, Any]]) -> set[str] | None:
    """The channels whose identities the reader may see: their teams' channels, and those of
    the customer's conversations handed to their teams; None: every channel."""
    if scope.channel_ids is None:
        return None
    return set(scope.channel_ids) | {c["channel_id"] for c in conversations}


async def customer_panel(core: Core, scope: Scope, customer: Customer) -> dict[str, Any]:
    """Identities and other conversations (only those on channels the reader may see: an
    agent learns nothing of how the customer reaches other teams) and sentiment history."""
    conversations = (
        await core.store.conversations.find(
            {
                "$and": [
                    conversations_visible(customer.workspace_id, scope),
                    {"customer_id": customer.id},
                ]
            }
        )
        .sort("last_message_at", -1)
        .limit(20)
        .to_list(20)
    )
    query: dict[str, Any] = {"customer_id": customer.id, "workspace_id": customer.workspace_id}
    visible = _visible_channels(scope, conversations)
    if visible is not None:
        query["channel_id"] = {"$in": sorted(visible)}
    identities = await core.store.identities.find(query).to_list(100)
    channels = {
        c["_id"]: c
        for c in await core.store.channels.find(
            {"_id": {"$in": sorted({i["channel_id"] for i in identities})}}
        ).to_list(None)
    }
    return {
        "identities": [
            {
                "channel_id": i["channel_id"],
                "channel_type": i.get("channel_type"),
                "channel_name": channels.get(i["channel_id"], {}).get("name"),
                "external_id": i["external_id"],
                "email": i.get("email"),
                "phone": i.get("phone"),
                "verified": i.get("verified", False),
            }
            for i in identities
        ],
        "conversations": [Conversation.from_doc(c) for c in conversations],
        "sentiment_history": sentiment_history(customer),
    }


def sentiment_history(customer: Customer) -> list[dict[str, Any]]:
    """The customer's sentiment trend (kept by the sentiment feature), newest first."""
    samples = (customer.sentiment or {}).get("samples") or []
    out = []
    for sample in reversed(samples[-20:]):
        score = float(sample.get("score", 0.0))
        label = sample.get("label") or (
            "positive" if score > 0.2 else "negative" if score < -0.2 else "neutral"
        )
        at = sample.get("at")
        out.append(
            {
                "at": at.isoformat() if hasattr(at, "isoformat") else at,
                "score": score,
                "label": label,
            }
        )
    return out
