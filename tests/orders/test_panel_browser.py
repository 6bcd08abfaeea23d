"""The Orders section of the inbox's customer panel in a real browser: an agent creates an
order from the conversation with the small form, marks it paid and ships it with a tracking
number; the customer is told on their channel; a marketer reads them in Chinese, without the
form or the buttons."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.teams import add_member, create_team
from tests.support.browser import EXPECT_TIMEOUT_MS, needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.support.written_dates import DAY
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed(core: Core, workspace: Workspace) -> None:
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    user = InboundUser(id="u-li", name="李雷", locale="zh-CN")
    message = InboundMessage.on(channel, channel_message_id="m1", user=user, text="我想买茶")
    await ingest(core, channel, message)
    team = await create_team(core, workspace.id, "Sales", [channel.id])
    for name, role in (("alice", Role.agent), ("mary", Role.marketer)):
        made = await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )
        await add_member(core, workspace.id, team.id, made.id)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_an_agent_creates_an_order_and_ships_it_from_the_panel(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.get_by_role("button", name=re.compile("李雷")).click()
    panel = page.get_by_role("region", name="Orders", exact=True)
    await expect(panel.get_by_text("No orders yet.")).to_be_visible()

    await panel.get_by_text("New order").click()
    await panel.get_by_label("Item").fill("Longjing tea <b>")
    await panel.get_by_label("Quantity").fill("2")
    await panel.get_by_label("Unit price").fill("12.505")
    await panel.get_by_role("button", name="Create order").click()
    price = panel.get_by_label("Unit price")  # refused at the field, which takes focus
    await expect(price).to_have_accessible_description(
        "A price like 12.50, with at most 2 decimals."
    )
    await expect(price).to_be_focused()
    await panel.get_by_label("Unit price").fill("12.50")
    await panel.get_by_label("Unit price").press("Enter")  # the keyboard submits the form
    await expect(panel.get_by_role("status")).to_have_text("Order #1 created.")
    order = panel.get_by_role("listitem").filter(has_text="Order #1")
    await expect(order).to_contain_text("pending · 25.00 CNY")
    # Its date as every page writes it (KithDom.date): "5 Dec 2026", never 12/5/2026.
    await expect(order).to_contain_text(re.compile(rf"pending · 25\.00 CNY · {DAY['en']}"))
    await expect(order).to_contain_text("Longjing tea <b> × 2")  # text, never markup

    await order.get_by_role("button", name="Mark paid #1").click()
    await expect(order).to_contain_text("paid · 25.00 CNY")
    await order.get_by_role("button", name="Mark shipped #1").click()
    await order.get_by_label("Tracking number (optional)").fill("SF1234567")
    await order.get_by_role("button", name="Ship", exact=True).click()
    await expect(order).to_contain_text("shipped · 25.00 CNY", timeout=EXPECT_TIMEOUT_MS)
    await expect(order).to_contain_text("Tracking number: SF1234567")
    await expect(order.get_by_role("button", name="Mark delivered #1")).to_be_visible()
    await assert_every_control_is_named(page)
    # The customer was told in their language, in the conversation (the inbox shows it).
    messages = page.get_by_role("list", name="Messages")
    await expect(messages.get_by_text("运单号：SF1234567")).to_be_visible(timeout=EXPECT_TIMEOUT_MS)
    await keep_screenshot(page, "inbox-orders.png", tmp_path)

    placed = datetime(2026, 12, 30, 12, 0, tzinfo=UTC)  # the 30th in any browser's time zone
    await live.core.store.collection("orders").update_one({}, {"$set": {"placed_at": placed}})
    mary = await live.sign_in("mary@kith.test", locale="zh-CN")  # the panel in Chinese
    conversation = await live.core.store.conversations.find_one({})
    assert conversation is not None
    await mary.goto(f"{live.url}/app?conversation={conversation['_id']}")
    marys = mary.get_by_role("region", name="订单", exact=True)
    await expect(marys.get_by_role("listitem").filter(has_text="订单 #1")).to_contain_text(
        "已发货 · 25.00 CNY · 2026年12月30日"  # not 2026/12/30
    )
    await expect(marys.get_by_role("listitem").filter(has_text="订单 #1")).to_contain_text(
        "运单号：SF1234567"  # the full-width colon of the page's language
    )
    await expect(marys.get_by_text("新建订单")).to_have_count(0)  # a marketer reads
    await expect(marys.get_by_role("button")).to_have_count(0)
