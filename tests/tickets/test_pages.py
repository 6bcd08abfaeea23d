"""The Tickets pages over HTTP (both lanes): who may open them, a ticket of another team is
a 404 page, the list searches by number or subject literally, and what a customer wrote is
escaped in the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.tickets.actions import do_create_ticket
from kith.tickets.feature import feature
from kith.tickets.models import Priority, TicketIn
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


async def _ticket(core: Core, cast: Cast, where: str, subject: str, **more: Any) -> Any:  # noqa: F811
    body = TicketIn(subject=subject, conversation_id=cast.conversations[where], **more)
    return await do_create_ticket(core, cast.workspace_id, body)


async def test_the_list_searches_by_number_or_subject_literally(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    await _ticket(core, cast, "shop", "Refund (order 12)")
    await _ticket(core, cast, "shop", "Where is it?", priority=Priority.high)
    await _ticket(core, cast, "help", "Crash on start")
    alice = await browser("admin")

    async def numbers(**params: Any) -> list[int]:
        answer = await alice.api("GET", "/tickets", params=params)
        assert answer.status_code == 200, answer.text
        return [t["number"] for t in answer.json()["items"]]

    assert await numbers(q="#2") == [2]
    assert await numbers(q="3") == [3]
    assert await numbers(q="2") == [2]  # ticket 2: "12" is a word of its own, not "2"
    assert await numbers(q="12") == [1]  # no ticket 12: "12" is in a subject
    assert await numbers(q="refund (ORDER") == [1]  # a parenthesis is text, not a pattern
    assert await numbers(q="it?") == [2]
    assert await numbers(q=".*") == []
    assert await numbers(q="crash", priority="high") == []
    assert await numbers(q="   ") == [3, 2, 1]
    too_long = await alice.api("GET", "/tickets", params={"q": "x" * 201})
    assert (too_long.status_code, too_long.json()["error"]["field"]) == (422, "q")


async def test_the_list_searches_descriptions_and_customers_names_and_emails(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    # Ada's ticket quotes her "Where is my order?"; Grace's says what crashed, in Chinese.
    await _ticket(core, cast, "shop", "Late parcel")
    crash = await _ticket(core, cast, "help", "Crash", description="应用启动时闪退")
    alice = await browser("admin")

    async def numbers(**params: Any) -> list[int]:
        answer = await alice.api("GET", "/tickets", params=params)
        assert answer.status_code == 200, answer.text
        return [t["number"] for t in answer.json()["items"]]

    assert await numbers(q="order") == [1]  # a word of the description
    assert await numbers(q="闪退") == [2]  # Chinese, found by its characters
    assert await numbers(q="lovelace") == [1]  # the customer's name
    assert await numbers(q="Ada Lovelace") == [1]
    assert await numbers(q="ada@example.com") == [1]  # the customer's email address
    assert await numbers(q="ada", status="solved") == []  # with the other filters
    # The customer's words and the ticket's together: Grace Hopper's ticket about a crash.
    assert await numbers(q="hopper crash") == [2]
    assert await numbers(q="Grace 闪退") == [2]
    assert await numbers(q="hopper parcel") == []  # Grace's tickets are not about a parcel
    assert await numbers(q="ada crash") == []
    assert await numbers(q='{"$ne": null}') == []  # text, never an operator
    # A changed description is found by its new words, no longer by the old ones.
    changed = await alice.api("PATCH", f"/tickets/{crash.id}", json={"description": "黑屏"})
    assert changed.status_code == 200, changed.text
    assert await numbers(q="闪退") == []
    assert await numbers(q="黑屏") == [2]


async def test_the_pages_open_for_every_role_and_hide_other_teams_tickets(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    sales = cast.users["sales"].id
    ticket = await _ticket(core, cast, "shop", "Sales <b>only</b>", team_id=sales)
    alice, bob, mary = await browser("alice"), await browser("bob"), await browser("mary")
    anonymous = await browser()
    assert (await anonymous.http.get("/app/tickets")).headers["location"] == "/app/login"

    page = await alice.http.get(f"/app/tickets/{ticket.id}")
    assert page.status_code == 200
    assert "Sales &lt;b&gt;only&lt;/b&gt;" in page.text and "<b>only" not in page.text
    assert 'href="/app/tickets"' in page.text  # the navigation's link
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert (await bob.http.get(f"/app/tickets/{ticket.id}")).status_code == 404
    assert (await bob.http.get("/app/tickets/no-such-id")).status_code == 404

    for_mary = await mary.http.get(f"/app/tickets/{ticket.id}")
    assert for_mary.status_code == 200
    assert 'data-can-write="false"' in for_mary.text and 'id="note-form"' not in for_mary.text
    listing = await mary.http.get("/app/tickets")
    assert listing.status_code == 200 and 'href="/app/tickets"' not in listing.text
    zh = await alice.http.get("/app/tickets?lang=zh")
    assert "看板" in zh.text and "全部工单" in zh.text


@pytest.mark.parametrize("name", ["tickets.js", "ticket.js", "ticket_words.js", "tickets.css"])
async def test_the_scripts_are_served_from_a_fixed_list(
    name: str,
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    anyone = await browser()
    assert (await anyone.http.get(f"/app/tickets/static/{name}")).status_code == 200
    assert (await anyone.http.get("/app/tickets/static/page.py")).status_code == 404


async def test_a_description_shows_its_quotes_as_quotes_escaped(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    """Regression (QA, agent probe #12): a description opened from a conversation showed its
    quotes as lines starting with ">"."""
    text = "> Where is <b>it</b>?\n> Order 1042\nThe customer is upset.\n>STOP"
    ticket = await _ticket(core, cast, "shop", "Parcel", description=text)
    alice = await browser("alice")
    page = (await alice.http.get(f"/app/tickets/{ticket.id}")).text
    assert (
        '<div id="description" class="description"><blockquote>Where is &lt;b&gt;it&lt;/b&gt;?\n'
        "Order 1042</blockquote><p>The customer is upset.</p><blockquote>STOP</blockquote></div>"
    ) in page
