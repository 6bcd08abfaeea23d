"""Join requests in Chromium, by keyboard: a manager approves the demo's request (the
platform is asked, the row says by whom), a decline the platform refuses shows its reason in
the row and leaves the buttons, the filter shows the settled one, the mode is chosen in the
settings; the same section in Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.communities.demo import seed_demo_community
from kith.communities.demo_join_requests import ASKER, seed_demo_join_request
from kith.communities.join_requests import requests
from kith.communities.store import communities
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.communities.join_request_support import JoinAdmin, install_join_admin, request
from tests.support.browser import needs_chromium
from tests.support.consumers import drain
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
ZHANG = f"{ASKER['first_name']} {ASKER['last_name']}"
REFUSED = "424242555"


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[tuple[Live, JoinAdmin]]:
    admins: list[JoinAdmin] = []

    async def seed(core: Core, workspace: Workspace) -> None:
        await create_user(
            core, workspace.id, "admin@kith.test", PASSWORD, name="Ada", role=Role.admin
        )
        community = await seed_demo_community(core, workspace.id)
        await seed_demo_join_request(core, workspace.id, community.id)
        await drain(core)
        bo = request(community, 5, REFUSED, name="Bo Refused")
        await requests(core).insert_one(bo.to_doc())
        admin = install_join_admin(core)
        admin.refuse_users.add(REFUSED)
        admins.append(admin)

    async with live_app(settings, seed) as app:
        yield app, admins[0]


async def test_a_manager_approves_a_request_by_keyboard(
    live: tuple[Live, JoinAdmin], tmp_path: Path
) -> None:
    from playwright.async_api import expect

    app, admin = live
    doc = await communities(app.core).find_one({})
    assert doc is not None
    page = await app.sign_in("admin@kith.test")
    await page.goto(f"{app.url}/app/communities/{doc['_id']}")
    table = page.get_by_role("table", name="Join requests")
    await expect(table.get_by_role("row")).to_have_count(3)  # the header, two pending
    await assert_every_control_is_named(page)

    zhang = table.get_by_role("row").filter(has_text=ZHANG)
    await expect(zhang).to_contain_text("Shop window poster")
    await zhang.get_by_role("button", name=f"Approve the request of {ZHANG}").focus()
    await page.keyboard.press("Enter")
    await expect(zhang).to_contain_text("Approved by Ada")
    await expect(zhang.get_by_role("button")).to_have_count(0)
    await expect(zhang.locator("[data-error-for]")).to_be_empty()
    await expect(page.get_by_role("status")).to_have_text("Join request approved.")
    assert admin.named("approve_join_request") == [(doc["platform_chat_id"], str(ASKER["id"]))]
    stored = await requests(app.core).find_one({"platform_user_id": str(ASKER["id"])})
    assert stored is not None and stored["status"] == "approved"
    assert stored["decided_by"]["name"] == "Ada"

    bo = table.get_by_role("row").filter(has_text="Bo Refused")
    decline = bo.get_by_role("button", name="Decline the request of Bo Refused")
    await decline.focus()
    await page.keyboard.press("Enter")
    await expect(bo).to_contain_text("the platform refused: Bad Request: USER_CHANNELS_TOO_MUCH")
    await expect(decline).to_be_enabled()
    await expect(decline).to_be_focused()
    pending = await requests(app.core).find_one({"platform_user_id": REFUSED})
    assert pending is not None and pending["status"] == "pending"
    await keep_screenshot(page, "communities-join-requests-en.png", tmp_path)

    await (
        page.get_by_role("form", name="Filter join requests")
        .get_by_label("Status")
        .select_option("approved")
    )
    await (
        page.get_by_role("form", name="Filter join requests")
        .get_by_role("button", name="Show")
        .press("Enter")
    )
    table = page.get_by_role("table", name="Join requests")
    await expect(table.get_by_role("row")).to_have_count(2)
    await expect(table).to_contain_text("Approved by Ada")

    mode = page.get_by_label("Who lets in those asking to join")
    await mode.select_option("approve")
    await page.get_by_role("button", name="Save settings").press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Settings saved.")
    saved = await communities(app.core).find_one({"_id": doc["_id"]})
    assert saved is not None and saved["join_requests"]["mode"] == "approve"

    chinese = await app.sign_in("admin@kith.test", locale="zh-CN")
    await chinese.goto(f"{app.url}/app/communities/{doc['_id']}")
    await expect(chinese.get_by_role("heading", name="入群申请")).to_be_visible()
    asked = chinese.get_by_role("table", name="入群申请")
    await expect(asked.get_by_role("button", name="批准 Bo Refused 的入群申请")).to_be_visible()
    await expect(chinese.get_by_label("由谁批准入群申请")).to_have_value("approve")
    await assert_every_control_is_named(chinese)
    await keep_screenshot(chinese, "communities-join-requests-zh.png", tmp_path)
