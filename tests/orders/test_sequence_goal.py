"""A sequence whose goal is "an order placed" ends an enrolment as converted when the
customer orders (an imported order is history, not a conversion)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.orders.actions import do_create_order
from kith.orders.feature import feature
from kith.orders.models import OrderIn
from kith.sequences.models import EnrolmentState, Goal
from tests.orders.conftest import ITEMS
from tests.sequences.conftest import (  # noqa: F401 (fixtures, found by name)
    MakeSequence,
    People,
    channel,
    make_sequence,
    people,
    score,
)
from tests.sequences.test_stopping import enrolment_of, run_of, started
from tests.support.consumers import drain


async def test_an_order_placed_stops_the_enrolment_as_converted(
    score: Core,  # noqa: F811
    clock: ManualClock,
    workspace_id: str,
    people: People,  # noqa: F811
    make_sequence: MakeSequence,  # noqa: F811
) -> None:
    install(score, [feature(score)])
    sequence = await make_sequence(goal={"order_placed": True})
    ada, grace = await people(2)
    enrolment, _, tip = await started(score, clock, workspace_id, ada, sequence.id)
    other, _, _ = await started(score, clock, workspace_id, grace, sequence.id)
    imported = {"customer_id": ada.id, "currency": "EUR", "items": ITEMS, "source": "import"}
    await do_create_order(score, workspace_id, OrderIn.model_validate(imported))
    await drain(score)
    assert (await enrolment_of(score, enrolment.id)).state == EnrolmentState.active

    placed = {"customer_id": ada.id, "currency": "EUR", "items": ITEMS}
    await do_create_order(score, workspace_id, OrderIn.model_validate(placed))
    await drain(score)
    after = await enrolment_of(score, enrolment.id)
    assert (after.state, after.reason) == (EnrolmentState.stopped, "goal")
    assert (await run_of(score, tip.id)).converted_at == score.clock.now()
    assert (await enrolment_of(score, other.id)).state == EnrolmentState.active


def test_a_goal_is_one_thing() -> None:
    with pytest.raises(ValidationError):
        Goal.model_validate({"order_placed": True, "tag": "bought"})
    with pytest.raises(ValidationError):
        Goal.model_validate({"order_placed": False})
    assert Goal.model_validate({"order_placed": True}).order_placed is True
