"""Statuses that move only along allowed transitions (orders, sequences, broadcasts, tickets).

A move is one conditional update from the states the target may follow, so two racing moves
cannot both pass a check made on a stale read; a refused move is a 409 naming where the record
is and the moves allowed from there (`reason` `transition_refused`, `limits.allowed`), which
clients show as they are.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from enum import StrEnum
from typing import TypeVar

from pymongo import ReturnDocument

from kith.core.collection import Collection as Stored
from kith.core.collection import Document, Filter, Update
from kith.core.errors import Conflict, NotFound

S = TypeVar("S", bound=StrEnum)


def sources(moves: Mapping[S, Collection[S]], to: S) -> list[str]:
    """The stored statuses `to` may follow."""
    return [status.value for status, allowed in moves.items() if to in allowed]


def _article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def refused(noun: str, current: S, to: S, moves: Mapping[S, Collection[S]]) -> Conflict:
    """The 409 of a move `moves` does not allow, listing those it does from `current`."""
    allowed = sorted(status.value for status in moves[current])
    return Conflict(
        f"{_article(current.value)} {current.value.replace('_', ' ')} {noun} cannot become "
        f"{to.value.replace('_', ' ')}; "
        f"allowed: {', '.join(allowed) or 'none'}",
        field="status",
        reason="transition_refused",
        limits={"status": current.value, "allowed": allowed},
    )


async def move_status(
    collection: Stored,
    query: Filter,
    moves: Mapping[S, Collection[S]],
    to: S,
    update: Update,
    *,
    noun: str,
    missing: NotFound,
) -> Document:
    """Apply `update` to the record `query` finds if its status may become `to`; the record as
    updated. Else `missing` when there is no such record, or the refusal from where it is."""
    doc = await collection.find_one_and_update(
        {**query, "status": {"$in": sources(moves, to)}},
        update,
        return_document=ReturnDocument.AFTER,
    )
    if doc is not None:
        return doc
    found = await collection.find_one(query, {"status": 1})
    if found is None:
        raise missing
    raise refused(noun, type(to)(found["status"]), to, moves)
