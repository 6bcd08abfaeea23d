"""A refused request names every bad field at once (`fields`), not one per attempt.

`field`, `message`, `reason` and `limits` stay those of the first bad field (an unknown key
first), so a client that reads one field keeps working; `fields` lists each bad field once,
that one first, each with its own four. Runs on both engines like every database test.
"""

from __future__ import annotations

import httpx
import pytest

from kith.core.context import Core
from tests.api.conftest import ApiSetup, make_setup


@pytest.fixture
async def api(core: Core, client: httpx.AsyncClient, workspace_id: str) -> ApiSetup:
    return await make_setup(core, client, workspace_id)


def refusal(answer: httpx.Response) -> dict[str, object]:
    assert answer.status_code == 422, answer.text
    error: dict[str, object] = answer.json()["error"]
    fields = error["fields"]
    assert isinstance(fields, list) and fields, error
    first = {key: error[key] for key in ("field", "message", "reason", "limits")}
    assert fields[0] == first, "the first of `fields` is the one `field` names"
    return error


def named(error: dict[str, object]) -> list[tuple[str, str]]:
    fields = error["fields"]
    assert isinstance(fields, list)
    return [(f["field"], f["reason"]) for f in fields]


async def a_customer(api: ApiSetup, core: Core) -> str:
    assert (await api.say("u-ada", "hello")).status_code == 200
    customer = await core.store.customers.find_one({})
    assert customer is not None
    return str(customer["_id"])


async def test_a_body_with_two_bad_fields_names_both(api: ApiSetup, core: Core) -> None:
    customer_id = await a_customer(api, core)
    answer = await api.http.patch(
        f"/api/v1/customers/{customer_id}",
        json={"name": "n" * 300, "locale": "not a language!"},
        headers=api.auth,
    )
    error = refusal(answer)
    assert named(error) == [("name", "string_too_long"), ("locale", "value_error")]
    assert error["field"] == "name" and error["limits"] == {"max_length": 256}
    assert error["fields"][1]["message"]  # type: ignore[index]
    stored = await core.store.customers.find_one({"_id": customer_id})
    assert stored is not None and stored.get("locale") is None  # nothing was changed


async def test_a_query_with_two_bad_parameters_names_both(api: ApiSetup) -> None:
    answer = await api.http.get(
        "/api/v1/conversations", params={"limit": "0", "assignee": "a" * 65}, headers=api.auth
    )
    error = refusal(answer)
    assert named(error) == [("assignee", "string_too_long"), ("limit", "greater_than_equal")]
    assert error["fields"][1]["limits"] == {"ge": 1}  # type: ignore[index]


async def test_a_field_a_union_refuses_several_times_is_named_once(
    api: ApiSetup, core: Core
) -> None:
    """An attribute is a string, an integer, a number or a boolean: pydantic refuses a list
    once per type, each at a location with the type's label (`attributes.vip.str`). The
    answer names the field itself, once."""
    customer_id = await a_customer(api, core)
    answer = await api.http.patch(
        f"/api/v1/customers/{customer_id}",
        json={"attributes": {"vip": [1]}, "timezone": "Mars/Olympus"},
        headers=api.auth,
    )
    error = refusal(answer)
    assert [field for field, _ in named(error)] == ["timezone", "attributes.vip"]


async def test_an_unknown_key_comes_before_a_missing_one(api: ApiSetup, core: Core) -> None:
    """Pydantic lists the unknown key last; it is named first because a misnamed key is
    often why the declared one is missing (`kind` sent for `type`)."""
    answer = await api.http.post(
        "/api/v1/channels", json={"kind": "api", "name": "Shop"}, headers=api.auth
    )
    error = refusal(answer)
    assert named(error) == [("kind", "extra_forbidden"), ("type", "missing")]
    assert error["message"] == "unknown field: this request does not take it"
    assert await core.store.channels.count_documents({"name": "Shop"}) == 0


async def test_a_channel_config_checked_by_hand_names_every_bad_setting(
    api: ApiSetup, core: Core
) -> None:
    """The config is validated after the request (its model depends on the type): that
    check, too, names every bad setting at once."""
    answer = await api.http.post(
        "/api/v1/channels",
        json={
            "type": "webchat",
            "name": "Site",
            "config": {"identity_secret": "short", "color": "red"},
        },
        headers=api.auth,
    )
    error = refusal(answer)
    assert named(error) == [
        ("config.identity_secret", "string_too_short"),
        ("config.color", "string_pattern_mismatch"),
    ]
    assert await core.store.channels.count_documents({"name": "Site"}) == 0


async def test_an_error_without_a_field_has_no_fields_and_one_with_a_field_has_it(
    api: ApiSetup,
) -> None:
    """One shape for every error: `fields` is always there."""
    missing = await api.http.get("/api/v1/no-such-thing", headers=api.auth)
    assert missing.status_code == 404
    assert missing.json()["error"]["fields"] == []
    broken = await api.http.post(
        "/api/v1/channels",
        content=b'{"type": ',
        headers={**api.auth, "content-type": "application/json"},
    )
    assert broken.status_code == 400
    error = broken.json()["error"]
    assert [f["field"] for f in error["fields"]] == ["body"] == [error["field"]]
