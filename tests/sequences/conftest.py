"""A Core with sequences installed, customers reachable on an API channel, and helpers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel, Customer, InboundUser
from kith.core.pipeline import ingest
from kith.sequences.actions import do_create_sequence, move
from kith.sequences.feature import feature
from kith.sequences.models import Sequence, SequenceIn, Status
from tests.support.cast import api_channel, inbound

People = Callable[..., Awaitable[list[Customer]]]
MakeSequence = Callable[..., Awaitable[Sequence]]


@pytest.fixture
async def score(core: Core, clock: ManualClock) -> Core:
    """The suite's Core (embedded or real lane) with sequences installed, at noon UTC (the
    default quiet hours are 21:00 to 09:00 in the workspace's zone, UTC)."""
    clock.advance(12 * 3600)
    install(core, [feature(core)])
    await core.start()
    return core


@pytest.fixture
async def channel(score: Core, workspace_id: str) -> Channel:
    return (await api_channel(score, workspace_id))[0]


@pytest.fixture
def people(score: Core, channel: Channel) -> People:
    """`await people(n)`: n customers who wrote once on the API channel (ids in order)."""

    async def make(n: int, prefix: str = "c", locale: str | None = None) -> list[Customer]:
        made = []
        for i in range(n):
            user = InboundUser(id=f"{prefix}-{i:05d}", name=f"Person {i}", locale=locale)
            result = await ingest(score, channel, inbound(channel, user=user, text="hi"))
            doc = await score.store.customers.find_one({"_id": result.conversation.customer_id})
            assert doc is not None
            made.append(Customer.from_doc(doc))
        return made

    return make


WELCOME: dict[str, Any] = {
    "name": "Welcome",
    "channels": ["api"],
    "steps": [
        {"id": "welcome", "type": "send", "message": {"text": {"en": "Hi {{ customer.name }}"}}},
        {"id": "pause", "type": "wait", "duration": "P1D"},
        {"id": "tip", "type": "send", "message": {"text": {"en": "A tip"}}},
    ],
}


@pytest.fixture
def make_sequence(score: Core, workspace_id: str) -> MakeSequence:
    """`await make_sequence(**overrides)`: a sequence (WELCOME unless told), active."""

    async def make(active: bool = True, **overrides: Any) -> Sequence:
        body = SequenceIn.model_validate({**WELCOME, **overrides})
        sequence = await do_create_sequence(score, workspace_id, body)
        if active:
            sequence = await move(score, workspace_id, sequence.id, Status.active)
        return sequence

    return make
