"""A segment's refusals say everything at once, and in structured details a page words in
its language (both lanes):

- a blank name and a bad filter are refused in one answer, each at its field (QA: the name
  was refused only once the value was fixed);
- a segment a draft broadcast uses is refused (409) with the users listed as kind, id and
  name in `limits.users`, not only in an English sentence with ids (QA: the page showed that
  sentence raw in its top bar, also in Chinese)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.broadcasts.actions import do_create_broadcast
from kith.broadcasts.feature import feature as broadcasts_feature
from kith.broadcasts.models import BroadcastIn
from kith.core.context import Core
from kith.core.events import SYSTEM
from kith.core.features import install
from kith.segments.records import MAX_NAME
from kith.web.inbox.i18n import messages
from tests.segments.conftest import VIP
from tests.support.cast import api_token

BLANK_TAG = {"field": "tags", "op": "contains", "value": ""}


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"authorization": f"Bearer {await api_token(core, workspace_id)}"}


def refused(answer: httpx.Response) -> list[tuple[str, str | None]]:
    assert answer.status_code in (409, 422), answer.text
    return [(f["field"], f["reason"]) for f in answer.json()["error"]["fields"]]


async def test_a_blank_name_and_a_blank_value_are_refused_together(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.post(
        "/api/v1/segments", json={"name": "  ", "filter": BLANK_TAG}, headers=auth
    )
    assert refused(answer) == [("name", "blank"), ("filter.value", "blank_value")]
    assert answer.json()["error"]["field"] == "name"  # the form's first control first
    assert await core.store.collection("segments").count_documents({}) == 0


async def test_a_name_too_long_and_a_blank_value_are_refused_together(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Regression: the model's `max_length` refused a long name alone, before the filter
    was read; it is refused with the filter's refusals, at the name, with its limit."""
    long = "x" * (MAX_NAME + 1)
    answer = await client.post(
        "/api/v1/segments", json={"name": long, "filter": BLANK_TAG}, headers=auth
    )
    assert refused(answer) == [("name", "string_too_long"), ("filter.value", "blank_value")]
    error = answer.json()["error"]
    assert error["field"] == "name" and error["fields"][0]["limits"] == {"max_length": MAX_NAME}
    made = await client.post("/api/v1/segments", json={"name": "VIP", "filter": VIP}, headers=auth)
    url = f"/api/v1/segments/{made.json()['id']}"
    answer = await client.patch(url, json={"name": long, "filter": BLANK_TAG}, headers=auth)
    assert refused(answer) == [("name", "string_too_long"), ("filter.value", "blank_value")]
    kept = (await client.get(url, headers=auth)).json()
    assert (kept["name"], kept["filter"]) == ("VIP", VIP)
    assert await core.store.collection("segments").count_documents({}) == 1


async def test_a_new_segment_without_a_filter_is_refused_at_it(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Regression (this session's fuzzing): `"filter": null` was let through by the check
    made for a rename without a new filter, and failed storing (500)."""
    answer = await client.post(
        "/api/v1/segments", json={"name": "No filter", "filter": None}, headers=auth
    )
    assert answer.status_code == 422, answer.text
    assert [f["field"] for f in answer.json()["error"]["fields"]] == ["filter"]
    assert await core.store.collection("segments").count_documents({}) == 0


async def test_a_blank_name_and_a_bad_filter_are_refused_together(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    bad = {"all": [{"field": "attributes.", "op": "eq", "value": "x"}, BLANK_TAG]}
    answer = await client.post("/api/v1/segments", json={"name": "", "filter": bad}, headers=auth)
    assert refused(answer) == [
        ("name", "blank"),
        ("filter.all.0.field", "bad_key"),
        ("filter.all.1.value", "blank_value"),
    ]


async def test_a_change_refuses_a_blank_name_and_a_blank_value_together(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    made = await client.post("/api/v1/segments", json={"name": "VIP", "filter": VIP}, headers=auth)
    url = f"/api/v1/segments/{made.json()['id']}"
    answer = await client.patch(url, json={"name": " ", "filter": BLANK_TAG}, headers=auth)
    assert refused(answer) == [("name", "blank"), ("filter.value", "blank_value")]
    kept = (await client.get(url, headers=auth)).json()
    assert (kept["name"], kept["filter"]) == ("VIP", VIP)


async def test_a_segment_in_use_lists_its_users_for_the_page_to_word(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str], workspace_id: str
) -> None:
    install(core, [broadcasts_feature(core)])
    await core.start()
    made = await client.post("/api/v1/segments", json={"name": "VIP", "filter": VIP}, headers=auth)
    segment_id = made.json()["id"]
    body = BroadcastIn.model_validate(
        {
            "name": "QA inuse bc",
            "segment_id": segment_id,
            "message": {"text": {"en": "Hi"}},
            "channels": ["api"],
        }
    )
    broadcast = await do_create_broadcast(core, workspace_id, body, SYSTEM)
    answer = await client.delete(f"/api/v1/segments/{segment_id}", headers=auth)
    assert answer.status_code == 409
    error: dict[str, Any] = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("segment_id", "segment_in_use")
    assert error["limits"]["users"] == [
        {"kind": "broadcast", "id": broadcast.id, "name": "QA inuse bc"}
    ]
    assert error["limits"]["more"] == 0
    assert await core.store.collection("segments").count_documents({"_id": segment_id}) == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_pages_word_every_reason_a_segment_is_refused_for(lang: str) -> None:
    """The keys the Segments page looks up (`segments_reason_<reason>`), in both languages:
    the in-use one was only `reason_segment_in_use` (dom.js's generic key), so this page,
    which looks for its own, never found it."""
    words = messages(lang)
    reasons = ("segment_in_use", "blank", "string_too_long", "blank_value", "bad_key", "bad_date")
    for reason in reasons:
        assert words[f"segments_reason_{reason}"], reason
    for key in (
        "segments_user_broadcast",
        "segments_user_sequence",
        "segments_count_needs_key",
        "segments_bad_date_typed",
    ):
        assert words[key], key


async def test_a_blank_key_and_a_blank_value_are_refused_together(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """The builder's Attribute with nothing typed: the key and the value both marked."""
    blank = {"field": "attributes.", "op": "eq", "value": ""}
    answer = await client.post(
        "/api/v1/segments", json={"name": "City", "filter": blank}, headers=auth
    )
    assert refused(answer) == [("filter.field", "bad_key"), ("filter.value", "blank_value")]
