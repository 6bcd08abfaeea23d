"""The ticket list refuses an id filter that is no id (an operator-shaped value, a typo) with
a 422 naming each such parameter, as the ticket routes refuse an unknown ticket id, instead of
an empty list a client would read as "none" (QA5 minor 6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.tickets.actions import do_create_ticket
from kith.tickets.feature import feature
from kith.tickets.models import TicketIn
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


@pytest.mark.parametrize("name", ["customer_id", "conversation_id", "assignee_id", "team_id"])
@pytest.mark.parametrize("value", ['{"$gt":""}', "nothex", "6B13E1E77CF08C68A28FAB4B", ""])
async def test_an_id_filter_that_is_no_id_is_refused_naming_it(
    token_api: httpx.AsyncClient, name: str, value: str
) -> None:
    answer = await token_api.get("/tickets", params={name: value})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert (error["field"], error["reason"]) == (name, "not_an_id")


async def test_every_bad_id_is_named_at_once_and_a_good_one_still_filters(
    core: Core,
    cast: Cast,  # noqa: F811
    token_api: httpx.AsyncClient,
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    body = TicketIn(subject="Where is it", conversation_id=cast.conversations["shop"])
    ticket = await do_create_ticket(core, cast.workspace_id, body)
    both = await token_api.get("/tickets", params={"customer_id": "x", "team_id": "$ne"})
    assert both.status_code == 422
    assert [f["field"] for f in both.json()["error"]["fields"]] == ["team_id", "customer_id"]
    found = await token_api.get("/tickets", params={"customer_id": ticket.customer_id})
    assert [t["id"] for t in found.json()["items"]] == [ticket.id]
    nobody = await token_api.get("/tickets", params={"customer_id": "0" * 24})
    assert (nobody.status_code, nobody.json()["items"]) == (200, [])
    alice = await browser("alice")  # the web app's list too
    refused = await alice.api("GET", "/tickets", params={"conversation_id": "nothex"})
    assert (refused.status_code, refused.json()["error"]["field"]) == (422, "conversation_id")
