"""The conversation list's id filters take ids only (QA pass 8, minor 7:
`?customer_id={"$gt":""}` answered 200 with no items, as if it had filtered)."""

from __future__ import annotations

import pytest

from tests.api.conftest import ApiSetup


@pytest.mark.parametrize("name", ["customer_id", "assignee", "channel"])
@pytest.mark.parametrize("value", ['{"$gt":""}', "ada", "0123456789ABCDEF01234567", ""])
async def test_an_id_filter_that_is_no_id_is_refused_naming_it(
    api: ApiSetup, name: str, value: str
) -> None:
    answer = await api.http.get("/api/v1/conversations", params={name: value}, headers=api.auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == (name, "not_an_id")


async def test_every_bad_id_filter_is_named_at_once(api: ApiSetup) -> None:
    params = {"assignee": "me", "channel": "web", "customer_id": '{"$ne":null}'}
    answer = await api.http.get("/api/v1/conversations", params=params, headers=api.auth)
    assert answer.status_code == 422, answer.text
    assert [f["field"] for f in answer.json()["error"]["fields"]] == [
        "assignee",
        "channel",
        "customer_id",
    ]


async def test_real_ids_filter(api: ApiSetup) -> None:
    assert (await api.say("u-1", "hi")).status_code in (200, 201, 202)
    everything = await api.http.get("/api/v1/conversations", headers=api.auth)
    [conversation] = everything.json()["items"]
    params = {"customer_id": conversation["customer_id"], "channel": api.channel_id}
    found = await api.http.get("/api/v1/conversations", params=params, headers=api.auth)
    assert [c["id"] for c in found.json()["items"]] == [conversation["id"]]
    other = {"customer_id": "0" * 24}
    none = await api.http.get("/api/v1/conversations", params=other, headers=api.auth)
    assert none.status_code == 200
    assert none.json()["items"] == []
