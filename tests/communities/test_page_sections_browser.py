"""The community page in Chromium, by keyboard: skip links reach each section (a join
request's Approve in a few Tabs, not a hundred past the roster), Lift is offered on the mute
alone and named for what it does, and at 390 px no table makes the page scroll sideways (each
scrolls in its own named box); the same in Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.communities.demo import CHAT, seed_demo_community
from kith.communities.demo_join_requests import ASKER, seed_demo_join_request
from kith.communities.demo_referrals import seed_demo_referrals
from kith.communities.store import communities
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.communities.audit_support import seed_audit
from tests.communities.join_request_support import install_join_admin
from tests.support.browser import needs_chromium
from tests.support.consumers import drain
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TITLE = str(CHAT["title"])
ZHANG = f"{ASKER['first_name']} {ASKER['last_name']}"
SECTIONS = ["Join requests", "Roster", "Moderation log", "Referrals and invite links"]
MANAGED = ["Settings", "Moderation rules"]
OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "admin@kith.test", PASSWORD, name="Ada", role=Role.admin)
    community = await seed_demo_community(core, workspace.id)
    await seed_demo_join_request(core, workspace.id, community.id)
    await seed_demo_referrals(core, workspace.id, community.id)  # a member's invite link
    await seed_audit(core, community)
    await drain(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed, prepare=install_join_admin, reuse_seed=True) as app:
        yield app


async def _path(live: Live) -> str:
    doc = await communities(live.core).find_one({"title": TITLE})
    assert doc is not None
    return f"{live.url}/app/communities/{doc['_id']}"


async def test_skip_links_reach_a_join_request_and_lift_is_on_the_mute_alone(
    live: Live,
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.goto(await _path(live))
    skips = page.get_by_role("navigation", name="Sections of this page").get_by_role("link")
    await expect(skips).to_have_text([f"Skip to {s}" for s in SECTIONS + MANAGED])

    await page.keyboard.press("Tab")  # the first Tab on the page: the first skip link
    first = skips.first
    await expect(first).to_be_focused()
    await expect(first).to_be_visible()  # shown while focused
    await page.keyboard.press("Enter")
    await expect(page.locator("#requests")).to_be_focused()
    approve = page.get_by_role("button", name=f"Approve the request of {ZHANG}")
    tabs = 0
    while not await approve.evaluate("b => b === document.activeElement") and tabs < 10:
        await page.keyboard.press("Tab")
        tabs += 1
    assert tabs <= 5, tabs  # the filter, its button, the scroll box, the member, Approve
    await page.keyboard.press("Enter")
    row = page.get_by_role("table", name="Join requests").get_by_role("row", name=ZHANG)
    await expect(row).to_contain_text("Approved by Ada")

    log_skip = skips.filter(has_text="Skip to Moderation log")
    await log_skip.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#audit")).to_be_focused()
    log = page.get_by_role("table", name="Moderation log")
    lifts = log.get_by_role("button")
    await expect(lifts).to_have_count(1)  # the mute taken; never a deletion or a warning
    await expect(lifts).to_have_accessible_name("Unmute Crypto Carl")
    await lifts.focus()
    await page.keyboard.press("Enter")
    await expect(log.get_by_role("row").filter(has_text="Lifted by Ada")).to_have_count(1)
    await expect(lifts).to_have_count(0)


@pytest.mark.parametrize(
    ("locale", "skip", "scroll"),
    [
        ("en-US", "Skip to Referrals and invite links", "Invite links table, scrolls sideways"),
        ("zh-CN", "跳到推荐与邀请链接", "邀请链接（可左右滚动）"),
    ],
)
async def test_at_390_px_no_table_scrolls_the_page(
    live: Live, locale: str, skip: str, scroll: str
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale=locale)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(await _path(live))
    await expect(page.get_by_role("link", name=skip)).to_be_attached()
    box = page.get_by_role("region", name=scroll)
    await expect(box).to_be_visible()
    assert await page.evaluate(OVERFLOW) <= 0  # the page itself never scrolls sideways
    wide = await box.evaluate("b => b.scrollWidth > b.clientWidth")
    assert not wide, "the invite links are labelled cards at 390 px: nothing to scroll"
    await box.focus()  # a keyboard user scrolls it with the arrows
    await page.keyboard.press("ArrowRight")
    await expect(box).to_be_focused()
    regions = page.locator(".table-scroll[role=region]:visible")
    assert await regions.count() >= 4  # roster, log, join requests, board, links …
    for n in range(await regions.count()):
        assert await regions.nth(n).get_attribute("tabindex") == "0"
        assert await regions.nth(n).get_attribute("aria-label")
    await assert_every_control_is_named(page)
