"""The filter language: every op, its errors naming the path, and MongoDB agreeing with the
in-memory evaluation on the same customers (both lanes)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.segments.filters import matches, parse, to_query

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def customer(n: str, **fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "_id": n,
        "workspace_id": "w-filters",
        "tags": [],
        "attributes": {},
        "channels": [],
        "identities": [],
        "consent": {},
        "first_seen": NOW - timedelta(days=100),
        "last_seen": NOW - timedelta(days=1),
    }
    return base | fields


PEOPLE = [
    customer("vip-sh", tags=["vip"], attributes={"city": "上海", "age": 41}, channels=["telegram"]),
    customer("vip-bj", tags=["vip", "new"], attributes={"city": "北京", "age": 29.5}),
    customer("plain", attributes={"city": "Shanghai", "langs": ["en", "zh"], "ok": True}),
    customer(
        "revoked",
        channels=["email", "wechat"],
        identities=[{"channel_id": "ch-mail", "external_id": "a@b.c"}],
        consent={"email": {"state": "revoked", "at": NOW, "via": "link"}},
        sentiment={"score": -0.6, "samples": []},
        last_seen=NOW - timedelta(days=90),
    ),
    customer(
        "granted",
        consent={"email": {"state": "granted"}},
        sentiment={"score": 0.4, "samples": []},
        attributes={"age": "41"},
    ),
    customer("bare"),
]

CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"field": "tags", "op": "contains", "value": "vip"}, {"vip-sh", "vip-bj"}),
    (
        {"field": "tags", "op": "not_contains", "value": "vip"},
        {"plain", "revoked", "granted", "bare"},
    ),
    ({"field": "tags", "op": "exists", "value": True}, {"vip-sh", "vip-bj"}),
    ({"field": "tags", "op": "exists", "value": False}, {"plain", "revoked", "granted", "bare"}),
    ({"field": "attributes.city", "op": "eq", "value": "上海"}, {"vip-sh"}),
    (
        {"field": "attributes.city", "op": "ne", "value": "上海"},
        {"vip-bj", "plain", "revoked", "granted", "bare"},
    ),
    ({"field": "attributes.city", "op": "in", "value": ["上海", "北京"]}, {"vip-sh", "vip-bj"}),
    ({"field": "attributes.city", "op": "contains", "value": "hang"}, {"plain"}),
    ({"field": "attributes.langs", "op": "contains", "value": "zh"}, {"plain"}),
    (
        {"field": "attributes.city", "op": "not_contains", "value": "海"},
        {"vip-bj", "plain", "revoked", "granted", "bare"},
    ),
    ({"field": "attributes.age", "op": "gt", "value": 30}, {"vip-sh"}),
    ({"field": "attributes.age", "op": "lte", "value": 29.5}, {"vip-bj"}),
    ({"field": "attributes.age", "op": "eq", "value": 41}, {"vip-sh"}),
    ({"field": "attributes.age", "op": "gte", "value": "40"}, {"granted"}),
    ({"field": "attributes.ok", "op": "eq", "value": True}, {"plain"}),
    ({"field": "attributes.ok", "op": "exists", "value": True}, {"plain"}),
    ({"field": "channels", "op": "contains", "value": "telegram"}, {"vip-sh"}),
    ({"field": "channel_ids", "op": "contains", "value": "ch-mail"}, {"revoked"}),
    ({"field": "consent.email", "op": "eq", "value": "revoked"}, {"revoked"}),
    (
        {"field": "consent.email", "op": "eq", "value": "unknown"},
        {"vip-sh", "vip-bj", "plain", "bare"},
    ),
    (
        {"field": "consent.email", "op": "ne", "value": "revoked"},
        {"vip-sh", "vip-bj", "plain", "granted", "bare"},
    ),
    (
        {"field": "consent.email", "op": "in", "value": ["granted", "revoked"]},
        {"revoked", "granted"},
    ),
    ({"field": "sentiment.trend", "op": "lt", "value": -0.3}, {"revoked"}),
    (
        {"field": "sentiment.trend", "op": "exists", "value": False},
        {"vip-sh", "vip-bj", "plain", "bare"},
    ),
    (
        {"field": "last_seen_at", "op": "within_days", "value": 30},
        {"vip-sh", "vip-bj", "plain", "granted", "bare"},
    ),
    ({"field": "last_seen_at", "op": "older_than_days", "value": 30}, {"revoked"}),
    (
        {"field": "created_at", "op": "lt", "value": "2026-03-01T00:00:00+08:00"},
        {p["_id"] for p in PEOPLE},
    ),
    ({"field": "created_at", "op": "gt", "value": "2026-03-01T00:00:00+00:00"}, set()),
    (
        {
            "all": [
                {"field": "tags", "op": "contains", "value": "vip"},
                {
                    "any": [
                        {"field": "attributes.city", "op": "eq", "value": "上海"},
                        {"field": "channels", "op": "contains", "value": "telegram"},
                    ]
                },
                {"field": "last_seen_at", "op": "within_days", "value": 30},
            ]
        },
        {"vip-sh"},
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES, ids=[str(i) for i in range(len(CASES))])
async def test_mongodb_and_memory_agree(
    core: Core, raw: dict[str, Any], expected: set[str]
) -> None:
    node = parse(raw)
    people = core.store.collection("filter_people")
    await people.insert_many([dict(p) for p in PEOPLE])
    found = {d["_id"] async for d in people.find(to_query(node, NOW), {"_id": 1})}
    in_memory = {p["_id"] for p in PEOPLE if matches(node, p, NOW)}
    assert found == expected
    assert in_memory == expected


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ([], "filter"),
        ({"all": []}, "filter.all"),
        ({"all": [{"field": "tags", "op": "eq", "value": "x"}]}, "filter.all.0.op"),
        ({"any": [{"field": "nope", "op": "eq", "value": 1}]}, "filter.any.0.field"),
        ({"field": "attributes.$where", "op": "eq", "value": 1}, "filter.field"),
        ({"field": "attributes.a.b", "op": "eq", "value": 1}, "filter.field"),
        ({"field": "attributes.city", "op": "eq", "value": {"$gt": ""}}, "filter.value"),
        ({"field": "attributes.city", "op": "in", "value": "x"}, "filter.value"),
        ({"field": "attributes.city", "op": "lt", "value": True}, "filter.value"),
        ({"field": "consent.email", "op": "eq", "value": "maybe"}, "filter.value"),
        ({"field": "created_at", "op": "lt", "value": "2026-01-01"}, "filter.value"),
        ({"field": "last_seen_at", "op": "within_days", "value": -1}, "filter.value"),
        ({"field": "tags", "op": "contains"}, "filter.value"),
        ({"field": "tags", "op": "contains", "value": "x", "$where": 1}, "filter"),
        ({"all": [{"field": "tags", "op": "contains", "value": "x"}], "any": []}, "filter"),
    ],
)
def test_bad_filters_name_the_path(raw: Any, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse(raw)
    assert caught.value.field == field


def test_depth_and_size_are_capped() -> None:
    deep: dict[str, Any] = {"field": "tags", "op": "contains", "value": "x"}
    for _ in range(8):
        deep = {"all": [deep]}
    with pytest.raises(InvalidInput):
        parse(deep)
    wide = {"any": [{"field": "tags", "op": "contains", "value": str(i)} for i in range(101)]}
    with pytest.raises(InvalidInput):
        parse(wide)
