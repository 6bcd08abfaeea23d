"""A group's conversation in the inbox, in Chromium: it goes by the group's name, and the
panel shows the group (who wrote, each a link to their contact page, names as text) and its
community, not the profile of whoever wrote first; in English and Chinese."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.communities.demo import CHAT
from kith.core.settings import Settings
from tests.communities.test_page_browser import HOSTILE, seed
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TITLE = str(CHAT["title"])


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed, reuse_seed=True) as app:
        yield app


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("en-US", {"people": "Who wrote here", "community": "Community", "members": "members"}),
        ("zh-CN", {"people": "在这里发言的人", "community": "社群", "members": "名成员"}),
    ],
)
async def test_the_inbox_shows_the_group_and_its_community_the_group_and_its_community(
    live: Live, locale: str, words: dict[str, str]
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale=locale)
    listed = page.locator("#conversations .conv", has_text=TITLE)
    await expect(listed).to_have_count(1)
    await listed.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#conv-title")).to_contain_text(TITLE)
    panel = page.locator("#group")
    await expect(panel.get_by_role("heading", name=TITLE)).to_be_visible()
    await expect(page.locator("#customer")).to_be_hidden()
    people = panel.get_by_role("heading", name=words["people"])
    await expect(people).to_be_visible()
    await expect(panel.locator("#group-people li")).to_have_count(12)  # the latest; the rest:
    await expect(panel.locator("#group-people-more")).to_contain_text(re.compile(r"\d+"))
    hostile = panel.get_by_role("link", name=HOSTILE)  # a name as text, never markup
    await expect(hostile).to_have_attribute("href", re.compile(r"^/app/contacts/"))
    slot = page.get_by_role("region", name=words["community"])
    await expect(slot).to_contain_text(re.compile(r"\d+ ?" + words["members"]))
    opener = slot.get_by_role("link", name=re.compile(re.escape(TITLE)))
    await expect(opener).to_have_attribute("href", re.compile(r"^/app/communities/"))
    await assert_every_control_is_named(page)
    await opener.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name=TITLE)).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/app/communities/"))
