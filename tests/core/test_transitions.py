"""`kith.core.transitions`: the one conditional move orders, sequences and broadcasts make,
and the 409 all four status machines (tickets too) answer a refused move with."""

from __future__ import annotations

from enum import StrEnum

import pytest

from kith.core.context import Core
from kith.core.errors import Conflict, NotFound
from kith.core.transitions import move_status


class Door(StrEnum):
    shut = "shut"
    open = "open"
    locked = "locked"


MOVES = {
    Door.shut: frozenset({Door.open, Door.locked}),
    Door.open: frozenset({Door.shut}),
    Door.locked: frozenset[Door](),
}
MISSING = NotFound("no such door", field="door_id")


async def test_a_move_is_made_from_an_allowed_state_and_refused_from_others(core: Core) -> None:
    doors = core.store.collection("doors")
    await doors.insert_one({"_id": "d1", "status": "shut"})
    update = {"$set": {"status": "open"}}
    moved = await move_status(
        doors, {"_id": "d1"}, MOVES, Door.open, update, noun="door", missing=MISSING
    )
    assert moved == {"_id": "d1", "status": "open"}
    lock = {"$set": {"status": "locked"}}
    with pytest.raises(Conflict) as refused:
        await move_status(
            doors, {"_id": "d1"}, MOVES, Door.locked, lock, noun="door", missing=MISSING
        )
    error = refused.value
    assert error.message == "an open door cannot become locked; allowed: shut"
    assert (error.field, error.reason) == ("status", "transition_refused")
    assert error.limits == {"status": "open", "allowed": ["shut"]}
    assert await doors.find_one({"_id": "d1"}) == {"_id": "d1", "status": "open"}
    with pytest.raises(NotFound) as missing:
        await move_status(
            doors, {"_id": "d2"}, MOVES, Door.open, update, noun="door", missing=MISSING
        )
    assert missing.value.field == "door_id"
