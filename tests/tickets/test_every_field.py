"""A ticket request with several faults is refused once, naming every one: an assignee and a
team that are not the workspace's, the customer the conversation is not, a move the status
does not allow. The first (`field`) and the status code are those a single fault earned before:
422 for a field, 409 for a move refused alone, 404 for an unknown customer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.tickets.feature import feature
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


@pytest.fixture(autouse=True)
def with_tickets(core: Core) -> None:
    install(core, [feature(core)])


def named(answer: httpx.Response) -> list[str]:
    return [f["field"] for f in answer.json()["error"]["fields"]]


async def test_a_new_ticket_is_refused_naming_every_bad_field(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    admin = await browser("admin")
    shop = cast.conversations["shop"]
    grace = await core.store.conversations.find_one({"_id": cast.conversations["help"]})
    assert grace is not None
    body = {
        "subject": "Where is it",
        "conversation_id": shop,
        "customer_id": grace["customer_id"],
        "assignee_id": "nobody",
        "team_id": "no-team",
    }
    answer = await admin.api("POST", "/tickets", json=body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "customer_id"
    assert named(answer) == ["customer_id", "assignee_id", "team_id"]

    neither = {"subject": "x", "assignee_id": "nobody", "team_id": "no-team"}
    answer = await admin.api("POST", "/tickets", json=neither)
    assert answer.status_code == 422, answer.text
    assert named(answer) == ["conversation_id", "assignee_id", "team_id"]

    people = {"subject": "x", "conversation_id": shop, "assignee_id": "a", "team_id": "b"}
    answer = await admin.api("POST", "/tickets", json=people)
    assert (answer.status_code, named(answer)) == (422, ["assignee_id", "team_id"])
    assert (await admin.api("GET", "/tickets")).json()["items"] == []  # nothing opened


async def test_an_unknown_customer_is_still_a_404_of_its_own(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    admin = await browser("admin")
    body = {"subject": "x", "customer_id": "nope", "assignee_id": "nobody"}
    answer = await admin.api("POST", "/tickets", json=body)
    assert (answer.status_code, answer.json()["error"]["field"]) == (404, "customer_id")


async def test_a_change_is_refused_naming_every_bad_field_and_writes_nothing(
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    admin = await browser("admin")
    body = {"subject": "Where is it", "conversation_id": cast.conversations["shop"]}
    ticket = (await admin.api("POST", "/tickets", json=body)).json()
    path = f"/tickets/{ticket['id']}"

    change = {"assignee_id": "nobody", "team_id": "no-team", "status": "closed", "priority": "high"}
    answer = await admin.api("PATCH", path, json=change)
    assert answer.status_code == 422, answer.text  # the first fault's status, as before
    error = answer.json()["error"]
    assert error["field"] == "assignee_id"
    assert named(answer) == ["assignee_id", "team_id", "status"]
    moved = error["fields"][2]
    assert (moved["reason"], moved["limits"]["status"]) == ("transition_refused", "new")

    alone = await admin.api("PATCH", path, json={"status": "closed", "priority": "high"})
    assert (alone.status_code, named(alone)) == (409, ["status"])
    unchanged = (await admin.api("GET", path)).json()
    assert (unchanged["status"], unchanged["priority"], unchanged["assignee_id"]) == (
        "new",
        "normal",
        None,
    )
    assert unchanged["updated_at"] == ticket["updated_at"]
