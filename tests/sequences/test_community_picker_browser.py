"""The "joined a community" trigger in Chromium, in English and Chinese, by keyboard: it took a
raw community id; now the workspace's communities are picked by title (a title is the group's
own text: shown as written, never as markup), kept when saved; one deleted since stays chosen
under its id and is refused at save beside the picker."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.communities.store import communities
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.sequences.actions import do_create_sequence
from kith.sequences.models import SequenceIn
from kith.sequences.store import get_sequence
from kith.web.inbox.i18n import messages
from tests.sequences.test_community_trigger import community
from tests.sequences.test_stats_whole import STEPS
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

CLUB = "Kettle Owners Club · 水壶俱乐部"
MARKUP = "<b>Tea</b> & friends"


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, role=Role.marketer)
    await community(core, workspace.id, CLUB, "-1001")
    await community(core, workspace.id, MARKUP, "-1002")
    body = SequenceIn.model_validate({"name": "Nurture", "channels": ["api"], "steps": STEPS})
    await do_create_sequence(core, workspace.id, body)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_community_trigger_picks_its_community_by_title(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    doc = await live.core.store.collection("sequences").find_one({})
    assert doc is not None
    club = await communities(live.core).find_one({"title": CLUB})
    assert club is not None
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/sequences/{doc['_id']}")
    await page.get_by_role("button", name=t["sequences_add_trigger"]).press("Enter")
    kind = page.get_by_label(t["sequences_trigger_kind"], exact=True)
    await expect(kind).to_be_focused()
    await kind.select_option("community_joined")
    await expect(kind).to_be_focused()
    await expect(kind.locator("option:checked")).to_have_text(
        t["sequences_trigger_community_joined"]
    )
    picker = page.get_by_label(t["sequences_trigger_community"], exact=True)
    option = t["sequences_community_option"]
    await expect(picker.locator("option")).to_have_text(
        [
            t["sequences_community_choose"],
            option.format(title=MARKUP, members=3),  # by title: "<b>" is text, not markup
            option.format(title=CLUB, members=3),
        ]
    )
    await expect(page.locator("#triggers b")).to_have_count(0)
    await page.keyboard.press("Tab")
    await expect(picker).to_be_focused()
    await picker.select_option(club["_id"])
    await assert_every_control_is_named(page)

    save = page.get_by_role("button", name=t["sequences_save"], exact=True)
    await save.press("Enter")
    await expect(page.locator("#notice")).to_contain_text(t["sequences_saved"])
    sequence = await get_sequence(live.core, doc["workspace_id"], doc["_id"])
    assert [(x.kind, x.value) for x in sequence.triggers] == [("community_joined", club["_id"])]
    await page.reload()
    await expect(picker).to_have_value(club["_id"])

    # The community is gone since: it stays chosen, named by its id, and the save is refused
    # beside the picker (not saved as another one, not silently dropped).
    await communities(live.core).delete_one({"_id": club["_id"]})
    await page.reload()
    await expect(picker).to_have_value(club["_id"])
    await expect(picker.locator("option:checked")).to_have_text(
        t["sequences_community_gone"].format(id=club["_id"])
    )
    await save.press("Enter")
    await expect(page.locator('[data-error-for="triggers.0.value"]')).to_have_text(
        t["reason_no_community"]
    )
    await expect(picker).to_have_attribute("aria-invalid", "true")
    await expect(picker).to_be_focused()
