"""The sequence builder in Chromium, in English and Chinese: a save the server refuses for
several faults marks every field at fault, each with its reason in the page's language beside
it, the first focused; a save that mends one fault leaves the others marked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.web.inbox.i18n import messages
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

TEXT = '[data-field="steps.0.message.text.en"]'
GOAL = '[data-field="goal.segment_id"]'  # the goal's segment picker
TRIGGER = '[data-field="triggers.0.value"]'


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_every_refused_field_is_marked_in_the_pages_language(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/sequences/new")
    text = page.locator(TEXT)
    await text.fill("Hi {{ customer.nam }}")
    # No segment in the workspace: the goal's picker stays on "choose a segment", which is
    # refused as a goal without its segment (it said "no such segment").
    await page.get_by_label(t["sequences_goal_kind"]).select_option("segment_id")
    await expect(page.get_by_label(t["sequences_goal_segment_pick"])).to_have_value("")
    await page.get_by_role("button", name=t["sequences_add_trigger"]).press("Enter")
    await expect(page.get_by_label(t["sequences_trigger_kind"], exact=True)).to_be_focused()
    name = page.get_by_label(t["sequences_name"], exact=True)
    await name.fill("Welcome")
    await name.press("Enter")

    unknown = t["reason_unknown_variable"].format(variable="customer.nam", line=1, column=16)
    await expect(text).to_be_focused()  # the first fault
    await expect(page.locator('[data-error-for="steps.0.message.text.en"]')).to_have_text(unknown)
    await expect(page.locator('[data-error-for="goal.segment_id"]')).to_have_text(
        t["reason_goal_segment_missing"]
    )
    await expect(page.locator('[data-error-for="triggers.0.value"]')).to_have_text(
        t["reason_trigger_value"]
    )
    for control in (text, page.locator(GOAL), page.locator(TRIGGER)):
        await expect(control).to_have_attribute("aria-invalid", "true")
    banner = f"{t['sequences_error_at']} {t['sequences_errors_at'].format(n=3)}"
    await expect(page.locator("#builder-error")).to_have_text(banner)
    assert await live.core.store.collection("sequences").count_documents({}) == 0

    await text.fill("Hi {{ customer.name }}")  # one mended: the other two stay marked
    await name.press("Enter")
    await expect(page.locator(GOAL)).to_be_focused()
    await expect(text).not_to_have_attribute("aria-invalid", "true")
    await expect(page.locator('[data-error-for="steps.0.message.text.en"]')).to_have_count(0)
    await expect(page.locator(TRIGGER)).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#builder-error")).to_have_text(
        f"{t['sequences_error_at']} {t['sequences_errors_at'].format(n=2)}"
    )
