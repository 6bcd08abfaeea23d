"""Settings → Users and Teams: a reload of the page's lists (after a row's Disable or Delete)
keeps what the admin already ticked in the half-filled new user's or new team's form, and the
focus on a ticked box; the form then creates with those choices. In a real browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.core.teams import create_team
from tests.support.browser import needs_chromium
from tests.support.held import Held
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )
    await create_user(core, workspace.id, "bob@kith.test", PASSWORD, name="Bob")
    for name in ("Sales", "Support", "Old"):
        await create_team(core, workspace.id, name)
    for name in ("Website", "Shop"):
        await create_channel(
            core, workspace.id, "api", name, {"callback_url": "http://integrator.test/kith"}
        )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_a_ticked_team_outlives_a_reload_of_the_users(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    bob = await live.core.store.users.find_one({"email": "bob@kith.test"})
    disabling = Held(f"/users/{bob['_id']}", method="PATCH")
    await disabling.install(page)
    await page.goto(live.url + "/app/admin/users")
    form = page.get_by_role("form", name="New user")
    sales = form.get_by_role("checkbox", name="Sales")
    await sales.check()

    await page.get_by_role("button", name="Disable: Bob").click()
    await page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await disabling.first()
    await sales.focus()  # back in the form while the list is about to reload
    disabling.release()
    await expect(page.get_by_role("row", name=re.compile("bob@kith.test"))).to_contain_text(
        "Disabled"
    )
    await expect(sales).to_be_checked()
    await expect(sales).to_be_focused()
    await expect(form.get_by_role("checkbox", name="Support")).not_to_be_checked()

    await form.get_by_label("Name").fill("Carol")
    await form.get_by_label("Email").fill("carol@kith.test")
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Create user").click()
    await expect(page.get_by_role("status")).to_have_text("User created.")
    await expect(sales).not_to_be_checked()  # a new form again
    carol = await live.core.store.users.find_one({"email": "carol@kith.test"})
    team = await live.core.store.teams.find_one({"name": "Sales"})
    assert carol["team_ids"] == [team["_id"]]


async def test_a_ticked_channel_outlives_a_reload_of_the_teams(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/admin/teams")
    form = page.get_by_role("form", name="New team")
    website = form.get_by_role("checkbox", name="Website (api)")
    await website.check()

    await page.get_by_role("button", name="Delete: Old").click()
    await page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await expect(page.get_by_role("status")).to_have_text(re.compile("Old"))
    await expect(page.get_by_role("button", name="Delete: Old")).to_have_count(0)
    await expect(website).to_be_checked()
    await expect(form.get_by_role("checkbox", name="Shop (api)")).not_to_be_checked()

    await form.get_by_label("Name", exact=True).fill("Web")
    await form.get_by_role("button", name="Create team").click()
    await expect(page.get_by_role("status")).to_have_text("Team created.")
    await expect(website).not_to_be_checked()
    team = await live.core.store.teams.find_one({"name": "Web"})
    channel = await live.core.store.channels.find_one({"name": "Website"})
    assert team["channel_ids"] == [channel["_id"]]
