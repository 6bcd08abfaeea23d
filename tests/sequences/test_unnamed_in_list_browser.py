"""A sequence whose name was stored blank (before names were checked) still reads in the list
as "(no name)", in English and Chinese, in its link and its move buttons, reached by
keyboard (QA pass 11, M2: Tab read an empty link)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.sequences.actions import do_create_sequence
from kith.sequences.models import SequenceIn
from kith.sequences.store import sequences
from tests.sequences.conftest import WELCOME
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)
    made = await do_create_sequence(core, workspace.id, SequenceIn.model_validate(WELCOME))
    await sequences(core).update_one({"_id": made.id}, {"$set": {"name": "  "}})


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize(
    ("locale", "unnamed", "activate"),
    [("en-US", "(no name)", "Activate: "), ("zh-CN", "（无名称）", "启用：")],
)
async def test_a_blank_name_reads_as_no_name(
    live: Live, locale: str, unnamed: str, activate: str
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/sequences")
    link = page.get_by_role("link", name=unnamed, exact=True)
    await expect(link).to_be_visible()
    await link.focus()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name=f"{activate}{unnamed}")).to_be_focused()
