"""Full-text search over conversations: their messages' text and their customers' names,
email addresses and phone numbers, through the `terms` index (`kith.core.search_terms`).

A conversation carries the terms it is found by: the union of its messages' terms (private
notes left out) and its customer's. Ingest and `send` add a message's terms in the write they
already make to the conversation (with a new customer's profile, on first contact); an edit, a
customer's new profile (renamed, created by an import or the API, merged, unmerged: this
feature's consumer, about a second's lag) and a conversation opened for a known customer
recompute them (`index_conversation`). `reindex()` (`kith search reindex`) fills in documents
stored before terms existed; erasing a customer deletes their conversations, terms and all.

So a search is one query on conversations, `{terms: {$all}}` beside the list's own filters,
sort and cursor (`search_page`): every term of `q` must be in the conversation (one message,
several, or the customer's profile).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne

from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import Feature, Index
from kith.core.models import Event
from kith.core.pagination import decode_cursor, page
from kith.core.search_terms import customer_doc_terms, query_terms, text_terms

Page = tuple[list[dict[str, Any]], str | None]


def add_terms(terms: list[str]) -> dict[str, Any]:
    """The update operator that adds `terms` to a conversation, for the write that bumps it."""
    return {"terms": {"$each": terms}}


async def search_page(
    core: Core,
    query: dict[str, Any],
    q: str,
    *,
    cursor: str | None,
    limit: int,
    field: str = "last_message_at",
    descending: bool = True,
) -> Page:
    """One page of the conversations matching `query` that hold every term of `q`, sorted by
    `field` like any list page (`kith.core.pagination.page`). `q` is only data: its terms are
    strings in an `$all`, never operators or patterns.

    DocumentDB sorts every match rather than walking the `(workspace_id, terms,
    last_message_at)` index in order, `limit` does not stop it early, and a one-sided
    "since T" range costs what it matches: a common word in 100,000 conversations would sort
    tens of thousands. So newest-first pages are read in windows "since T" back from now (or
    from the cursor), widened until the page is full or all time was read, each the longest
    the matches seen so far say holds at most `SPARSE` pages. A search remembers for
    `HINT_TTL` (`_HINTS`, per process) the window the same search needs: `MARGIN` times the
    span its full page took, or all time; repeated, or for its next page, it is one query
    that sorts about one page and a half. A cold one costs one to four."""
    wanted = query_terms(q)
    if not wanted:
        return [], None
    searched = {"$and": [query, {"terms": {"$all": wanted}}]}
    collection = core.store.conversations
    if field != "last_message_at" or not descending:
        return await page(
            collection,
            searched,
            field,
            cursor=cursor,
            limit=limit,
            descending=descending,
            projection=WITHOUT_TERMS,
        )
    anchor, now = _anchor(core, cursor), core.clock.now()
    key = (repr(query), tuple(sorted(wanted)))  # the reader's filters shape the density
    span = _HINTS[key][0] if key in _HINTS and now < _HINTS[key][1] else FIRST
    while True:
        ranged = searched if span is None else _since(searched, anchor - span)
        docs, next_cursor = await page(
            collection,
            ranged,
            field,
            cursor=cursor,
            limit=limit,
            descending=True,
            projection=WITHOUT_TERMS,
        )
        if next_cursor is not None or span is None:
            _remember(key, _needed(anchor, docs, next_cursor), now)
            return docs, next_cursor
        span = _wider(span, len(docs), limit + 1)


def _since(query: dict[str, Any], since: datetime) -> dict[str, Any]:
    return {"$and": [*query["$and"], {"last_message_at": {"$gte": since}}]}


def _anchor(core: Core, cursor: str | None) -> datetime:
    """Where windows start: now, or the last conversation of the previous page (a message
    stamped a little ahead of this process's clock is inside the first window too)."""
    if cursor:
        value, _ = decode_cursor(cursor)
        if isinstance(value, datetime):
            return value
    return core.clock.now() + timedelta(minutes=1)


# A conversation as listed: its search terms (every word of its messages) stay in the store.
WITHOUT_TERMS = {"terms": 0}
FIRST = timedelta(minutes=10)  # the first window of a search not remembered
LONGEST = timedelta(days=5 * 365)  # a wider window is all time
SPARSE = 8  # a window may be expected to hold this many pages (sorted: a few ms)
MARGIN = 1.5  # a remembered window: this many times the span its page took
SHORTEST = timedelta(seconds=10)
_HINTS: dict[tuple[str, tuple[str, ...]], tuple[timedelta | None, datetime]] = {}
HINTS = 10_000  # remembered searches per process
HINT_TTL = timedelta(minutes=10)  # a term grown common is read in a wide window no longer


def _needed(
    anchor: datetime, docs: list[dict[str, Any]], next_cursor: str | None
) -> timedelta | None:
    """The window a search like this one needs next time: `MARGIN` times the span its full
    page took back from the anchor (None: all time, its matches do not fill a page)."""
    last = docs[-1].get("last_message_at") if docs and next_cursor else None
    if not isinstance(last, datetime):
        return None
    took = anchor - (last if last.tzinfo else last.replace(tzinfo=UTC))
    return max(took * MARGIN, SHORTEST)


def _remember(key: tuple[str, tuple[str, ...]], span: timedelta | None, now: datetime) -> None:
    if len(_HINTS) >= HINTS and key not in _HINTS:
        _HINTS.clear()
    _HINTS[key] = (span, now + HINT_TTL)


def _wider(span: timedelta, found: int, scan: int) -> timedelta | None:
    """The window expected to hold at most `SPARSE` × `scan` matches at the rate seen in
    `span` (at least one match): eight times wider or more; None: all time."""
    wider = span * (SPARSE * scan / max(found, 1))
    return None if wider > LONGEST else wider


async def index_conversation(core: Core, conversation_id: str) -> None:
    """Recompute one conversation's terms from its messages (private notes left out) and
    its customer's stored terms, without losing a message added meanwhile: the terms stored
    are read first, so a term the messages read next no longer hold is one to drop; the
    terms they hold are added, the others pulled (two writes, never a plain `$set`)."""
    conversation = await core.store.conversations.find_one(
        {"_id": conversation_id}, {"terms": 1, "customer_id": 1}
    )
    if conversation is None:
        return
    customer = await core.store.customers.find_one(
        {"_id": conversation.get("customer_id")}, {"terms": 1, "merged_into": 1}
    )
    messages = core.store.messages.find(
        {"conversation_id": conversation_id, "private": {"$ne": True}},
        {"terms": 1, "text": 1},
    )
    found: dict[str, None] = {}
    async for message in messages:
        terms = message.get("terms")
        found.update(dict.fromkeys(terms if isinstance(terms, list) else _message_terms(message)))
    if customer is not None and not customer.get("merged_into"):
        found.update(dict.fromkeys(customer.get("terms") or []))
    if "terms" not in conversation:  # never indexed (`reindex`)
        await core.store.conversations.update_one(
            {"_id": conversation_id}, {"$set": {"terms": list(found)}}
        )
        return
    stale = sorted(set(conversation["terms"]) - found.keys())
    await core.store.conversations.update_one(
        {"_id": conversation_id}, {"$addToSet": add_terms(list(found))}
    )
    if stale:
        await core.store.conversations.update_one(
            {"_id": conversation_id}, {"$pull": {"terms": {"$in": stale}}}
        )


async def index_customer(core: Core, customer_id: str) -> None:
    """Recompute one customer's terms from their stored profile, then those of their
    conversations."""
    doc = await core.store.customers.find_one(
        {"_id": customer_id}, {"name": 1, "emails": 1, "phones": 1, "merged_into": 1}
    )
    if doc is None:
        return
    terms = [] if doc.get("merged_into") else customer_doc_terms(doc)
    await core.store.customers.update_one({"_id": customer_id}, {"$set": {"terms": terms}})
    for conversation_id in await core.store.conversations.distinct(
        "_id", {"customer_id": customer_id}
    ):
        await index_conversation(core, conversation_id)


async def on_customer_event(core: Core, event: Event) -> None:
    """A profile changed (or two were merged or pulled apart): index whom it names. A
    conversation opened for a customer already known gets their profile's terms."""
    if event.type == "message.received":
        new = event.data.get("new_conversation") and not event.data.get("new_customer")
        if new and event.conversation_id:
            await index_conversation(core, event.conversation_id)
        return
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

    counts = {
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
    counts["conversations"] = await _reindex_conversations(core, shown("conversations"))
    return counts


async def _reindex_conversations(core: Core, progress: Callable[[int], None]) -> int:
    """Give every conversation without `terms` its terms (after their messages and
    customers have theirs)."""
    done = 0
    while True:
        unindexed = core.store.conversations.find({"terms": {"$exists": False}}, {"_id": 1})
        docs = await unindexed.limit(BATCH).to_list(BATCH)
        if not docs:
            return done
        for doc in docs:
            await index_conversation(core, doc["_id"])
        done += len(docs)
        progress(done)


feature = Feature(
    name="search",
    indexes=(
        # Newest matching conversations first: the sort follows the index after the term.
        Index(
            "conversations",
            (("workspace_id", ASCENDING), ("terms", ASCENDING), ("last_message_at", DESCENDING)),
        ),
        Index("conversations", (("workspace_id", ASCENDING), ("team_id", ASCENDING))),
    ),
    consumers=(
        Consumer(
            "search",
            (
                "customer.created",
                "customer.updated",
                "customer.merged",
                "customer.unmerged",
                "message.received",
            ),
            on_customer_event,
        ),
    ),
)
