"""Settings → SLA policies in a real browser, by keyboard, in English and in Chinese: an admin
follows a policy's link from Business hours to its row, creates a policy after every refusal
is marked at its field at once (the name, a target of no time), edits it (a target over a year
refused, then fixed) and deletes it after confirming."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.core.teams import create_team
from kith.tickets.sla_models import CalendarIn, PolicyIn
from kith.tickets.sla_store import list_policies, save_calendar, save_policy
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]

# What the page says, in each language.
WORDS = {
    "en": {
        "locale": "en-US",
        "sections": "Settings sections",
        "hours": "Business hours",
        "table": "SLA policies",
        "new": "New policy",
        "name": "Name",
        "team": "Team's tickets",
        "high_first_hours": "High · First reply (hours)",
        "high_first_minutes": "High · First reply (minutes)",
        "high_resolution_hours": "High · Resolution (hours)",
        "too_short": "At least 1 minute; leave hours and minutes empty to not measure it.",
        "name_missing": "Cannot be empty (spaces alone do not count).",
        "too_long": "At most 366 days (8784 hours).",
        "save": "Save policy",
        "saved": "Policy saved.",
        "standard": "Urgent: First reply 30 min",
        "vip": "High: First reply 1 h 30 min · Resolution 8 h",
        "vip_edited": "High: First reply 1 h 30 min · Resolution 9 h",
        "team_cell": "Team Support",
        "edit": "Edit",
        "colon": ": ",
        "edit_dialog": "Edit policy: VIP <script>",
        "delete": "Delete",
        "confirm_text": "Delete the SLA policy VIP <script>?",
        "confirm": "Confirm",
        "deleted": "Policy deleted.",
        "default_kept": "Standard <i> is the workspace's default policy: make another policy the "
        "default first.",
    },
    "zh": {
        "locale": "zh-CN",
        "sections": "设置分区",
        "hours": "营业时间",
        "table": "SLA 策略",
        "new": "新建策略",
        "name": "名称",
        "team": "适用团队的工单",
        "high_first_hours": "高 · 首次回复（小时）",
        "high_first_minutes": "高 · 首次回复（分钟）",
        "high_resolution_hours": "高 · 解决（小时）",
        "too_short": "至少 1 分钟；不计该目标请将小时和分钟都留空。",
        "name_missing": "不能为空（只填空格也算空）。",
        "too_long": "最长 366 天（8784 小时）。",
        "save": "保存策略",
        "saved": "策略已保存。",
        "standard": "紧急：首次回复 30 分钟",
        "vip": "高：首次回复 1 小时 30 分钟 · 解决 8 小时",
        "vip_edited": "高：首次回复 1 小时 30 分钟 · 解决 9 小时",
        "team_cell": "团队 Support",
        "edit": "编辑",
        "colon": "：",
        "edit_dialog": "编辑策略：VIP <script>",
        "delete": "删除",
        "confirm_text": "删除 SLA 策略 VIP <script>？",
        "confirm": "确认",
        "deleted": "策略已删除。",
        "default_kept": "Standard <i> 是工作区的默认策略：请先将另一个策略设为默认。",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )
    await create_team(core, workspace.id, "Support", [])
    week = {day: [("09:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    office = await save_calendar(
        core,
        workspace.id,
        CalendarIn.model_validate({"name": "Office", "zone": "Asia/Shanghai", "hours": week}),
    )
    policy = {
        "name": "Standard <i>",
        "default": True,
        "calendar_id": office.id,
        "targets": {"urgent": {"first_reply": 30}},
    }
    await save_policy(core, workspace.id, PolicyIn.model_validate(policy))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def _workspace(live: Live) -> str:
    user = await live.core.store.users.find_one({"email": "admin@kith.test"})
    assert user
    return str(user["workspace_id"])


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_admin_manages_sla_policies_by_keyboard(
    live: Live, tmp_path: Path, lang: str
) -> None:
    from playwright.async_api import expect

    w = WORDS[lang]
    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    await page.goto(live.url + "/app/admin/hours")
    hours = page.get_by_role("table", name=re.compile(w["hours"]))
    await hours.get_by_role("link", name="Standard <i>").focus()  # escaped, a link now
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(r"/app/admin/sla#policy-"))
    nav = page.get_by_role("navigation", name=w["sections"])
    await expect(nav.get_by_role("link", name=w["table"])).to_have_attribute("aria-current", "page")
    table = page.get_by_role("table", name=w["table"])
    standard = table.get_by_role("row", name=re.compile("Standard <i>"))
    await expect(standard).to_contain_text(w["standard"])
    await expect(standard.get_by_role("link", name="Office")).to_be_visible()
    await expect(
        standard.get_by_role("button", name=f"{w['edit']}{w['colon']}Standard <i>")
    ).to_be_focused()
    await assert_every_control_is_named(page)

    # A new policy, refused twice at once: no name, a target of no time.
    await page.get_by_role("button", name=w["new"]).focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=w["new"])
    name = dialog.get_by_label(w["name"], exact=True)
    await expect(name).to_be_focused()
    await dialog.get_by_label(w["team"]).focus()
    await page.keyboard.press("ArrowDown")
    await expect(dialog.get_by_label(w["team"])).to_have_value(re.compile(".+"))
    first_hours = dialog.get_by_label(w["high_first_hours"])
    first_minutes = dialog.get_by_label(w["high_first_minutes"])
    await first_hours.focus()
    await page.keyboard.type("0")
    await page.keyboard.press("Enter")
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_be_focused()  # the first refusal
    await expect(dialog).to_contain_text(w["name_missing"])
    await expect(first_hours).to_have_attribute("aria-invalid", "true")
    await expect(dialog).to_contain_text(w["too_short"])
    await keep_screenshot(page, f"settings-sla-refused-{lang}.png", tmp_path)
    await assert_every_control_is_named(page)

    await page.keyboard.type("VIP <script>")
    await first_hours.focus()
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type("1")
    await page.keyboard.press("Tab")
    await expect(first_minutes).to_be_focused()
    await page.keyboard.type("30")
    await dialog.get_by_label(w["high_resolution_hours"]).focus()
    await page.keyboard.type("8")
    await dialog.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_have_text(w["saved"])
    vip = table.get_by_role("row", name=re.compile("VIP <script>"))
    await expect(vip).to_contain_text(w["vip"])
    await expect(vip).to_contain_text(w["team_cell"])
    edit = vip.get_by_role("button", name=f"{w['edit']}{w['colon']}VIP <script>")
    await expect(edit).to_be_focused()
    stored = {p.name: p for p in await list_policies(live.core, await _workspace(live))}
    made = stored["VIP <script>"]
    assert made.targets["high"].first_reply == 90 and made.targets["high"].resolution == 480
    assert made.team_id is not None and not made.default
    assert [a.type for a in made.breach_actions] == ["raise_priority"]
    assert stored["Standard <i>"].default  # the new one did not take over

    # Edit: a resolution over a year refused by the server at its box, then fixed.
    await page.keyboard.press("Enter")
    editing = page.get_by_role("dialog", name=w["edit_dialog"])
    await expect(editing.get_by_label(w["high_first_hours"])).to_have_value("1")
    await expect(editing.get_by_label(w["high_first_minutes"])).to_have_value("30")
    resolution = editing.get_by_label(w["high_resolution_hours"])
    await resolution.focus()
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type("9000")
    await page.keyboard.press("Enter")
    await expect(resolution).to_have_attribute("aria-invalid", "true")
    await expect(resolution).to_be_focused()
    await expect(editing).to_contain_text(w["too_long"])
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.type("9")
    await page.keyboard.press("Enter")
    await expect(editing).to_be_hidden()
    await expect(page.get_by_role("status")).to_have_text(w["saved"])
    await expect(vip).to_contain_text(w["vip_edited"])
    await expect(edit).to_be_focused()

    # Delete, after confirming.
    await vip.get_by_role("button", name=f"{w['delete']}{w['colon']}VIP <script>").focus()
    await page.keyboard.press("Enter")
    confirm = page.get_by_role("dialog", name=re.compile(re.escape(w["confirm_text"])))
    await confirm.get_by_role("button", name=w["confirm"]).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(w["deleted"])
    await expect(table.get_by_role("row", name=re.compile("VIP"))).to_have_count(0)
    await expect(page.get_by_role("button", name=w["new"])).to_be_focused()
    left = await list_policies(live.core, await _workspace(live))
    assert [p.name for p in left] == ["Standard <i>"]

    # The default is kept (QA pass 10 M2): said at once, no confirmation, focus stays.
    delete_default = standard.get_by_role("button", name=f"{w['delete']}{w['colon']}Standard <i>")
    await delete_default.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(w["default_kept"])
    await expect(page.get_by_role("dialog")).to_have_count(0)
    await expect(delete_default).to_be_focused()
    assert [p.name for p in await list_policies(live.core, await _workspace(live))] == [
        "Standard <i>"
    ]
