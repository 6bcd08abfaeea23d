"""The settings pages in a real browser (Debian's Chromium via Playwright) against a live server.

An admin signs in through the login form, follows the inbox's Settings link, and manages
users, teams and bots by the controls' accessible names only.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def seed(core: Core, workspace: Workspace) -> None:
    await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    for name, role in (("admin", Role.admin), ("mary", Role.marketer)):
        await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_an_admin_creates_a_user_and_a_team_and_adds_the_user(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.get_by_role("link", name="Settings").click()
    await expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    users = page.get_by_role("table", name="Users")
    await expect(users.get_by_role("row", name=re.compile("admin@kith.test"))).to_be_visible()
    await assert_every_control_is_named(page)

    form = page.get_by_role("form", name="New user")
    await form.get_by_label("Name").fill("Carol <b>Chen</b>")
    await form.get_by_label("Email").fill("carol@kith.test")
    await form.get_by_label("Password").fill("short")
    await form.get_by_label("Role").select_option(label="Agent")
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Create user").click()
    carol = users.get_by_role("row", name=re.compile("carol@kith.test"))
    await expect(carol).to_contain_text("Carol <b>Chen</b>")  # text, never markup
    await expect(page.get_by_role("status")).to_have_text("User created.")

    await (
        page.get_by_role("navigation", name="Settings sections")
        .get_by_role("link", name="Teams")
        .click()
    )
    await assert_every_control_is_named(page)
    new_team = page.get_by_role("form", name="New team")
    await new_team.get_by_label("Name").fill("Billing")
    await new_team.get_by_label("Website (api)").check()
    await new_team.get_by_role("button", name="Create team").click()
    billing = page.get_by_role("table", name="Teams").get_by_role("row", name=re.compile("Billing"))
    await expect(billing).to_contain_text("Website")

    await billing.get_by_role("button", name="Edit: Billing").click()
    dialog = page.get_by_role("dialog", name="Edit team: Billing")
    await dialog.get_by_label("Carol <b>Chen</b> <carol@kith.test>").check()
    await dialog.get_by_label("Name").fill("Billing & refunds")
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    renamed = page.get_by_role("table", name="Teams").get_by_role(
        "row", name=re.compile("Billing & refunds")
    )
    await expect(renamed).to_contain_text("Carol <b>Chen</b>")
    # The list drawn anew keeps the keyboard's place: on the renamed row's Edit.
    await expect(renamed.get_by_role("button", name="Edit: Billing & refunds")).to_be_focused()
    stored = await live.core.store.users.find_one({"email": "carol@kith.test"})
    team = await live.core.store.teams.find_one({"name": "Billing & refunds"})
    assert stored["team_ids"] == [team["_id"]]

    await page.get_by_role("link", name="Users").click()
    await page.get_by_role("button", name="Disable: Carol <b>Chen</b>").click()
    await page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await expect(carol).to_contain_text("Disabled")
    await expect(page.get_by_role("button", name="Enable: Carol <b>Chen</b>")).to_be_visible()
    assert (await live.core.store.users.find_one({"_id": stored["_id"]}))["disabled"] is True


async def test_an_admin_builds_a_bot_from_an_example(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/admin/bots")
    await expect(page.get_by_text("No bots yet.")).to_be_visible()
    await assert_every_control_is_named(page)
    await page.get_by_role("button", name="New bot").click()
    await page.get_by_role("tab", name="Advanced: JSON").click()  # the form: test_bot_editor_*
    editor = page.get_by_label("Bot definition (JSON)")
    await page.get_by_label("Start from example").select_option(label="Shop assistant")
    await page.get_by_role("button", name="Load example").click()
    await expect(editor).to_have_value(re.compile('"name": "Shop assistant"'))
    example = await editor.input_value()

    alert = page.locator("#bot-form").get_by_role("alert")  # the form is renamed on save
    await editor.fill(example[:-20])
    await page.get_by_role("button", name="Save bot").click()
    await expect(alert).to_contain_text("JSON: This is not valid JSON:")

    await editor.fill(example.replace('"type": "handoff"', '"type": "dance"'))
    await page.get_by_role("button", name="Save bot").click()
    await expect(alert).to_contain_text("flows.3.steps.0.type: Unknown step type")
    assert await live.core.store.collection("bots").count_documents({}) == 0

    await editor.fill(example)
    await page.get_by_role("button", name="Save bot").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Bot saved. Copy its webhook signing key now: it is shown only this once."
    )
    await expect(alert).to_be_empty()
    row = page.get_by_role("table", name="Bots").get_by_role("row", name=re.compile("Shop"))
    await expect(row).to_contain_text("None: answers nowhere")  # an example lists no channel
    await expect(row).to_contain_text("Enabled")
    await expect(page.get_by_role("heading", name="Edit bot: Shop assistant")).to_be_visible()
    await assert_the_shown_key_signs(live, page)

    await page.get_by_role("button", name="New signing key").press("Enter")
    await page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    key = page.get_by_role("textbox", name="Webhook signing key", exact=True)
    await expect(key).to_be_focused()
    await assert_the_shown_key_signs(live, page)

    await row.get_by_role("button", name="Disable: Shop assistant").click()
    await expect(row).to_contain_text("Disabled")
    assert (await live.core.store.collection("bots").find_one({}))["enabled"] is False

    await row.get_by_role("button", name="Delete: Shop assistant").click()
    await page.get_by_role("dialog").get_by_role("button", name="Confirm").click()
    await expect(page.get_by_text("No bots yet.")).to_be_visible()
    assert await live.core.store.collection("bots").count_documents({}) == 0


async def assert_the_shown_key_signs(live: Live, page) -> None:
    """The key on the page is the one the bot's webhook steps sign with, and only that one."""
    from playwright.async_api import expect

    from kith.bots.webhook_keys import webhook_secret

    key = page.get_by_role("textbox", name="Webhook signing key", exact=True)
    await expect(key).to_have_value(re.compile(r"^[\w-]{40,}$"))
    bot = await live.core.store.collection("bots").find_one({})
    assert await key.input_value() == await webhook_secret(live.core, bot["_id"])
    assert await key.input_value() not in str(bot)  # sealed at rest


