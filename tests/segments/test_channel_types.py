"""Channel types are matched whatever their case (both lanes), and the builder offers the
types Kith knows rather than a free-text box (QA: `Telegram` matched no one, `telegram` 91)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kith.core.context import Core
from kith.segments.filters import matches, parse, to_query

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
PEOPLE = [
    {"_id": "tg", "channels": ["telegram"]},
    {"_id": "both", "channels": ["email", "telegram"]},
    {"_id": "mail", "channels": ["email"]},
]


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("contains", "Telegram", {"tg", "both"}),
        ("contains", " TELEGRAM ", {"tg", "both"}),
        ("not_contains", "Telegram", {"mail"}),
        ("contains", "telegram", {"tg", "both"}),
    ],
)
async def test_a_channel_type_matches_whatever_its_case(
    core: Core, op: str, value: str, expected: set[str]
) -> None:
    node = parse({"field": "channels", "op": op, "value": value})
    people = core.store.collection("channel_people")
    await people.insert_many([dict(p) for p in PEOPLE])
    found = {d["_id"] async for d in people.find(to_query(node, NOW), {"_id": 1})}
    assert found == expected
    assert {p["_id"] for p in PEOPLE if matches(node, p, NOW)} == expected
