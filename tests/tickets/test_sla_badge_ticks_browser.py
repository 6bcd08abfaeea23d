"""The SLA badges tick while the Tickets page is open: on the page's one timer, from the due
and warning moments the page already has, a badge's words and colour change when its warning
comes ("Breach soon") and when its due time passes ("Breached"), in the list (English) and on
the board (Chinese, the card keeping the keyboard's focus and its name following the badge).
The browser's clock is run forward (Playwright's `clock`), nothing is waited for."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.context import Core
from kith.core.models import Workspace
from kith.core.settings import Settings
from kith.tickets.actions import do_create_ticket
from kith.tickets.models import TicketIn
from kith.tickets.sla_models import PolicyIn, Targets
from kith.tickets.sla_store import save_policy
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.tickets.test_tickets_browser import seed

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
MINUTE = 60_000  # ms


async def seed_due(core: Core, workspace: Workspace) -> None:
    """The list's seed, a policy around the clock warning 10 minutes ahead, and a ticket of
    李雷's whose first reply is due in an hour (its warning in 50 minutes)."""
    await seed(core, workspace)
    targets = Targets(first_reply=60, resolution=8 * 60)
    policy = PolicyIn(
        name="Standard", default=True, targets={"normal": targets}, warn_before_minutes=10
    )
    await save_policy(core, workspace.id, policy)
    identity = await core.store.identities.find_one({"external_id": "u-li"})
    assert identity is not None
    body = TicketIn(subject="Due in an hour", customer_id=identity["customer_id"])
    await do_create_ticket(core, workspace.id, body)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed_due) as app:
        yield app


async def test_a_list_badge_warns_then_breaches_as_time_passes(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test")
    await page.clock.install()
    await page.goto(live.url + "/app/tickets")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    table = page.get_by_role("table", name="All tickets")
    badge = table.get_by_role("row", name=re.compile("Due in an hour")).locator(".sla-badge")
    await expect(badge).to_have_text(
        re.compile(r"^Next breach: First reply in (59 min|1 h 0 min)$")
    )
    await expect(badge).to_have_class(re.compile(r"\bsla-next\b"))

    await page.clock.fast_forward(51 * MINUTE)  # past the warning moment
    await expect(badge).to_have_text(re.compile(r"^Breach soon: First reply in (8|9) min$"))
    await expect(badge).to_have_class(re.compile(r"\bsla-soon\b"))

    await page.clock.fast_forward(10 * MINUTE)  # past the due time
    await expect(badge).to_have_text(re.compile(r"^Breached: First reply, (1|2) min overdue$"))
    await expect(badge).to_have_class(re.compile(r"\bsla-breached\b"))


async def test_a_board_card_ticks_in_chinese_and_keeps_the_focus(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale="zh-CN")
    await page.clock.install()
    await page.goto(live.url + "/app/tickets?view=board")
    await expect(page.locator("body[data-ready=true]")).to_have_count(1)
    card = page.get_by_role("listitem", name=re.compile("Due in an hour"))
    badge = card.locator(".sla-badge")
    await expect(badge).to_have_text(re.compile(r"^下次违约：首次回复，(59 分钟|1 小时 0 分钟)后$"))
    await card.focus()

    await page.clock.fast_forward(29 * MINUTE)  # still well ahead: the words shrink, no warning
    await expect(badge).to_have_text(re.compile(r"^下次违约：首次回复，(30|31) 分钟后$"))
    await expect(badge).to_have_class(re.compile(r"\bsla-next\b"))

    await page.clock.fast_forward(22 * MINUTE)
    await expect(badge).to_have_text(re.compile(r"^即将违约：首次回复，(8|9) 分钟后$"))
    await expect(badge).to_have_class(re.compile(r"\bsla-soon\b"))
    await expect(card).to_have_accessible_name(re.compile(r"即将违约：首次回复，(8|9) 分钟后$"))

    await page.clock.fast_forward(10 * MINUTE)
    await expect(badge).to_have_text(re.compile(r"^已违约：首次回复，已超时 (1|2) 分钟$"))
    await expect(badge).to_have_class(re.compile(r"\bsla-breached\b"))
    await expect(card).to_be_focused()  # worded again in place, not drawn again
