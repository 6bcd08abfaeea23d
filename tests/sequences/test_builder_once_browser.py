"""The sequence builder's Save pressed twice (Enter, Enter) on a new sequence while the first
is in flight makes one draft, then shows it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.held import Held
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_a_double_enter_in_the_builder_makes_one_draft(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.goto(live.url + "/app/sequences/new")
    await page.get_by_label("Text in English").first.fill("Welcome!")  # the first step's
    held = Held("/sequences")
    await held.install(page)
    name = page.get_by_label("Name", exact=True)
    await name.fill("Welcome series")
    await name.press("Enter")
    await held.first()
    await page.keyboard.press("Enter")  # still in the name, the first on its way
    held.release()
    await expect(page).to_have_url(re.compile(re.escape(live.url) + r"/app/sequences/(?!new$)\w+$"))
    await expect(page.get_by_role("heading", name="Welcome series")).to_be_visible()
    assert held.sent == 1
    assert await live.core.store.collection("sequences").count_documents({}) == 1
