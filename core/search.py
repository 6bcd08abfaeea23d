"""Full-text search over conversations: their messages' text and their customers' names,
email addresses and phone numbers, through search terms (`kith.core.search_terms`).

A conversation is found by the union of its messages' terms (private notes left out) and its
customer's, each stored once as its own document (`kith.core.conversation_terms`). This
feature's consumer adds a received message's terms (with a new customer's profile, on first
contact) a moment after ingest stores it; `send` adds a reply's beside its write to the
conversation; an edit, a customer's new profile (renamed, created by an import or the API,
merged, unmerged: this feature's consumer, about a second's lag) and a conversation opened
for a known customer recompute them (`index_conversation`). `reindex()`
(`kith search reindex`) fills in documents stored before terms existed, and moves the terms
that conversations once held in their own document; erasing a customer drops their
conversations' terms and recomputes those of the conversations they spoke in (a group), after
their documents are gone, and a run of the consumer that lands after that drops what it added.

A search (`search_page`) answers a page of the list's own query, sort and cursor, keeping the
conversations that hold every term of `q` (one message, several, or the customer's profile).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo import ASCENDING, UpdateOne

from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.conversation_terms import (
    INDEXES,
    add_terms,
    drop_terms,
    forget,
    holders,
    holders_starting,
    holding_all,
    holding_starting,
    stored_terms,
)
from kith.core.features import Feature, Index, Sweep, searchables
from kith.core.models import Event
from kith.core.pagination import cursor_at, page
from kith.core.search_terms import customer_doc_terms, lone_character, query_terms, text_terms

Page = tuple[list[dict[str, Any]], str | None]
Check = Callable[[list[str]], Awaitable[set[str]]]  # which of these conversations match

RARE = 2000  # a term held by at most this many conversations is searched through them
FIRST_SCAN = 100  # conversations of the list checked at first when every term is common
LONGEST_SCAN = 1600


async def search_page(
    core: Core,
    workspace_id: str,
    query: dict[str, Any],
    q: str,
    *,
    cursor: str | None,
    limit: int,
    field: str = "last_message_at",
    descending: bool = True,
) -> Page:
    """One page of the workspace's conversations matching `query` that hold every term of
    `q`, sorted by `field` like any list page (`kith.core.pagination.page`). `q` is only
    data: its terms are strings compared for equality, never operators or patterns.

    Where one of the terms is held by at most `RARE` conversations, the page is read among
    those that hold them all: a query on their ids. Where every term is common, the list
    itself is read in order and its conversations checked, in rounds that grow, until the
    page is full: about one match in `RARE` conversations of the workspace or more.

    A lone CJK character ("退") finds the conversations holding a term that starts with it
    (`kith.core.search_terms.lone_character`), read the same two ways; where it ends a run of
    characters ("我要退") the text holds it alone too (`text_terms`)."""
    wanted = query_terms(q)
    if not wanted:
        return [], None
    character = lone_character(q)
    found: set[str] | None
    if character is not None:
        held = await holders_starting(core, workspace_id, character, RARE + 1)
        found = set(held) if len(held) <= RARE else None

        async def check(ids: list[str]) -> set[str]:
            return await holding_starting(core, workspace_id, ids, character)

    else:
        found = await _holding_every_rare_term(core, workspace_id, wanted)

        async def check(ids: list[str]) -> set[str]:
            return await holding_all(core, ids, wanted)

    if found is None:
        return await _scanned_page(core, query, check, field, cursor, limit, descending)
    if not found:
        return [], None
    return await page(
        core.store.conversations,
        {"$and": [query, {"_id": {"$in": sorted(found)}}]},
        field,
        cursor=cursor,
        limit=limit,
        descending=descending,
    )


async def _holding_every_rare_term(
    core: Core, workspace_id: str, wanted: list[str]
) -> set[str] | None:
    """The conversations holding every term, when one of them is rare (None: none is)."""
    held = await asyncio.gather(*(holders(core, workspace_id, t, RARE + 1) for t in wanted))
    rare = [set(ids) for ids in held if len(ids) <= RARE]
    if not rare:
        return None
    found = set.intersection(*rare)
    common = [t for t, ids in zip(wanted, held, strict=True) if len(ids) > RARE]
    if found and common:
        found = await holding_all(core, sorted(found), common)
    return found


async def _scanned_page(
    core: Core,
    query: dict[str, Any],
    check: Check,
    field: str,
    cursor: str | None,
    limit: int,
    descending: bool,
) -> Page:
    """The page read from the list in order, keeping the conversations `check` keeps."""
    kept: list[dict[str, Any]] = []
    position, size = cursor, max(FIRST_SCAN, 4 * limit)
    while True:
        docs, position = await page(
            core.store.conversations,
            query,
            field,
            cursor=position,
            limit=size,
            descending=descending,
        )
        held = await check([d["_id"] for d in docs])
        kept += [d for d in docs if d["_id"] in held]
        if len(kept) > limit:
            return kept[:limit], cursor_at(kept[limit - 1], field)
        if position is None:
            return kept, None
        size = min(size * 2, LONGEST_SCAN)


async def index_conversation(core: Core, conversation_id: str) -> None:
    """Recompute one conversation's terms from its messages (private notes left out) and
    its customer's stored terms, without losing a message added meanwhile: the terms stored
    are read first, so a term the messages read next no longer hold is one to drop; the
    terms they hold and were not stored are added."""
    conversation = await core.store.conversations.find_one(
        {"_id": conversation_id}, {"customer_id": 1, "workspace_id": 1}
    )
    if conversation is None:
        await forget(core, conversation_id)
        return
    stored = await stored_terms(core, conversation_id)
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
    workspace_id = conversation["workspace_id"]
    await add_terms(core, workspace_id, conversation_id, [t for t in found if t not in stored])
    await drop_terms(core, conversation_id, sorted(stored - found.keys()))
    if await core.store.conversations.find_one({"_id": conversation_id}, {"_id": 1}) is None:
        await forget(core, conversation_id)  # erased while we read: what we added goes too


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


async def on_event(core: Core, event: Event) -> None:
    """A message came in: its terms on its conversation. A profile changed (or two were
    merged or pulled apart): index whom it names."""
    if event.type == "message.received":
        await _index_received(core, event)
        return
    ids = [event.customer_id, event.data.get("merged_id"), event.data.get("restored_id")]
    for customer_id in dict.fromkeys(i for i in ids if isinstance(i, str)):
        await index_customer(core, customer_id)


async def _index_received(core: Core, event: Event) -> None:
    """The received message's terms (a new customer's profile with them) on its
    conversation; a conversation opened for a customer already known gets all its terms,
    their profile's too. Indexed here, not in `ingest()`: a message is searchable a moment
    after it is stored, and ingest makes one round trip fewer."""
    conversation_id, message_id = event.conversation_id, event.message_id
    if conversation_id is None or message_id is None:
        return
    if event.data.get("new_conversation") and not event.data.get("new_customer"):
        await index_conversation(core, conversation_id)
        return
    message = await core.store.grouped("messages").find_one({"_id": message_id})
    if message is None:  # erased meanwhile
        return
    terms = list(message.get("terms") or [])
    if event.data.get("new_customer") and event.customer_id:
        customer = await core.store.grouped("customers").find_one({"_id": event.customer_id})
        terms += (customer or {}).get("terms") or []
    await add_terms(core, event.workspace_id, conversation_id, terms)
    if await core.store.grouped("messages").find_one({"_id": message_id}) is None:
        await index_conversation(core, conversation_id)  # erased meanwhile: see `_erase`


async def _erase(core: Core, workspace_id: str, customer_ids: list[str]) -> Sweep:
    """A customer's erasure (`Feature.erasers`): once their documents are gone, the
    conversations they had or spoke in lose their terms, or keep only what is left in them
    (a group's, or one the communities feature handed over to another member).

    Done after the deletions, so a consumer run that read a message before them and adds its
    terms after is swept too; one that adds them later still finds the message gone (it
    looks again after adding) and recomputes the conversation itself."""
    named = {"workspace_id": workspace_id, "customer_id": {"$in": customer_ids}}
    touched = set(await core.store.conversations.distinct("_id", named))
    touched |= set(await core.store.messages.distinct("conversation_id", named))

    async def sweep() -> None:
        for conversation_id in sorted(touched):
            await index_conversation(core, conversation_id)

    return sweep


BATCH = 1000
Docs = list[dict[str, Any]]


async def _reindex(
    core: Core,
    collection: str,
    fields: dict[str, int],
    terms_of: Callable[[dict[str, Any]], list[str]],
    done: Callable[[Docs], Any],
    every: bool,
) -> None:
    """Give every document of `collection` without `terms` (with `every`: every document,
    in `_id` order) its terms, a batch at a time; `done(docs)` after each batch."""
    store = core.store.collection(collection)
    query: dict[str, Any] = {} if every else {"terms": {"$exists": False}}
    while True:
        found = store.find(query, fields, sort=[("_id", 1)] if every else None)
        docs = await found.limit(BATCH).to_list(BATCH)
        if not docs:
            return
        await store.bulk_write(
            [UpdateOne({"_id": d["_id"]}, {"$set": {"terms": terms_of(d)}}) for d in docs],
            ordered=False,
        )
        await done(docs)
        if every:
            query = {"_id": {"$gt": docs[-1]["_id"]}}


def _message_terms(doc: dict[str, Any]) -> list[str]:
    text = doc.get("text")
    return text_terms(text) if isinstance(text, str) else []


async def reindex(
    core: Core, progress: Callable[[str, int], None] | None = None, *, every: bool = False
) -> dict[str, int]:
    """Index the messages and customers stored before search terms existed (or by a tool
    that wrote them directly), then what features declare searchable (`Feature.searchable`),
    then the conversations, and move the terms conversations held in their own document to
    theirs. Safe to run again and alongside traffic: it only fills documents that have no
    terms yet, or with `every` computes every document's terms again (after an upgrade that
    finds more, such as a run's last CJK character: `text_terms`); a conversation's terms
    are only ever added to. Returns the counts indexed."""
    counts = {"messages": 0, "customers": 0}
    touched: set[str] = set()

    async def messages_done(docs: Docs) -> None:
        touched.update(
            d["conversation_id"] for d in docs if isinstance(d.get("conversation_id"), str)
        )
        counts["messages"] += len(docs)
        _shown(progress, "messages", counts["messages"])

    async def customers_done(docs: Docs) -> None:
        ids = [d["_id"] for d in docs]
        touched.update(
            await core.store.conversations.distinct("_id", {"customer_id": {"$in": ids}})
        )
        counts["customers"] += len(docs)
        _shown(progress, "customers", counts["customers"])

    await _reindex(
        core, "messages", {"text": 1, "conversation_id": 1}, _message_terms, messages_done, every
    )
    fields = {"name": 1, "emails": 1, "phones": 1}
    await _reindex(core, "customers", fields, customer_doc_terms, customers_done, every)
    for searchable in searchables(core):  # features' own: tickets …
        name = searchable.collection

        async def feature_done(docs: Docs, name: str = name) -> None:
            counts[name] = counts.get(name, 0) + len(docs)
            _shown(progress, name, counts[name])

        wanted = dict.fromkeys(searchable.fields, 1)
        await _reindex(core, name, wanted, searchable.terms_of, feature_done, every)
    moved = await _move_held_terms(core)
    for n, conversation_id in enumerate(sorted(touched), 1):
        await index_conversation(core, conversation_id)
        if n % BATCH == 0:
            _shown(progress, "conversations", n)
    counts["conversations"] = len(touched | moved)
    return counts


def _shown(progress: Callable[[str, int], None] | None, what: str, n: int) -> None:
    if progress:
        progress(what, n)


async def _move_held_terms(core: Core) -> set[str]:
    """Move the terms conversations kept in their own document (`terms`, before
    `kith.core.conversation_terms`) to their term documents; the ids of those moved."""
    moved: set[str] = set()
    conversations = core.store.conversations
    while True:
        held = conversations.find({"terms": {"$exists": True}}, {"terms": 1, "workspace_id": 1})
        docs = await held.limit(BATCH).to_list(BATCH)
        if not docs:
            return moved
        for doc in docs:
            terms = doc["terms"] if isinstance(doc["terms"], list) else []
            await add_terms(core, doc["workspace_id"], doc["_id"], terms)
            await conversations.update_one({"_id": doc["_id"]}, {"$unset": {"terms": ""}})
            moved.add(doc["_id"])


feature = Feature(
    name="search",
    indexes=(
        *INDEXES,
        Index("conversations", (("workspace_id", ASCENDING), ("team_id", ASCENDING))),
    ),
    erasers=(_erase,),
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
            on_event,
        ),
    ),
)
