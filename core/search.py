"""Full-text search over conversations: their messages' text and their customers' names,
email addresses and phone numbers, through the `terms` index (`kith.core.search_terms`).

Messages get their terms as they are built (ingest, `send`, an edit), in the same write.
Customers get theirs when first seen (ingest) and from this feature's consumer on
`customer.*` events (renamed, created by an import or the API, merged, unmerged): a
consumer's lag, about a second. `reindex()` (`kith search reindex`) fills in documents stored
before terms existed. A search matches the newest `SCAN` messages that hold every term,
among the conversations the reader may see, plus every conversation of up to `SCAN`
customers that match; the page then comes from the conversations, newest activity first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne

from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import Feature, Index
from kith.core.models import Event
from kith.core.search_terms import customer_doc_terms, query_terms, text_terms

SCAN = 1000  # matching messages (and customers) read per search
NOTHING: dict[str, Any] = {"_id": {"$in": []}}


async def _handed_to(core: Core, workspace_id: str, team_ids: frozenset[str]) -> list[str]:
    """Conversations handed to one of `team_ids` (an agent sees them on any channel)."""
    if not team_ids:
        return []
    query = {"workspace_id": workspace_id, "team_id": {"$in": sorted(team_ids)}}
    return sorted(await core.store.conversations.distinct("_id", query))


async def search_clause(
    core: Core,
    workspace_id: str,
    q: str,
    *,
    channel_ids: frozenset[str] | None = None,
    team_ids: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """The conversation filter for a search for `q`: those with a message holding every term
    of `q` (private notes left out), or whose customer does, as an `_id $in`. `channel_ids`
    (None: every channel) and `team_ids` are the reader's scope, applied to the messages
    read, so the newest matches of other teams never crowd out the reader's own. `q` is only
    data: its terms are strings in an `$all`, never operators or patterns."""
    wanted = query_terms(q)
    if not wanted:
        return NOTHING
    base = {"workspace_id": workspace_id, "terms": {"$all": wanted}}
    messages_query: dict[str, Any] = {**base, "private": {"$ne": True}}
    if channel_ids is not None:
        handed = await _handed_to(core, workspace_id, team_ids)
        messages_query["$or"] = [
            {"channel_id": {"$in": sorted(channel_ids)}},
            {"conversation_id": {"$in": handed}},
        ]
    messages, customers = await asyncio.gather(
        core.store.messages.find(messages_query, {"conversation_id": 1})
        .sort("created_at", DESCENDING)
        .limit(SCAN)
        .to_list(SCAN),
        core.store.customers.find(base, {"_id": 1}).limit(SCAN).to_list(SCAN),
    )
    conversations = {m["conversation_id"] for m in messages}
    if customers:
        # One `_id $in` for the page's query: an `$or` beside the scope and the sort made
        # DocumentDB scan the workspace's conversations (35× slower at 2,000).
        their = {"customer_id": {"$in": sorted(c["_id"] for c in customers)}}
        conversations.update(await core.store.conversations.distinct("_id", their))
    return {"_id": {"$in": sorted(conversations)}}


async def index_customer(core: Core, customer_id: str) -> None:
    """Recompute one customer's terms from their stored profile."""
    doc = await core.store.customers.find_one(
        {"_id": customer_id}, {"name": 1, "emails": 1, "phones": 1, "merged_into": 1}
    )
    if doc is None:
        return
    terms = [] if doc.get("merged_into") else customer_doc_terms(doc)
    await core.store.customers.update_one({"_id": customer_id}, {"$set": {"terms": terms}})


async def on_customer_event(core: Core, event: Event) -> None:
    """A profile changed (or two were merged or pulled apart): index whom it names."""
    ids = [event.customer_id, event.data.get("merged_id"), event.data.get("restored_id")]
    for customer_id in dict.fromkeys(i for i in ids if isinstance(i, str)):
        await index_customer(core, customer_id)


BATCH = 1000


async def _reindex(
    core: Core,
    collection: str,
    fields: dict[str, int],
    terms_of: Callable[[dict[str, Any]], list[str]],
    progress: Callable[[int], None],
) -> int:
    """Give every document of `collection` without `terms` its terms, a batch at a time."""
    store = core.store.collection(collection)
    done = 0
    while True:
        docs = await store.find({"terms": {"$exists": False}}, fields).limit(BATCH).to_list(BATCH)
        if not docs:
            return done
        await store.bulk_write(
            [UpdateOne({"_id": d["_id"]}, {"$set": {"terms": terms_of(d)}}) for d in docs],
            ordered=False,
        )
        done += len(docs)
        progress(done)


def _message_terms(doc: dict[str, Any]) -> list[str]:
    text = doc.get("text")
    return text_terms(text) if isinstance(text, str) else []


async def reindex(core: Core, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Index the messages and customers stored before search terms existed (or by a tool
    that wrote them directly); safe to run again and alongside traffic: it only fills
    documents that have no terms yet. Returns the counts indexed."""

    def shown(what: str) -> Callable[[int], None]:
        return lambda n: progress(what, n) if progress else None

    return {
        "messages": await _reindex(
            core, "messages", {"text": 1}, _message_terms, shown("messages")
        ),
        "customers": await _reindex(
            core,
            "customers",
            {"name": 1, "emails": 1, "phones": 1},
            customer_doc_terms,
            shown("customers"),
        ),
    }


feature = Feature(
    name="search",
    indexes=(
        # Newest matching messages first: the sort follows the index after the term.
        Index(
            "messages",
            (("workspace_id", ASCENDING), ("terms", ASCENDING), ("created_at", DESCENDING)),
        ),
        Index("customers", (("workspace_id", ASCENDING), ("terms", ASCENDING))),
        Index("conversations", (("workspace_id", ASCENDING), ("team_id", ASCENDING))),
    ),
    consumers=(
        Consumer(
            "search",
            ("customer.created", "customer.updated", "customer.merged", "customer.unmerged"),
            on_customer_event,
        ),
    ),
)
