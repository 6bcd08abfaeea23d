"""Counters raised by racing requests: each told its own value, on both engines."""

from __future__ import annotations

import asyncio

from kith.core.context import Core
from kith.core.counters import increment

RACERS = 8
ROUNDS = 40  # DocumentDB answered two racers alike in about one round of ten with an upsert


async def test_racers_on_a_new_counter_each_get_their_own_value(core: Core) -> None:
    counters = core.store.collection("scratch_counters")
    for round_ in range(ROUNDS):
        docs = await asyncio.gather(
            *(
                increment(counters, f"c{round_}", "n", also_set={"at": i}, on_insert={"by": i})
                for i in range(RACERS)
            )
        )
        assert sorted(d["n"] for d in docs) == list(range(1, RACERS + 1))
        stored = await counters.find_one({"_id": f"c{round_}"})
        assert stored is not None
        assert stored["n"] == RACERS
        first = next(d for d in docs if d["n"] == 1)
        assert stored["by"] == first["by"]  # set by the insert only


async def test_a_counter_is_raised_by_any_step_and_answers_the_document(core: Core) -> None:
    counters = core.store.collection("scratch_counters")
    assert await increment(counters, "k", "n", by=5, on_insert={"kind": "x"}) == {
        "_id": "k",
        "kind": "x",
        "n": 5,
    }
    after = await increment(counters, "k", "n", by=-2, also_set={"seen": True})
    assert after == {"_id": "k", "kind": "x", "n": 3, "seen": True}
