"""A new ticket from the Tickets list, in a real browser and by keyboard: the dialog takes the
focus and gives it back, Escape closes it, the server's refusals show at their fields in the
page's language, the customer is found by the contacts search, and the new ticket's page
opens."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.settings import Settings
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.tickets.test_list_customer_browser import seed

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
# The page's words, as its i18n files have them (English checked as the words themselves).
KEYS = {
    "new": "tickets_new",
    "subject": "tickets_subject",
    "find": "find_customer",
    "customer": "find_customer_choice",
    "priority": "tickets_priority",
    "high": "ticket_priority_high",
    "create": "tickets_new_create",
    "empty": "reason_string_too_short_one",
    "no_customer": "tickets_new_customer_missing",
}
ENGLISH = {
    "new": "New ticket",
    "create": "Create ticket",
    "empty": "Cannot be empty (spaces alone do not count).",
    "no_customer": "Choose the customer the ticket is for: search above, then pick them.",
}


def words(language: str) -> dict[str, str]:
    said = messages(language)
    found = {name: said[key] for name, key in KEYS.items()}
    found["found"] = said["find_customer_found"].replace("{n}", "1")
    if language == "en":
        assert {name: found[name] for name in ENGLISH} == ENGLISH
    return found


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_new_ticket_is_opened_by_keyboard_and_its_page_shown(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    w = words(locale[:2])
    page = await live.sign_in("alice@kith.test", locale=locale)
    await page.goto(live.url + "/app/tickets")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    opener = page.get_by_role("button", name=w["new"])
    dialog = page.get_by_role("dialog", name=w["new"])

    # Escape closes it, the focus back on the button; nothing typed comes back.
    await opener.focus()
    await page.keyboard.press("Enter")
    subject = dialog.get_by_label(w["subject"])
    await expect(subject).to_be_focused()
    await assert_every_control_is_named(page)
    await page.keyboard.type("Gone")
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(subject).to_be_focused()
    await expect(subject).to_have_value("")

    # Spaces for a subject: the server's refusal at the subject, in the page's language.
    await page.keyboard.type("   ")
    await page.keyboard.press("Enter")
    await expect(dialog.get_by_text(w["empty"])).to_be_visible()
    await expect(subject).to_have_attribute("aria-invalid", "true")
    await expect(subject).to_be_focused()

    # No customer chosen: the server names the conversation or the customer; the page says it
    # at the customer's search, focused.
    await subject.fill("Parcel lost <again>")
    await page.keyboard.press("Enter")
    search = dialog.get_by_label(w["find"])
    await expect(dialog.get_by_text(w["no_customer"])).to_be_visible()
    await expect(search).to_be_focused()
    await expect(subject).not_to_have_attribute("aria-invalid", "true")

    await page.keyboard.type("Ada")
    await expect(dialog.get_by_text(w["found"], exact=True)).to_be_visible()
    chosen = dialog.locator("select[name=customer_id]")  # the first found, chosen
    await expect(chosen).to_have_value(re.compile(r"\w+"))
    await expect(chosen).to_have_accessible_name(re.compile("^" + w["customer"]))
    await dialog.get_by_label(w["priority"]).select_option(label=w["high"])
    await dialog.get_by_role("button", name=w["create"]).click()

    await expect(page).to_have_url(re.compile(re.escape(live.url) + r"/app/tickets/\w+$"))
    await expect(
        page.get_by_role("heading", name=re.compile("Parcel lost <again>"))
    ).to_be_visible()
    doc = await live.core.store.collection("tickets").find_one({"subject": "Parcel lost <again>"})
    assert doc is not None
    ada = await live.core.store.collection("tickets").find_one({"subject": "Refund please"})
    assert ada is not None
    assert (doc["customer_id"], doc["priority"], doc["source"]) == (
        ada["customer_id"],
        "high",
        "agent",
    )
    assert doc["created_by"]["name"] == "Alice"
    assert page.url.endswith("/app/tickets/" + doc["_id"])
    assert await live.core.store.collection("tickets").count_documents({"subject": "Gone"}) == 0
