"""The inbox's new order form pressed twice (Enter, Enter in the unit price) while the first is
in flight makes one order; after the server refuses one, the form can be sent again."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.settings import Settings
from tests.orders.test_panel_browser import seed
from tests.support.browser import needs_chromium
from tests.support.held import Held
from tests.support.pages import Live, live_app

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_a_double_enter_in_the_order_form_makes_one_order(live: Live) -> None:
    from playwright.async_api import Route, expect

    page = await live.sign_in("alice@kith.test")
    await page.get_by_role("button", name=re.compile("李雷")).click()
    panel = page.get_by_role("region", name="Orders", exact=True)
    await panel.get_by_text("New order").click()
    await panel.get_by_label("Item").fill("Longjing tea")
    await panel.get_by_label("Unit price").fill("12.50")

    async def refuse(route: Route) -> None:  # the server refuses once (a 503 on the way)
        await route.fulfill(status=503, json={"error": {"message": "Try again shortly."}})

    await page.route("**/app/api/orders", refuse, times=1)
    price = panel.get_by_label("Unit price")
    await price.press("Enter")
    await expect(panel.get_by_role("status")).to_have_text("Try again shortly.")
    create = panel.get_by_role("button", name="Create order")
    await expect(create).to_be_enabled()  # back after the refusal
    assert await live.core.store.collection("orders").count_documents({}) == 0

    held = Held("/orders")
    await held.install(page)
    await price.press("Enter")
    await held.first()
    await page.keyboard.press("Enter")  # still in the unit price, the first on its way
    held.release()
    await expect(panel.get_by_role("status")).to_have_text("Order #1 created.")
    await expect(create).to_be_enabled()  # the panel stays: the form is ready for the next
    assert held.sent == 1
    assert await live.core.store.collection("orders").count_documents({}) == 1
    await expect(panel.get_by_role("listitem").filter(has_text="Order #")).to_have_count(1)
