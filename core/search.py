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
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, UpdateOne

from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import Feature, Index
from kith.core.models import Event
from kith.core.search_terms import customer_doc_terms, query_terms, text_terms

SCAN = 1000  # matching customers read per search
MESSAGES_SCAN = 200  # the newest matching messages read per search: 8 pages or more
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
        newest_matches(core, messages_query),
        core.store.customers.find(base, {"_id": 1}).limit(SCAN).to_list(SCAN),
    )
    conversations = {m["conversation_id"] for m in messages}
    if customers:
        # One `_id $in` for the page's query: an `$or` beside the scope and the sort made
        # DocumentDB scan the workspace's conversations (35× slower at 2,000).
        their = {"customer_id": {"$in": sorted(c["_id"] for c in customers)}}
        conversations.update(await core.store.conversations.distinct("_id", their))
    return {"_id": {"$in": sorted(conversations)}}


async def newest_matches(
    core: Core, query: dict[str, Any], scan: int = MESSAGES_SCAN
) -> list[dict[str, Any]]:
    """The newest `scan` messages matching `query` (their conversation ids), newest first.

    DocumentDB sorts every match of a term rather than walking the `(workspace_id, terms,
    created_at)` index in order, a `limit` does not stop it early, and a range bounded on
    both sides scans everything below its top: a common word in 1,000,000 messages cost
    seconds (a real MongoDB walks the index; both answer the same here). So the search reads
    windows "since T", newest first: the 10 minutes up to now, then (from the workspace's
    newest message, so an idle night does not count) the longest window the matches seen
    so far say holds at most `SPARSE` × `scan`, until `scan` are found or all time was read.
    A common word costs one or two rounds, a rare one three."""
    now = core.clock.now()
    first: list[dict[str, Any]]
    first, newest = await asyncio.gather(
        _since(core, query, now - WINDOWS[0], scan), _newest(core, query["workspace_id"])
    )
    if len(first) >= scan or newest is None:
        return first
    found, window = (first, 0) if newest >= now - WINDOWS[0] else ([], -1)
    while True:
        window = _next_window(window, len(found), scan)
        since = newest - WINDOWS[window] if window < len(WINDOWS) else None
        found = await _since(core, query, since, scan)
        if len(found) >= scan or since is None:
            return found


async def _newest(core: Core, workspace_id: str) -> datetime | None:
    """When the workspace's newest message was stored. Fresh ids (`new_id`) grow with the
    time they were made, so walking the `_id` index backwards from this moment's id stops
    at the workspace's newest (derived ids are spread over the whole id space: few fall in
    the range walked). Unhinted, DocumentDB sorts the workspace's messages instead."""
    upper = str(ObjectId.from_datetime(datetime.now(UTC) + timedelta(minutes=1)))
    query = {"workspace_id": workspace_id, "_id": {"$lt": upper}}
    cursor = core.store.messages.find(query, {"created_at": 1}).sort("_id", DESCENDING)
    newest = await cursor.hint([("_id", ASCENDING)]).limit(1).to_list(1)  # type: ignore[attr-defined]
    return newest[0]["created_at"] if newest else None


WINDOWS = tuple(timedelta(minutes=10) * 6**i for i in range(8))  # 10 minutes … 5 years
SPARSE = 8  # a window may be expected to hold this many times `scan` (sorted: a few ms)


def _next_window(window: int, found: int, scan: int) -> int:
    """The longest window after `window` expected to hold at most `SPARSE` × `scan` matches
    at the rate seen in it (at least one match); `len(WINDOWS)` is all time (counted as 6×
    the longest)."""
    if window < 0:
        return 0
    seen = WINDOWS[window]
    best = window + 1
    for i in range(window + 1, len(WINDOWS) + 1):
        span = WINDOWS[i] if i < len(WINDOWS) else WINDOWS[-1] * 6
        if max(found, 1) * (span / seen) > SPARSE * scan:
            break
        best = i
    return best


async def _since(
    core: Core, query: dict[str, Any], since: datetime | None, limit: int
) -> list[dict[str, Any]]:
    ranged = {**query, "created_at": {"$gte": since}} if since is not None else query
    cursor = core.store.messages.find(ranged, {"conversation_id": 1})
    return list(await cursor.sort("created_at", DESCENDING).limit(limit).to_list(limit))


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
