"""Sentiment moves customers between segments: the sentiment worker keeps each customer's
trend and records `customer.sentiment_changed` (its id derived from the batch's message),
and the segments consumer follows (both lanes; needs the model, as tests/nlp)."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from kith.core.pipeline import ingest
from kith.nlp.feature import SentimentWorker
from tests.nlp.conftest import analyzer, model_dir  # noqa: F401 (fixtures)
from tests.segments.conftest import members, segment
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain


@pytest.mark.timeout(600)  # the model's first load, on a busy machine
async def test_an_unhappy_customer_enters_the_unhappy_segment(
    core: Core,
    workspace_id: str,
    analyzer: object,  # noqa: F811 (fixture)
) -> None:
    unhappy = await segment(
        core, workspace_id, {"field": "sentiment.trend", "op": "lt", "value": -0.3}, "unhappy"
    )
    channel, _ = await api_channel(core, workspace_id)
    angry = await ingest(core, channel, inbound(channel, "li", "质量太差了，非常失望，再也不买了"))
    await drain(core)
    assert await members(core, unhappy.id) == set()
    worker = SentimentWorker(core, analyzer)  # type: ignore[arg-type]
    assert await worker.run_once() == 1
    customer_id = angry.message.customer_id
    stored = await core.store.customers.find_one({"_id": customer_id})
    assert stored is not None and stored["sentiment"]["score"] < -0.3
    await drain(core)
    assert await members(core, unhappy.id) == {customer_id}
    changed = {"type": "customer.sentiment_changed", "customer_id": customer_id}
    assert await core.store.events.count_documents(changed) == 1
