"""A conversation's search terms, one document per (conversation, term) (`kith.core.search`).

A conversation is found by every word said in it and by its customer's profile: a long-lived
thread holds thousands of terms, a busy group tens of thousands. Kept as an array in the
conversation document, they made every write to it cost in proportion to them: DocumentDB
writes a new row version with all its index entries, and MongoDB moves every entry of an
index that also holds `last_message_at`. On the real engine an ingest took 11-14 ms into a
conversation without terms, 40-46 ms with 2,000 and 385-408 ms with 20,000. Here a term is
written once, when the conversation first holds it, and never touched by the conversation's
other writes; a message costs what its own terms cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from pymongo import ASCENDING

from kith.core.collection import Document
from kith.core.context import Core
from kith.core.features import Index
from kith.core.search_terms import starting_with

COLLECTION = "conversation_terms"

INDEXES = (
    # The conversations holding a term (covered: the search reads only their ids).
    Index(
        COLLECTION,
        (("workspace_id", ASCENDING), ("term", ASCENDING), ("conversation_id", ASCENDING)),
    ),
    Index(COLLECTION, (("conversation_id", ASCENDING),)),  # one conversation's, to recompute
)


def _key(conversation_id: str, term: str) -> str:
    return f"{conversation_id}:{term}"


def term_docs(workspace_id: str, conversation_id: str, terms: Iterable[str]) -> list[Document]:
    """The documents that make the conversation found by `terms`."""
    return [
        {
            "_id": _key(conversation_id, term),
            "workspace_id": workspace_id,
            "conversation_id": conversation_id,
            "term": term,
        }
        for term in dict.fromkeys(terms)
    ]


async def add_terms(
    core: Core, workspace_id: str, conversation_id: str, terms: Iterable[str]
) -> None:
    """Make the conversation found by `terms` (those it holds already are left as they are),
    written with other callers' terms (`Store.grouped_inserts`)."""
    docs = term_docs(workspace_id, conversation_id, terms)
    await core.store.grouped_inserts(COLLECTION).add(docs)


async def drop_terms(core: Core, conversation_id: str, terms: Iterable[str]) -> None:
    keys = [_key(conversation_id, term) for term in terms]
    if keys:
        await core.store.conversation_terms.delete_many({"_id": {"$in": keys}})


async def stored_terms(core: Core, conversation_id: str) -> set[str]:
    found = core.store.conversation_terms.find({"conversation_id": conversation_id}, {"term": 1})
    return {doc["term"] async for doc in found}


async def holders(core: Core, workspace_id: str, term: str, limit: int) -> list[str]:
    """Up to `limit` ids of the workspace's conversations that hold `term`."""
    found = core.store.conversation_terms.find(
        {"workspace_id": workspace_id, "term": term}, {"conversation_id": 1, "_id": 0}
    )
    return [doc["conversation_id"] for doc in await found.limit(limit).to_list(limit)]


async def holders_starting(core: Core, workspace_id: str, character: str, limit: int) -> list[str]:
    """The conversations of up to `limit` of the workspace's terms that start with
    `character` (`kith.core.search_terms.starting_with`: a conversation once per term)."""
    found = core.store.conversation_terms.find(
        {"workspace_id": workspace_id, "term": starting_with(character)},
        {"conversation_id": 1, "_id": 0},
    )
    return [doc["conversation_id"] for doc in await found.limit(limit).to_list(limit)]


async def holding_starting(
    core: Core, workspace_id: str, conversation_ids: list[str], character: str
) -> set[str]:
    """Which of `conversation_ids` hold a term that starts with `character`."""
    if not conversation_ids:
        return set()
    found = core.store.conversation_terms.find(
        {
            "workspace_id": workspace_id,
            "term": starting_with(character),
            "conversation_id": {"$in": conversation_ids},
        },
        {"conversation_id": 1, "_id": 0},
    )
    return {doc["conversation_id"] async for doc in found}


async def holding_all(core: Core, conversation_ids: list[str], terms: list[str]) -> set[str]:
    """Which of `conversation_ids` hold every one of `terms` (distinct terms)."""
    if not conversation_ids:
        return set()
    keys = [_key(c, t) for c in conversation_ids for t in terms]
    found = core.store.conversation_terms.find({"_id": {"$in": keys}}, {"conversation_id": 1})
    held = Counter([doc["conversation_id"] async for doc in found])
    return {c for c, n in held.items() if n == len(terms)}


async def forget(core: Core, conversation_id: str) -> None:
    """Drop every term of a conversation that is gone."""
    await core.store.conversation_terms.delete_many({"conversation_id": conversation_id})
