"""Regression (found reviewing this session's segments work): a broadcast to a segment on a
field a feature adds (orders, members invited) was refused as an unknown field when estimated
and when its audience was written, since both read the filter with core's fields alone. Now
"never ordered" (`orders.count eq 0`, a missing count is 0) is estimated and sent to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from kith.broadcasts.actions import do_create_broadcast, do_schedule
from kith.broadcasts.models import BroadcastIn, Status
from kith.core.context import Core
from kith.core.features import install
from kith.orders.feature import feature as orders_feature
from kith.segments.records import do_create_segment
from tests.broadcasts.test_api import auth
from tests.broadcasts.test_sending import MARKETER, TEXT, finish, marketing

NEVER_ORDERED = {"field": "orders.count", "op": "eq", "value": 0}


async def test_a_segment_on_orders_is_estimated_and_sent_to(
    bcore: Core,
    client: httpx.AsyncClient,
    token: str,
    workspace_id: str,
    people: Callable[..., Any],
) -> None:
    install(bcore, [orders_feature(bcore)])
    ada, bo, cy = await people(3)
    await bcore.store.customers.update_one({"_id": cy.id}, {"$set": {"orders.count": 2}})
    segment = await do_create_segment(bcore, workspace_id, "Never ordered", NEVER_ORDERED)
    answer = await client.post(
        "/api/v1/broadcasts/estimate",
        json={"segment_id": segment.id, "channels": ["api"]},
        headers=auth(token),
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["in_audience"], answer.json()["consented"]) == (2, 2)

    body = BroadcastIn.model_validate(
        {
            "name": "First order",
            "segment_id": segment.id,
            "message": {"text": TEXT},
            "channels": ["api"],
        }
    )
    made = await do_create_broadcast(bcore, workspace_id, body, MARKETER)
    done = await finish(bcore, await do_schedule(bcore, made, MARKETER))
    assert (done.status, done.stats.targeted, done.stats.sent) == (Status.done, 2, 2)
    assert sorted(m["customer_id"] for m in await marketing(bcore)) == sorted([ada.id, bo.id])