async def test_a_marketer_reads_bots_but_cannot_change_them(live: Live) -> None:
    from playwright.async_api import expect

    from kith.bots import examples
    from kith.bots.flows import BotDefinition
    from kith.bots.store import save_bot

    workspace = await ensure_default_workspace(live.core)
    await save_bot(live.core, workspace.id, BotDefinition(**examples.load("shop_assistant")))
    page = await live.sign_in("mary@kith.test")
    await expect(page.get_by_role("link", name="Settings")).to_have_count(0)
    await page.goto(live.url + "/app/admin/bots")
    await page.get_by_role("button", name="View: Shop assistant").click()
    editor = page.get_by_label("Bot definition (JSON)")
    await expect(editor).to_have_value(re.compile("newsletter"))
    await expect(editor).not_to_be_editable()
    await expect(page.get_by_role("button", name=re.compile("Save|Delete|Disable"))).to_have_count(
        0
    )
    await page.goto(live.url + "/app/admin/users")
    await expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()


async def test_the_chinese_settings_pages(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.get_by_role("link", name="设置").click()
    assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
    await expect(page.get_by_role("heading", name="用户", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="新建用户")
    await expect(form.get_by_label("角色")).to_contain_text("营销人员")
    await expect(form.get_by_role("button", name="创建用户")).to_be_visible()
    await expect(page.get_by_role("button", name="编辑：Admin")).to_be_visible()
    await expect(page.locator("th", has_text="（你）")).to_have_text("Admin（你）")  # full-width
    await page.get_by_role("link", name="机器人").click()
    await page.get_by_role("button", name="新建机器人").click()
    await page.get_by_role("tab", name="高级：JSON").click()
    await expect(page.get_by_label("机器人定义（JSON）")).to_be_visible()
    await page.get_by_label("机器人定义（JSON）").fill("{")
    await page.get_by_role("button", name="保存机器人").click()
    await expect(page.get_by_role("alert").first).to_contain_text("这不是有效的 JSON")
    await page.locator("#user-menu-button").click()  # the header's user menu
    await page.get_by_label("语言").select_option("en")
    await expect(page.get_by_role("heading", name="Bots", exact=True)).to_be_visible()
