"""The funnel shows the whole sequence (QA pass 5, minor 15): `GET …/stats` lists every step
of the current version in step order, zeros where nobody has been yet, in `steps` (the
mapping it always was) and in `ordered` (a list, for clients that do not keep a JSON
object's order)."""

from __future__ import annotations

import httpx

from kith.core.context import Core
from kith.sequences.models import EnrolmentState, RunOutcome
from tests.sequences.conftest import MakeSequence
from tests.sequences.test_stats import _enrolment, _run
from tests.support.cast import api_token

SEND = {"type": "send", "message": {"text": {"en": "Hi"}}}
WAIT = {"type": "wait", "duration": "P1D"}
# Not alphabetical: the order a marketer built, which the funnel keeps.
STEPS = [
    {"id": "hello", **SEND},
    {"id": "pause", **WAIT},
    {"id": "second", **SEND},
    {"id": "later", **WAIT},
    {"id": "third", **SEND},
    {"id": "fin", "type": "end"},
]


async def test_every_step_is_listed_in_step_order_with_zeros_where_nobody_has_been(
    score: Core, client: httpx.AsyncClient, workspace_id: str, make_sequence: MakeSequence
) -> None:
    sequence = await make_sequence(steps=STEPS)
    ada = await _enrolment(score, sequence.id, 1, EnrolmentState.active)
    await _run(score, ada, "hello", RunOutcome.sent)
    await _run(score, ada, "pause", RunOutcome.done)
    token = await api_token(score, workspace_id)
    answer = await client.get(
        f"/api/v1/sequences/{sequence.id}/stats", headers={"authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    stats = answer.json()
    order = [s["id"] for s in STEPS]
    assert [(s["step_id"], s["type"]) for s in stats["ordered"]] == [
        (s["id"], s["type"]) for s in STEPS
    ]
    assert list(stats["steps"]) == order  # the mapping, complete and in step order too
    assert stats["steps"]["hello"]["sent"] == 1
    nobody = {"sent": 0, "delivered": 0, "failed": 0, "skipped": {}, "replied": 0, "clicked": 0,
              "converted": 0}  # fmt: skip
    for step in stats["ordered"][1:]:
        assert {k: v for k, v in step.items() if k not in ("step_id", "type")} == nobody
    assert stats["earlier"] == []
