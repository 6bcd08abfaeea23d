"""The Contacts page's search box in a real browser: a phone as people type it and a tag in
another case find their customers (QA pass 4, M5). The page and its people are
`test_contacts_browser`'s."""

from __future__ import annotations

import pytest

import tests.web.test_contacts_browser as contacts_page
from tests.support.browser import needs_chromium
from tests.support.held import HeldFirst
from tests.support.pages import Live

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
live = contacts_page.live  # the fixture: a live server with the page's sample people


async def test_a_marketer_finds_a_phone_as_typed_and_a_tag_in_any_case(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    results = page.get_by_role("table", name="Customers")
    await contacts_page.search(page, "138 0000 0000")  # 李雷's +8613800000000
    await expect(results.get_by_role("row")).to_have_count(2)
    await expect(results.get_by_role("link", name="李雷")).to_be_visible()
    await contacts_page.search(page, "VIP")  # tagged `vip`
    await expect(results.get_by_role("row")).to_have_count(3)
    await expect(results.get_by_role("link", name="Ada Lovelace")).to_be_visible()
    await contacts_page.search(page, "0100")  # the last digits of Carol's +15550100
    await expect(results.get_by_role("row")).to_have_count(2)
    await expect(results.get_by_role("link", name="Carol <b>Chen</b>")).to_be_visible()


async def test_a_search_sent_before_the_first_list_keeps_its_answer(live: Live) -> None:
    """The unfiltered first list, landing after a search's answer, is not drawn under it."""
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    first = HeldFirst("/contacts", method="GET")
    await first.install(page)
    await page.reload()
    await first.first()
    results = page.get_by_role("table", name="Customers")
    await contacts_page.search(page, "李")
    await expect(results.get_by_role("row")).to_have_count(2)
    first.release()
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)  # the first answer is in
    await expect(results.get_by_role("row")).to_have_count(2)
    await expect(results.get_by_role("link", name="李雷")).to_be_visible()
