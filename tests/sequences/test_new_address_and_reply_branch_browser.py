"""The sequence builder in Chromium, by keyboard, in English and Chinese (QA pass 7):

- minor 4: a new sequence, once saved, is at its own address (a reload shows it, not an
  empty builder), and Back does not lead to the empty builder it was made in;
- minor 11: a branch on "replied" while "stop when they reply" is ticked could never be
  taken: the save is refused and the branch's condition marked and focused, with why and what
  to change; unticking it saves. A new branch starts on a click while the box is ticked."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.sequences.store import get_sequence
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_new_sequence_is_at_its_own_address_once_saved(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/sequences")
    await page.goto(live.url + "/app/sequences/new")
    await page.get_by_label(t["sequences_text_en"]).first.fill("Welcome!")
    name = page.get_by_label(t["sequences_name"], exact=True)
    await name.fill("Spring 春季")
    await name.press("Enter")
    own = re.compile(re.escape(live.url) + r"/app/sequences/(?!new$)\w+$")
    await expect(page).to_have_url(own)
    await expect(page.get_by_role("heading", name="Spring 春季")).to_be_visible()
    made = page.url.rsplit("/", 1)[1]
    await page.reload()  # the saved sequence again, not an empty builder
    await expect(page.get_by_label(t["sequences_name"], exact=True)).to_have_value("Spring 春季")
    await expect(page.locator("#sequence-status")).to_have_text(t["sequences_state_draft"])
    await page.go_back()  # the list it came from, not the builder that made it
    await expect(page).to_have_url(live.url + "/app/sequences")
    assert await live.core.store.collection("sequences").count_documents({}) == 1
    assert (await live.core.store.collection("sequences").find_one({}) or {})["_id"] == made


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_branch_on_replied_that_a_reply_would_stop_is_refused_and_marked(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/sequences/new")
    await page.get_by_label(t["sequences_name"], exact=True).fill("Nudge")
    await page.get_by_label(t["sequences_text_en"]).first.fill("Hello")
    chooser = page.get_by_label(t["sequences_step_type"])
    for kind in ("branch", "end"):
        await chooser.focus()
        await chooser.select_option(kind)
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")  # Add step
    steps = page.locator("#steps > li")
    await expect(steps).to_have_count(3)
    condition = steps.nth(1).get_by_label(t["sequences_branch_if"])
    await expect(condition).to_have_value("clicked")  # a reply would stop it: not "replied"
    await steps.nth(1).get_by_label(t["sequences_branch_then"], exact=True).fill("end-1")
    await condition.select_option("replied")

    save = page.get_by_role("button", name=t["sequences_save"], exact=True)
    await save.focus()
    await page.keyboard.press("Enter")
    await expect(condition).to_be_focused()
    await expect(condition).to_have_attribute("aria-invalid", "true")
    words = t["reason_branch_on_reply_stops"]
    await expect(page.locator(".field-error")).to_have_text([words])
    await expect(page.locator("#builder-error")).to_contain_text(words)
    await expect(page).to_have_url(live.url + "/app/sequences/new")  # nothing made
    assert await live.core.store.collection("sequences").count_documents({}) == 0

    stop = page.get_by_label(t["sequences_stop_on_reply"])
    await stop.focus()
    await page.keyboard.press("Space")  # untick: a reply no longer ends it
    await expect(stop).not_to_be_checked()
    await save.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/app/sequences/(?!new$)\w+$"))
    made = page.url.rsplit("/", 1)[1]
    doc = await live.core.store.collection("sequences").find_one({"_id": made})
    assert doc is not None
    saved = await get_sequence(live.core, doc["workspace_id"], made)
    assert saved.stop_on_reply is False
    assert saved.model_dump(mode="json", by_alias=True)["steps"][1]["since"] == "replied"
