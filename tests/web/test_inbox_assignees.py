"""Who a conversation or a ticket may be given to, and how a refused change is worded.

QA (pass 7, Minor 5): the assignee lists offered "Demo Marketer", whose role is refused
replies (403), and the server took the assignment, so the conversation waited for nobody.
Now the users list says who can answer (`can_answer`: enabled agents and admins), and the
server refuses any other assignee with a 422 naming `assignee_id` and its reason, for a
conversation and a ticket alike. QA (pass 7, M1): each refusal of the inbox's header
carries a reason the page words in its user's language.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from kith.core.context import Core
from kith.core.features import install
from kith.tickets.feature import feature as tickets_feature
from kith.web.app import create_app
from tests.web.conftest import Cast


@pytest.fixture
async def app(core: Core) -> AsyncIterator[FastAPI]:
    """The inbox's app with the tickets installed (its panel opens them)."""
    install(core, [tickets_feature(core)])
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        yield manager.app  # type: ignore[misc]


def refusal(answer, field: str) -> dict:
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field, error
    return error


async def test_the_users_list_says_who_can_answer(cast: Cast, browser, core: Core) -> None:
    await core.store.users.update_one({"_id": cast.users["bob"].id}, {"$set": {"disabled": True}})
    alice = await browser("alice")
    users = (await alice.api("GET", "/users")).json()["items"]
    answering = {u["name"]: u["can_answer"] for u in users}
    assert answering == {"Admin": True, "Alice": True, "Bob": False, "Mary": False}


async def test_a_marketer_or_a_disabled_user_cannot_be_given_a_conversation(
    cast: Cast, browser, core: Core
) -> None:
    alice = await browser("alice")
    shop = cast.conversations["shop"]
    path = f"/conversations/{shop}"
    error = refusal(
        await alice.api("PATCH", path, json={"assignee_id": cast.users["mary"].id}), "assignee_id"
    )
    assert error["reason"] == "assignee_cannot_reply"
    await core.store.users.update_one({"_id": cast.users["bob"].id}, {"$set": {"disabled": True}})
    error = refusal(
        await alice.api("PATCH", path, json={"assignee_id": cast.users["bob"].id}), "assignee_id"
    )
    assert error["reason"] == "assignee_disabled"
    error = refusal(await alice.api("PATCH", path, json={"assignee_id": "nobody"}), "assignee_id")
    assert error["reason"] == "no_user"
    # Nothing was written, and an agent or an admin is taken as before.
    assert (await core.store.conversations.find_one({"_id": shop}))["assignee_id"] is None
    given = await alice.api("PATCH", path, json={"assignee_id": cast.users["admin"].id})
    assert given.status_code == 200, given.text
    assert given.json()["assignee_id"] == cast.users["admin"].id


async def test_a_marketer_cannot_be_given_a_ticket(cast: Cast, browser) -> None:
    alice = await browser("alice")
    made = await alice.api(
        "POST",
        "/tickets",
        json={"subject": "Late parcel", "conversation_id": cast.conversations["shop"]},
    )
    assert made.status_code == 201, made.text
    ticket = made.json()["id"]
    mary = cast.users["mary"].id
    error = refusal(
        await alice.api("PATCH", f"/tickets/{ticket}", json={"assignee_id": mary}), "assignee_id"
    )
    assert error["reason"] == "assignee_cannot_reply"
    error = refusal(
        await alice.api(
            "POST",
            "/tickets",
            json={
                "subject": "Again",
                "conversation_id": cast.conversations["shop"],
                "assignee_id": mary,
            },
        ),
        "assignee_id",
    )
    assert error["reason"] == "assignee_cannot_reply"
    alice_id = cast.users["alice"].id
    given = await alice.api("PATCH", f"/tickets/{ticket}", json={"assignee_id": alice_id})
    assert given.status_code == 200, given.text


async def test_the_headers_refusals_carry_a_reason_to_word(cast: Cast, browser) -> None:
    alice = await browser("alice")
    path = f"/conversations/{cast.conversations['shop']}"
    error = refusal(await alice.api("PATCH", path, json={"labels": ["x" * 65]}), "labels")
    assert (error["reason"], error["limits"]) == ("label_too_long", {"max_length": 64})
    assert error["message"] == "labels are at most 64 characters"
    past = {"status": "snoozed", "snoozed_until": "2000-01-01T00:00:00Z"}
    assert (
        refusal(await alice.api("PATCH", path, json=past), "snoozed_until")["reason"]
        == "snooze_past"
    )
    assert (
        refusal(await alice.api("PATCH", path, json={"team_id": "nope"}), "team_id")["reason"]
        == "no_team"
    )
