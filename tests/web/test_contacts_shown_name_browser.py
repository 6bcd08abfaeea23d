"""A customer without a name goes by the name the inbox gives them (`Customer.shown_name`:
their first email, then phone; else "Customer 7F3A" from the end of their id) on the Contacts
list, on their contact page and on the ticket page, in English and Chinese. Before (h15): the
list and the contact page said "(no name)" and the ticket page linked them by their raw id."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.tickets.actions import do_create_ticket
from kith.tickets.models import TicketIn
from tests.support.browser import needs_chromium
from tests.support.cast import inbound
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
PEOPLE = {  # external id → what Kith knows of them
    "u-ada": {"name": "Ada <b>Lovelace</b>"},
    "u-mail": {"email": "grace@shop.example"},
    "u-phone": {"phone": "+8613800138000"},
    "u-none": {},
}


async def seed(core: Core, workspace: Workspace) -> None:
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    await create_user(core, workspace.id, "alice@kith.test", PASSWORD, name="Al", role=Role.admin)
    for uid, known in PEOPLE.items():
        said = await ingest(core, channel, inbound(channel, text="hi", user=InboundUser(id=uid)))
        customer_id = said.conversation.customer_id
        fields = {"name": known.get("name")}
        fields |= {"emails": [known["email"]]} if "email" in known else {}
        fields |= {"phones": [known["phone"]]} if "phone" in known else {}
        await core.store.customers.update_one({"_id": customer_id}, {"$set": fields})
        subject = TicketIn(subject=f"About {uid}", conversation_id=said.conversation.id)
        await do_create_ticket(core, workspace.id, subject)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def _shown(live: Live, word: str) -> dict[str, str]:
    """customer id → the name the pages should show."""
    shown = {}
    for uid, known in PEOPLE.items():
        identity = await live.core.store.identities.find_one({"external_id": uid})
        customer_id = identity["customer_id"]
        fallback = f"{word} {customer_id[-4:].upper()}"
        shown[customer_id] = (
            known.get("name") or known.get("email") or known.get("phone") or fallback
        )
    return shown


@pytest.mark.parametrize(("locale", "word"), [("en-US", "Customer"), ("zh-CN", "客户")])
async def test_the_contacts_list_and_page_show_the_inbox_name(
    live: Live, locale: str, word: str
) -> None:
    from playwright.async_api import expect

    shown = await _shown(live, word)
    page = await live.sign_in("alice@kith.test", locale=locale)
    await page.goto(live.url + "/app/contacts")
    for customer_id, name in shown.items():
        link = page.locator(f'#contacts a[href="/app/contacts/{customer_id}"]')
        await expect(link).to_have_text(name)  # customer text as text, never markup
    await expect(page.locator("#contacts b")).to_have_count(0)

    # By keyboard: the email-only customer's link, then their page's heading and title.
    mail_id = next(c for c, n in shown.items() if n == "grace@shop.example")
    link = page.locator(f'#contacts a[href="/app/contacts/{mail_id}"]')
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#profile-heading")).to_have_text("grace@shop.example")
    await expect(page).to_have_title("grace@shop.example · Kith")
    nameless = next(c for c, n in shown.items() if n.startswith(word))
    await page.goto(live.url + f"/app/contacts/{nameless}")
    await expect(page.locator("#profile-heading")).to_have_text(shown[nameless])


@pytest.mark.parametrize(("locale", "word"), [("en-US", "Customer"), ("zh-CN", "客户")])
async def test_the_ticket_page_names_its_customer_as_the_inbox_does(
    live: Live, locale: str, word: str
) -> None:
    from playwright.async_api import expect

    shown = await _shown(live, word)
    tickets = await live.core.store.collection("tickets").find({}).to_list(None)
    assert len(tickets) == len(PEOPLE)
    page = await live.sign_in("alice@kith.test", locale=locale)
    for ticket in tickets:
        await page.goto(live.url + f"/app/tickets/{ticket['_id']}")
        link = page.locator("#customer-link")
        await expect(link).to_have_text(shown[ticket["customer_id"]])
        await expect(link).to_have_attribute("href", f"/app/contacts/{ticket['customer_id']}")
        assert ticket["customer_id"] not in await link.inner_text()

    # By keyboard, from the ticket to the customer's page.
    phone = next(t for t in tickets if shown[t["customer_id"]] == "+8613800138000")
    await page.goto(live.url + f"/app/tickets/{phone['_id']}")
    await page.locator("#customer-link").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#profile-heading")).to_have_text("+8613800138000")
