"""The Tickets list's Customer column in a real browser: each row names its customer (read by
the server for the whole page), linked to their page, a name made of markup shown as text, a
customer without a name as "Customer 7F3A"; in English and Chinese, and on a phone, where each
ticket is a labelled card with its customer and its tick box."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.models import Status, TicketIn
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
MARKUP = "<img src=x onerror=alert(1)>"
CUSTOMERS = (
    ("u-ada", "Ada Lovelace", "Refund please"),
    ("u-img", MARKUP, "Broken image"),
    ("u-anon", None, "Who am I"),
)


async def seed(core: Core, workspace: Workspace) -> None:
    """Alice (an agent of Web, the channel's team) and Mary (a marketer); a ticket for each of
    three customers (one named in markup, one unnamed), and a closed one of Ada's."""
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    team = await create_team(core, workspace.id, "Web", [channel.id])
    for name, role in (("alice", Role.agent), ("mary", Role.marketer)):
        user = await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )
        if role == Role.agent:
            await add_member(core, workspace.id, team.id, user.id)
    customers = {}
    for uid, name, _ in CUSTOMERS:
        message = InboundMessage.on(
            channel, channel_message_id=uid, user=InboundUser(id=uid, name=name), text="Hi"
        )
        customers[uid] = (await ingest(core, channel, message)).conversation.customer_id
    done = TicketIn(subject="Long done", customer_id=customers["u-ada"])
    closed = await do_create_ticket(core, workspace.id, done)
    await do_move_ticket(core, workspace.id, closed.id, Status.solved)
    await do_move_ticket(core, workspace.id, closed.id, Status.closed)
    for uid, _, subject in CUSTOMERS:
        ticket = TicketIn(subject=subject, customer_id=customers[uid])
        await do_create_ticket(core, workspace.id, ticket)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def customer_id(live: Live, subject: str) -> str:
    """The customer of the ticket of `subject`."""
    doc = await live.core.store.collection("tickets").find_one({"subject": subject})
    assert doc is not None
    return str(doc["customer_id"])


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_each_row_names_its_customer_as_text_linked_to_their_page(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    en, zh = locale == "en-US", messages("zh")
    page = await live.sign_in("alice@kith.test", locale=locale)
    await page.goto(live.url + "/app/tickets")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    await assert_every_control_is_named(page)
    table = page.get_by_role("table", name="All tickets" if en else zh["tickets_all"])
    column = "Customer" if en else zh["tickets_customer"]
    await expect(table.get_by_role("columnheader", name=column)).to_be_visible()
    await expect(table.locator("tbody tr")).to_have_count(4)

    ada = table.get_by_role("row", name="Refund please")
    link = ada.get_by_role("link", name="Ada Lovelace")
    await expect(link).to_have_attribute(
        "href", f"/app/contacts/{await customer_id(live, 'Refund please')}"
    )
    # A name made of markup is text: no image is made of it, no script runs (a dialog fails
    # the test: `Live.sign_in`).
    image = table.get_by_role("row", name="Broken image")
    await expect(image.get_by_role("link", name=MARKUP, exact=True)).to_be_visible()
    await expect(table.locator("tbody img")).to_have_count(0)
    code = (await customer_id(live, "Who am I"))[-4:].upper()
    unnamed = f"Customer {code}" if en else zh["customer_unnamed"].replace("{code}", code)
    await expect(
        table.get_by_role("row", name="Who am I").get_by_role("link", name=unnamed)
    ).to_be_visible()

    await link.click()
    await expect(page).to_have_url(
        live.url + f"/app/contacts/{await customer_id(live, 'Refund please')}"
    )


async def test_on_a_phone_each_card_names_its_customer_and_ticks_by_touch(live: Live) -> None:
    from playwright.async_api import expect

    zh = messages("zh")
    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.set_viewport_size({"width": 375, "height": 740})
    await page.goto(live.url + "/app/tickets")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    card = page.get_by_role("row", name="Refund please")
    customer = card.locator("td.customer")
    await expect(customer).to_have_attribute("data-label", zh["tickets_customer"])
    await expect(customer.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    box = await customer.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, box
    tick = card.get_by_role("checkbox", name=zh["tickets_select_one"].replace("{number}", "2"))
    await tick.click()
    await expect(tick).to_be_checked()
    await expect(page.get_by_text(zh["tickets_bulk_selected_one"])).to_be_visible()
    await expect(page.get_by_role("combobox", name=zh["tickets_bulk_change"])).to_be_visible()
    scroll = await page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll[0] <= scroll[1], scroll


async def test_a_marketer_reads_the_customers_with_no_ticks_and_no_new_ticket(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.goto(live.url + "/app/tickets")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    table = page.get_by_role("table", name="All tickets")
    await expect(
        table.get_by_role("row", name="Refund please").get_by_role("link", name="Ada Lovelace")
    ).to_be_visible()
    await expect(page.get_by_role("checkbox")).to_have_count(0)
    await expect(page.get_by_role("button", name="New ticket")).to_have_count(0)
