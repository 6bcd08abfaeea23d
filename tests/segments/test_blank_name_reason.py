"""A segment's name is refused with a `reason` the page words in its language: `blank` when
only spaces are given, `string_too_long` with its limit when too long (QA pass 11, m2: the
zh page showed the server's English)."""

from __future__ import annotations

import httpx
import pytest

from kith.core.context import Core
from kith.segments.records import MAX_NAME
from tests.segments.conftest import VIP
from tests.support.cast import api_token


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"authorization": f"Bearer {await api_token(core, workspace_id)}"}


async def test_a_blank_name_is_refused_as_blank(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    answer = await client.post(
        "/api/v1/segments", json={"name": "   ", "filter": VIP}, headers=auth
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("name", "blank")


async def test_a_rename_to_blank_is_refused_as_blank(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    made = await client.post("/api/v1/segments", json={"name": "VIP", "filter": VIP}, headers=auth)
    assert made.status_code == 201, made.text
    url = f"/api/v1/segments/{made.json()['id']}"
    answer = await client.patch(url, json={"name": " \t "}, headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == ("name", "blank")


async def test_a_name_too_long_names_its_limit(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    name = "x" * MAX_NAME + "y"
    answer = await client.post("/api/v1/segments", json={"name": name, "filter": VIP}, headers=auth)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == "name" and error["reason"] == "string_too_long"
    assert error["limits"] == {"max_length": MAX_NAME}


async def test_a_full_length_name_with_spaces_around_is_kept_stripped(
    core: Core, client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """QA 11: the length was measured before the spaces were stripped."""
    name = "x" * MAX_NAME
    answer = await client.post(
        "/api/v1/segments", json={"name": f"  {name}  ", "filter": VIP}, headers=auth
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == name
