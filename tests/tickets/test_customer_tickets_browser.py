"""The customer page's Tickets section in a real browser: the customer's tickets, each
linked to its page with its status and priority in the page's language, their subjects as
text; a customer without one is told so (QA probe: the page had no tickets at all)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from kith.tickets.actions import do_create_ticket
from kith.tickets.models import TicketIn
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
HOSTILE = "Leaks <img src=x onerror=alert(1)>"


async def seed(core: Core, workspace: Workspace) -> None:
    """Ada with two tickets, Grace with none; an agent of the channel's team."""
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    for n, (user_id, name) in enumerate((("u-ada", "Ada Lovelace"), ("u-grace", "Grace"))):
        user = InboundUser(id=user_id, name=name)
        message = InboundMessage.on(channel, channel_message_id=f"m{n}", user=user, text="hi")
        received = await ingest(core, channel, message)
        if user_id == "u-ada":
            customer_id = received.conversation.customer_id
            for subject, priority in ((HOSTILE, "high"), ("Refund", "normal")):
                body = TicketIn(subject=subject, customer_id=customer_id, priority=priority)
                await do_create_ticket(core, workspace.id, body)
    alice = await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.agent
    )
    team = await create_team(core, workspace.id, "Support", [channel.id])
    await add_member(core, workspace.id, team.id, alice.id)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def customer_page(live: Live, name: str) -> str:
    doc = await live.core.store.customers.find_one({"name": name})
    assert doc is not None
    return f"{live.url}/app/contacts/{doc['_id']}"


@pytest.mark.parametrize(
    ("locale", "heading", "words", "none"),
    [
        ("en-US", "Tickets", ("New", "High"), "No tickets for this customer yet."),
        ("zh-CN", "工单", ("新建", "高"), "这位客户还没有工单。"),
    ],
)
async def test_a_customers_page_lists_their_tickets(
    live: Live, locale: str, heading: str, words: tuple[str, str], none: str
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale=locale)
    await page.goto(await customer_page(live, "Ada Lovelace"))
    tickets = page.get_by_role("region", name=heading, exact=True).get_by_role("listitem")
    await expect(tickets).to_have_count(2)
    hostile = tickets.filter(has_text=HOSTILE)
    await expect(hostile).to_contain_text(words[0])
    await expect(hostile).to_contain_text(words[1])
    assert await page.locator("#customer-tickets img").count() == 0  # the subject is text
    await hostile.get_by_role("link").click()
    await expect(page).to_have_url(re.compile(r"/app/tickets/[^/]+$"))
    await expect(page.locator("#ticket-subject")).to_have_text(HOSTILE)

    await page.goto(await customer_page(live, "Grace"))
    region = page.get_by_role("region", name=heading, exact=True)
    await expect(region.get_by_text(none)).to_be_visible()
    await expect(region.get_by_role("listitem")).to_have_count(0)


async def test_a_long_subject_keeps_the_ticket_header_one_row(live: Live) -> None:
    """At 1366 px a long subject is one line cut short (whole in its title), and a change's
    "Saved." shows beside the controls too, not only in the header far away (agent probe)."""
    from playwright.async_api import expect

    from kith.core.workspaces import ensure_default_workspace

    workspace = await ensure_default_workspace(live.core)
    ada = await live.core.store.customers.find_one({"name": "Ada Lovelace"})
    assert ada is not None
    subject = "The kettle I bought last month leaks from the base whenever it boils " * 2
    body = TicketIn(subject=subject.strip(), customer_id=ada["_id"])
    ticket = await do_create_ticket(live.core, workspace.id, body)
    page = await live.sign_in("alice@kith.test")
    await page.set_viewport_size({"width": 1366, "height": 768})
    await page.goto(f"{live.url}/app/tickets/{ticket.id}")
    title = page.get_by_role("heading", level=1)
    await expect(title).to_have_attribute("title", subject.strip())
    lines = await title.evaluate(
        "(h) => { const r = document.createRange(); r.selectNodeContents(h);"
        " return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }"
    )
    assert lines == 1
    await page.get_by_label("Priority").select_option("high")
    await expect(page.locator("#controls-saved")).to_have_text("Saved.")
    await expect(page.get_by_role("status").first).to_have_text("Saved.")
