"""Community broadcasts: a broadcast whose audience is communities, posted once into each
group's conversation.

The broadcast machinery does the rest unchanged (`kith.broadcasts`): the draft, schedule,
pause and cancel moves, one recipient row per community claimed under a lease, the message id
derived from (broadcast, community) so a worker killed after posting posts nothing twice, and
the stats. What differs is here: which conversation a community's post goes to, why one is
skipped, and the text. Pacing is the outbox's: each channel's sender reserves its platform's
limits before it calls (Telegram 20 a minute per group and 30 a second per bot, Slack one a
second per channel), and defers the post when a window is full.

A group has no one customer, so a community post is not personalised: its text may not name
`customer.*`, and every language given is posted, one after the other, for a mixed group.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from jinja2 import TemplateSyntaxError, meta
from pydantic import BaseModel

from kith.broadcasts import templates
from kith.broadcasts.audience import recipients
from kith.broadcasts.models import Broadcast, BroadcastIn, RecipientStatus
from kith.communities import joins
from kith.communities.models import BotStatus, Community
from kith.communities.store import communities
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.models import Conversation

SEPARATOR = "\n\n"


def check(body: BroadcastIn) -> None:
    """Refuse a text that names the customer: there is none in a group."""
    for language, text in body.message.text.items():
        try:
            names = meta.find_undeclared_variables(templates.ENV.parse(text))
        except TemplateSyntaxError:
            continue  # worded by the broadcast's own check, with line and column
        if "customer" in names:
            raise InvalidInput(
                "a community post has no customer: remove {{ customer… }}",
                field=f"message.text.{language}",
                reason="customer_in_community_post",
                limits={"language": language},
            )


async def check_communities(core: Core, workspace_id: str, ids: list[str]) -> list[str]:
    """The ids, each once, all of them communities of this workspace."""
    wanted = list(dict.fromkeys(ids))
    found = set(
        await communities(core).distinct(
            "_id", {"_id": {"$in": wanted}, "workspace_id": workspace_id}
        )
    )
    for n, community in enumerate(wanted):
        if community not in found:
            raise InvalidInput(
                "no such community in this workspace",
                field=f"community_ids.{n}",
                reason="unknown_community",
            )
    return wanted


async def channel_ids(core: Core, broadcast: Broadcast) -> list[str]:
    """The channels the broadcast's communities sit on (for the outbox window)."""
    ids = broadcast.community_ids or []
    return list(await communities(core).distinct("channel_id", {"_id": {"$in": ids}}))


async def destination(
    core: Core, broadcast: Broadcast, community_id: str, now: datetime
) -> Conversation | str:
    """The group's conversation as it is now (a migrated group's new chat), or why not."""
    if broadcast.send_by is not None and now > broadcast.send_by:
        return "send_by_passed"
    doc = await communities(core).find_one(
        {"_id": community_id, "workspace_id": broadcast.workspace_id}
    )
    if doc is None:
        return "community_gone"
    community = Community.from_doc(doc)
    if community.bot_status == BotStatus.left:
        return "bot_left"
    found = await joins.conversation(core, community)
    return found if found is not None else "no_conversation"


def text(broadcast: Broadcast) -> str:
    """Every language given, in the order given (TemplateError if one fails)."""
    return SEPARATOR.join(
        templates.render_plain(source, f"message.text.{language}")
        for language, source in broadcast.message.text.items()
    )


class Choice(BaseModel):
    """A community as the Broadcasts page offers it: what a marketer picks it by."""

    id: str
    title: str
    platform: str
    kind: str
    member_count: int
    can_post: bool


Outcome = Literal["pending", "sent", "delivered", "failed", "skipped"]


class Delivery(BaseModel):
    """One community's post in a broadcast: `pending` until the worker takes it (or while
    held), `sent` once in the outbox, then `delivered` or `failed` as the platform answered;
    `skipped` with the reason (`bot_left` …) when it was not posted."""

    community_id: str
    title: str
    platform: str
    outcome: Outcome
    reason: str | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None


async def choices(core: Core, workspace_id: str, limit: int = 500) -> list[Choice]:
    """The workspace's communities by title; the ones the bot left cannot be posted into."""
    cursor = communities(core).find(
        {"workspace_id": workspace_id},
        {"title": 1, "channel_type": 1, "kind": 1, "member_count": 1, "bot_status": 1},
        sort=[("title", 1), ("_id", 1)],
        limit=limit,
    )
    return [
        Choice(
            id=doc["_id"],
            title=str(doc.get("title") or doc["_id"]),
            platform=str(doc.get("channel_type", "")),
            kind=str(doc.get("kind", "group")),
            member_count=int(doc.get("member_count") or 0),
            can_post=doc.get("bot_status") != BotStatus.left.value,
        )
        async for doc in cursor
    ]


async def deliveries(core: Core, broadcast: Broadcast) -> list[Delivery]:
    """Each of the broadcast's communities, in the order given, with its post's outcome."""
    ids = broadcast.community_ids or []
    found = communities(core).find(
        {"_id": {"$in": ids}, "workspace_id": broadcast.workspace_id},
        {"title": 1, "channel_type": 1},
    )
    named = {doc["_id"]: doc async for doc in found}
    rows = recipients(core).find({"broadcast_id": broadcast.id, "community_id": {"$in": ids}})
    posts = {row["community_id"]: row async for row in rows}
    out = []
    for community in ids:
        doc = named.get(community, {})
        row = posts.get(community, {})
        out.append(
            Delivery(
                community_id=community,
                title=str(doc.get("title") or community),
                platform=str(doc.get("channel_type", "")),
                outcome=_outcome(row),
                reason=row.get("reason"),
                sent_at=row.get("sent_at"),
                delivered_at=row.get("delivered_at"),
            )
        )
    return out


def _outcome(row: dict[str, Any]) -> Outcome:
    status = row.get("status", RecipientStatus.pending.value)
    if status == RecipientStatus.sent.value:
        if row.get("failed_at"):
            return "failed"
        return "delivered" if row.get("delivered_at") else "sent"
    if status == RecipientStatus.failed.value:
        return "failed"
    if status == RecipientStatus.skipped.value:
        return "skipped"
    return "pending"  # not taken yet, or held
