"""A count or a sum a customer has none of counts as 0 (both lanes): "Orders (count) is 0",
"less than 1", "Lifetime value less than 100" and "Members invited is 0" find the customers
who never ordered or invited, in MongoDB's query and in the in-memory evaluation alike, in the
live count, a saved segment's members and the reconciliation; "is set = no" still means the
value is absent, and a condition 0 does not satisfy leaves them out."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from kith.communities import feature as communities
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.features import install
from kith.orders import feature as orders
from kith.segments.filters import matches, to_query
from kith.segments.membership import member_id
from kith.segments.records import parse_filter
from tests.segments.conftest import customer, members, segment
from tests.support.cast import api_token
from tests.support.consumers import drain

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def figures(core: Core) -> None:
    """Orders and communities installed: their segment fields are the counts and sums."""
    install(core, [orders.feature(core), communities.feature(core)])
    await core.start()


def person(n: str, **fields: Any) -> dict[str, Any]:
    return {"_id": n, "workspace_id": "w-zero", "tags": [], "first_seen": NOW} | fields


PEOPLE = [
    person("never"),  # no orders, no referrals: nothing stored
    person("null", orders={"count": None}, referrals={"count": None}),
    person("zero", orders={"count": 0, "total": {}}, referrals={"count": 0}),
    person("one", orders={"count": 1, "total": {"CNY": 9_900}}, referrals={"count": 1}),
    person("three", orders={"count": 3, "total": {"CNY": 59_700, "USD": 500}}),
]
NONE = {"never", "null", "zero"}  # who has 0 orders, 0 in CNY and 0 invited
EVERYONE = {p["_id"] for p in PEOPLE}


def cond(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


CASES: list[tuple[dict[str, Any], set[str]]] = [
    (cond("orders.count", "eq", 0), NONE),
    (cond("orders.count", "lt", 1), NONE),
    (cond("orders.count", "lte", 0), NONE),
    (cond("orders.count", "lte", 2), NONE | {"one"}),
    (cond("orders.count", "gte", 0), EVERYONE),
    (cond("orders.count", "gt", -1), EVERYONE),
    (cond("orders.count", "ne", 1), NONE | {"three"}),
    # What 0 does not satisfy leaves the customers without orders out, as before.
    (cond("orders.count", "ne", 0), {"one", "three"}),
    (cond("orders.count", "eq", 1), {"one"}),
    (cond("orders.count", "gt", 0), {"one", "three"}),
    (cond("orders.count", "gte", 1), {"one", "three"}),
    (cond("orders.count", "lt", 0), set()),
    (cond("orders.count", "lte", -1), set()),
    # "Is set": what is stored, not what it counts as.
    (cond("orders.count", "exists", False), {"never", "null"}),
    (cond("orders.count", "exists", True), {"zero", "one", "three"}),
    # Lifetime value per currency, in minor units: 100 CNY is 10000 fen.
    (cond("orders.total.CNY", "lt", 10_000), NONE | {"one"}),
    (cond("orders.total.USD", "eq", 0), NONE | {"one"}),
    (cond("orders.total.USD", "gt", 0), {"three"}),
    (cond("referrals.count", "eq", 0), NONE | {"three"}),
    (cond("referrals.count", "ne", 0), {"one"}),
    # A range holding 0, as the builder writes one: two bounds in a group.
    (
        {"all": [cond("orders.count", "gte", 0), cond("orders.count", "lte", 1)]},
        NONE | {"one"},
    ),
    (
        {"any": [cond("orders.count", "eq", 0), cond("tags", "contains", "vip")]},
        NONE,
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
async def test_mongodb_and_memory_count_absent_as_zero(
    core: Core, raw: dict[str, Any], expected: set[str]
) -> None:
    node = parse_filter(core, raw)
    people = core.store.collection("zero_people")
    await people.insert_many([dict(p) for p in PEOPLE])
    found = {d["_id"] async for d in people.find(to_query(node, NOW), {"_id": 1})}
    in_memory = {p["_id"] for p in PEOPLE if matches(node, p, NOW)}
    assert found == expected
    assert in_memory == expected


def test_a_value_stays_data_in_the_query(core: Core) -> None:
    """The absent branch names the stored path with `None`, never anything the user sent."""
    node = parse_filter(core, cond("orders.count", "lt", 1))
    assert to_query(node, NOW) == {"$or": [{"orders.count": {"$lt": 1}}, {"orders.count": None}]}
    sentiment = parse_filter(core, cond("sentiment.trend", "lt", 1))
    assert to_query(sentiment, NOW) == {"sentiment.score": {"$lt": 1}}  # no count: as stored


async def test_never_ordered_counts_in_the_preview_the_members_and_reconcile(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    never = cond("orders.count", "eq", 0)
    headers = {"Authorization": f"Bearer {await api_token(core, workspace_id)}"}
    await customer(core, workspace_id, "c-never")
    await customer(core, workspace_id, "c-buyer", orders={"count": 2, "total": {"CNY": 500}})
    await drain(core)
    preview = await client.post("/api/v1/segments/preview", json={"filter": never}, headers=headers)
    assert preview.json()["count"] == 1
    made = await segment(core, workspace_id, never, "Never purchased")
    assert await members(core, made.id) == {"c-never"}
    # A customer created later, with no orders, enters by the event (`matches`).
    await customer(core, workspace_id, "c-new")
    await drain(core)
    assert await members(core, made.id) == {"c-never", "c-new"}
    # The reconciliation (`to_query`) agrees: it fixes a row taken out behind its back only.
    await core.store.collection("segment_members").delete_one(
        {"_id": member_id(made.id, "c-never")}
    )
    fixed = await client.post(f"/api/v1/segments/{made.id}/reconcile", headers=headers)
    assert fixed.json() == {"fixed": {"added": 1, "removed": 0}, "size": 2}
    assert await members(core, made.id) == {"c-never", "c-new"}


async def test_a_first_order_takes_a_customer_out_of_never_purchased(
    core: Core, workspace_id: str
) -> None:
    made = await segment(core, workspace_id, cond("orders.count", "lt", 1), "Never purchased")
    await customer(core, workspace_id, "c-ada")
    await drain(core)
    assert await members(core, made.id) == {"c-ada"}
    # As `kith.orders.summary.refresh` writes the figures and says so.
    await core.store.customers.update_one({"_id": "c-ada"}, {"$set": {"orders.count": 1}})
    updated = build_event(
        core, workspace_id, "customer.updated", customer_id="c-ada", data={"fields": ["orders"]}
    )
    await record(core, updated)
    await drain(core)
    assert await members(core, made.id) == set()
