"""The Broadcasts list asks the server again every 5 s, in Chromium, by keyboard, in English and
Chinese: a refresh that brings nothing new leaves the list as it is (the focused button, and a
screen reader's place, untouched), and one that changes a row draws it again with focus back
on that row's same control. A refresh that changes other rows (another draft renamed) leaves
a row that reads as before the element it was, so a click pressed on it across the refresh
still lands; and a row kept acts on its broadcast as last read.

Regression (H31): every refresh redrew the list, so a row button that had focus lost it to the
page's start every 5 s. Regression: every refresh that changed anything drew every row anew, so
a click pressed on one as another marketer saved a draft opened nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.broadcasts.actions import (
    broadcasts,
    do_create_broadcast,
    do_update_broadcast,
    get_broadcast,
)
from kith.broadcasts.models import BroadcastIn, BroadcastPatch
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.cast import api_channel, inbound
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
OTHER = Author(kind=AuthorKind.system, name="another marketer")
EDIT = {"en-US": "Edit", "zh-CN": "编辑"}


def edit_named(locale: str, name: str) -> str:
    """The row's Edit button as a screen reader names it: its broadcast said with it."""
    return EDIT[locale] + messages(locale[:2])["colon"] + name


# What has focus: its row's broadcast, its `data-action`, its text, and whether it is the
# very node marked before the refresh.
FOCUSED = """() => {
  const el = document.activeElement;
  const tr = el.closest("tr[data-id]");
  return [tr && tr.dataset.id, el.dataset.action, el.textContent, el === window.marked];
}"""
# Counts the times the list's rows are replaced.
WATCH = """() => {
  window.marked = document.activeElement;
  window.redraws = 0;
  new MutationObserver((records) => {
    window.redraws += records.filter((r) => r.addedNodes.length).length;
  }).observe(document.getElementById("broadcast-rows"), { childList: true });
}"""


async def seed(core: Core, workspace: Workspace) -> None:
    """Mary the marketer; two drafts to Ada."""
    await create_user(
        core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.marketer
    )
    channel, _ = await api_channel(core, workspace.id)
    ada = (await ingest(core, channel, inbound(channel, "ada", "hi"))).conversation.customer_id
    for name in ("Spring sale", "Autumn sale"):
        body = BroadcastIn.model_validate(
            {"name": name, "message": {"text": {"en": "Hello"}}, "channels": ["api"],
             "customer_ids": [ada]}
        )  # fmt: skip
        await do_create_broadcast(core, workspace.id, body, OTHER)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def another_marketer(core: Core, called: str, /, **change: object) -> None:
    """Another marketer changes the draft `called` so."""
    workspace_id = (await ensure_default_workspace(core)).id
    doc = await broadcasts(core).find_one({"workspace_id": workspace_id, "name": called})
    assert doc is not None
    draft = await get_broadcast(core, workspace_id, str(doc["_id"]))
    patch = BroadcastPatch.model_validate({**change, "version": draft.version})
    await do_update_broadcast(core, draft, patch, OTHER)


async def refresh(page) -> None:
    """The list's 5 s go by on the page's clock, and its question is answered."""
    async with page.expect_response(re.compile(r"/app/api/broadcasts\?limit=100$")):
        await page.clock.run_for(5_000)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_refresh_keeps_focus_on_the_rows_button(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.clock.install()
    await page.goto(live.url + "/app/broadcasts")
    row = page.get_by_role("row", name=re.compile("Spring sale"))
    edit = row.get_by_role("button", name=edit_named(locale, "Spring sale"), exact=True)
    await edit.focus()
    await expect(edit).to_be_focused()
    draft_id = await row.get_attribute("data-id")
    await page.evaluate(WATCH)

    await refresh(page)  # nothing changed: nothing redrawn

    # Meanwhile another marketer renames the draft; the next refresh shows it.
    await another_marketer(live.core, "Spring sale", name="Spring sale 2")
    await refresh(page)
    await expect(page.get_by_role("row", name=re.compile("Spring sale 2"))).to_be_visible()

    # one redraw (the rename's), and focus on the renamed row's Edit, a new node
    assert await page.evaluate("window.redraws") == 1
    assert await page.evaluate(FOCUSED) == [draft_id, "edit", EDIT[locale], False]
    await expect(
        page.get_by_role("row", name=re.compile("Spring sale 2")).get_by_role(
            "button", name=edit_named(locale, "Spring sale 2"), exact=True
        )
    ).to_be_focused()


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_list_shows_failed_sends_in_their_own_column(live: Live, locale: str) -> None:
    """QA 11 m5: a broadcast whose every send failed read "done, 0 sent, 0 skipped" in the list;
    the failed count has its own column, under its heading in the page's language."""
    from playwright.async_api import expect

    t = messages(locale[:2])
    core = live.core
    workspace_id = (await ensure_default_workspace(core)).id
    await broadcasts(core).update_one(
        {"workspace_id": workspace_id, "name": "Autumn sale"}, {"$set": {"stats.failed": 3}}
    )
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/broadcasts")
    row = page.get_by_role("row", name=re.compile("Autumn sale"))
    await expect(row.locator(f'td[data-label="{t["broadcasts_failed"]}"]')).to_have_text("3")
    other = page.get_by_role("row", name=re.compile("Spring sale"))
    await expect(other.locator(f'td[data-label="{t["broadcasts_failed"]}"]')).to_have_text("0")


async def test_a_click_across_a_refresh_that_changes_other_rows_lands(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.clock.install()
    await page.goto(live.url + "/app/broadcasts")
    spring = page.get_by_role("row", name=re.compile("Spring sale"))
    edit = spring.get_by_role("button", name=edit_named("en-US", "Spring sale"), exact=True)
    box = await edit.bounding_box()
    assert box is not None
    await page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.mouse.down()

    # Meanwhile the draft above it is renamed: that row is drawn anew, Spring sale's is kept.
    await another_marketer(live.core, "Autumn sale", name="Autumn sale 2")
    await refresh(page)
    await expect(page.get_by_role("row", name=re.compile("Autumn sale 2"))).to_be_visible()

    await page.mouse.up()
    await expect(page.locator("#editing-text")).to_contain_text("Spring sale")
    await expect(page.locator('#compose [name="name"]')).to_have_value("Spring sale")


async def test_a_row_kept_across_a_refresh_edits_the_draft_as_last_read(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.clock.install()
    await page.goto(live.url + "/app/broadcasts")
    spring = page.get_by_role("row", name=re.compile("Spring sale"))
    await expect(spring).to_be_visible()
    await page.evaluate(WATCH)

    # Another marketer rewrites the message, which the list does not show.
    await another_marketer(live.core, "Spring sale", message={"text": {"en": "Hello again"}})
    await refresh(page)
    assert await page.evaluate("window.redraws") == 0  # the row reads as before: kept

    await spring.get_by_role("button", name=edit_named("en-US", "Spring sale"), exact=True).click()
    await expect(page.locator('#compose [name="text_en"]')).to_have_value("Hello again")
    await page.get_by_role("button", name="Save changes").click()
    await expect(page.locator("#editing")).to_be_hidden()
