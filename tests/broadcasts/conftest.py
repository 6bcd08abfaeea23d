"""A Core with the broadcasts feature, customers reachable on an API channel, and helpers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kith.broadcasts.feature import feature
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel, Customer, InboundUser
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, api_token, inbound


@pytest.fixture
async def bcore(core: Core, clock: ManualClock) -> Core:
    """The suite's Core (embedded or real lane) with broadcasts installed, at noon UTC (the
    default quiet hours are 21:00 to 09:00 in the workspace's zone, UTC)."""
    clock.advance(12 * 3600)
    install(core, [feature(core)])
    await core.start()
    return core


@pytest.fixture
async def channel(bcore: Core, workspace_id: str) -> Channel:
    return (await api_channel(bcore, workspace_id))[0]


@pytest.fixture
async def token(bcore: Core, workspace_id: str) -> str:
    return await api_token(bcore, workspace_id)


@pytest.fixture
def people(bcore: Core, channel: Channel) -> Callable[..., object]:
    """`await people(n)`: n customers who wrote once on the API channel (ids in order)."""

    async def make(n: int, prefix: str = "c", locale: str | None = None) -> list[Customer]:
        made = []
        for i in range(n):
            user = InboundUser(id=f"{prefix}-{i:05d}", name=f"Person {i}", locale=locale)
            result = await ingest(bcore, channel, inbound(channel, user=user, text="hi"))
            doc = await bcore.store.customers.find_one({"_id": result.conversation.customer_id})
            assert doc is not None
            made.append(Customer.from_doc(doc))
        return made

    return make
