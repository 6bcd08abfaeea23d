"""Regressions (H3), both lanes: user JSON never reaches MongoDB as an operator. An object where
a value belongs (`{"$gt": ""}`), a `$`-key beside field, op and value, or a `$` in a field's key
is refused with a 422 naming the place; operator-shaped text is compared as text, on the real
server as on the embedded engine. And a filter is refused with every bad place at once."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.segments.membership import live
from kith.segments.records import get_segment
from kith.web.inbox.i18n import messages
from tests.segments.conftest import customer
from tests.segments.test_api import auth
from tests.web.conftest import (  # noqa: F401 (fixtures)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)

CITY = "attributes.city"


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ({"field": CITY, "op": "eq", "value": {"$gt": ""}}, "filter.value", "object_value"),
        ({"field": CITY, "op": "ne", "value": {"$ne": None}}, "filter.value", "object_value"),
        (
            {"field": CITY, "op": "in", "value": ["x", {"$gt": ""}]},
            "filter.value.1",
            "object_value",
        ),
        (
            {"field": "tags", "op": "contains", "value": {"$regex": "."}},
            "filter.value",
            "object_value",
        ),
        ({"field": "created_at", "op": "gt", "value": {"$gt": ""}}, "filter.value", "object_value"),
        ({"field": "attributes.$gt", "op": "eq", "value": "x"}, "filter.field", "bad_key"),
        ({"field": CITY, "op": "eq", "value": "x", "$where": "1"}, "filter", None),
        ({"any": [{"field": CITY, "op": "exists", "value": True}], "$or": []}, "filter", None),
    ],
)
async def test_operators_are_refused_naming_the_place(
    core: Core,
    client: httpx.AsyncClient,
    workspace_id: str,
    raw: dict[str, Any],
    field: str,
    reason: str | None,
) -> None:
    headers = await auth(core, workspace_id)
    await customer(core, workspace_id, "c-1", attributes={"city": "上海"})
    for path, body in (
        ("/api/v1/segments", {"name": "x", "filter": raw}),
        ("/api/v1/segments/preview", {"filter": raw}),
    ):
        answer = await client.post(path, json=body, headers=headers)
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert (error["field"], error.get("reason")) == (field, reason), error
    assert await core.store.collection("segments").count_documents({}) == 0


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"field": "tags", "op": "contains", "value": ""}, "filter.value"),
        ({"field": CITY, "op": "eq", "value": "   "}, "filter.value"),
        ({"field": CITY, "op": "in", "value": ["x", "\t"]}, "filter.value.1"),
    ],
)
async def test_a_blank_value_is_refused_when_saved_and_counts_no_one_while_typed(
    core: Core, client: httpx.AsyncClient, workspace_id: str, raw: dict[str, Any], field: str
) -> None:
    """QA 11 m4: a blank value was saved, a segment of no one. The live count of a form being
    filled in still answers (no one), as the page asks before a value is typed."""
    headers = await auth(core, workspace_id)
    await customer(core, workspace_id, "c-1", attributes={"city": "上海"}, tags=["vip"])
    answer = await client.post(
        "/api/v1/segments", json={"name": "x", "filter": raw}, headers=headers
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error.get("reason")) == (field, "blank_value"), error
    assert await core.store.collection("segments").count_documents({}) == 0
    counted = await client.post("/api/v1/segments/preview", json={"filter": raw}, headers=headers)
    assert counted.status_code == 200, counted.text
    assert counted.json()["count"] == 0


async def test_operator_shaped_text_is_compared_as_text(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    headers = await auth(core, workspace_id)
    await customer(core, workspace_id, "c-plain", attributes={"city": "上海"}, tags=["vip"])
    await customer(core, workspace_id, "c-dollar", attributes={"city": "$gt"}, tags=["$ne"])
    await customer(core, workspace_id, "c-json", attributes={"city": '{"$gt": ""}'})
    await customer(core, workspace_id, "c-dots", attributes={"city": "a.*b"})

    async def count(raw: dict[str, Any]) -> int:
        answer = await client.post(
            "/api/v1/segments/preview", json={"filter": raw}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        return int(answer.json()["count"])

    assert await count({"field": CITY, "op": "eq", "value": '{"$gt": ""}'}) == 1
    assert await count({"field": CITY, "op": "eq", "value": "$gt"}) == 1
    assert await count({"field": CITY, "op": "in", "value": ["$gt", "$exists"]}) == 1
    assert await count({"field": CITY, "op": "contains", "value": ".*"}) == 1  # a.*b only
    assert await count({"field": CITY, "op": "contains", "value": "$"}) == 2
    assert await count({"field": "tags", "op": "contains", "value": "$ne"}) == 1
    assert await count({"field": CITY, "op": "ne", "value": "$gt"}) == 3


async def test_every_bad_place_of_a_filter_is_refused_at_once(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    headers = await auth(core, workspace_id)
    raw = {
        "all": [
            {"field": "tags", "op": "contains", "value": "vip"},
            {"field": "attributes.bad key", "op": "eq", "value": "x"},
            {"any": [{"field": "created_at", "op": "lt", "value": "yesterday"}, {"all": []}]},
            {"field": "tags", "op": "eq", "value": {"$gt": ""}},
            {"field": "nope", "op": "nope"},
        ]
    }
    answer = await client.post(
        "/api/v1/segments", json={"name": "Broken", "filter": raw}, headers=headers
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "filter.all.1.field"
    assert [(f["field"], f["reason"]) for f in error["fields"]] == [
        ("filter.all.1.field", "bad_key"),
        ("filter.all.2.any.0.value", "bad_date"),
        ("filter.all.2.any.1.all", None),
        ("filter.all.3.op", None),
        ("filter.all.3.value", "object_value"),
        ("filter.all.4.field", "unknown_field"),
        ("filter.all.4.op", None),
        ("filter.all.4.value", None),
    ]


async def test_a_blank_value_stored_before_the_check_still_runs(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    """Blank values are refused where a filter is written; a segment saved with one before
    (QA 11 found `tags contains ""` saved) still parses wherever it runs: its page's count,
    membership on every event, and a rename."""
    headers = await auth(core, workspace_id)
    await customer(core, workspace_id, "c-1", attributes={"city": "上海"})
    made = await client.post(
        "/api/v1/segments",
        json={"name": "old", "filter": {"field": CITY, "op": "exists", "value": True}},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    segment_id = made.json()["id"]
    blank = {"field": "tags", "op": "contains", "value": ""}
    await core.store.collection("segments").update_one(
        {"_id": segment_id}, {"$set": {"filter": blank}, "$inc": {"revision": 1}}
    )
    segment = await get_segment(core, workspace_id, segment_id)
    assert live(core, segment).id == segment_id
    renamed = await client.patch(
        f"/api/v1/segments/{segment_id}", json={"name": "older"}, headers=headers
    )
    assert renamed.status_code == 200, renamed.text
    read = await client.get(f"/api/v1/segments/{segment_id}", headers=headers)
    assert read.status_code == 200 and read.json()["filter"] == blank


@pytest.mark.parametrize("locale", ["en", "zh"])
@pytest.mark.parametrize(
    "reason", ["bad_key", "bad_date", "object_value", "unknown_field", "blank_value"]
)
def test_every_reason_a_filter_is_refused_for_is_worded_in_both_languages(
    locale: str, reason: str
) -> None:
    """The builder says the API's refusal in its language by this key, else in English."""
    assert f"segments_reason_{reason}" in messages(locale)
