"""Settings → SLA policies in a real browser, by keyboard, in English and Chinese: a new
policy for a team another policy already covers is refused at the team's field, naming that
policy (escaped), and saved once another team is picked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.core.teams import create_team
from kith.tickets.sla_models import PolicyIn
from kith.tickets.sla_store import list_policies, save_policy
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD
from tests.web.test_admin_sla_actions_browser import new_policy_by_keyboard

pytestmark = [needs_chromium, pytest.mark.timeout(120)]

WORDS = {
    "en": {
        "locale": "en-US",
        "new": "New policy",
        "name": "Name",
        "team": "Team's tickets",
        "hours": "High · First reply (hours)",
        "save": "Save policy",
        "saved": "Policy saved.",
        "taken": "Support desk <b> already covers this team: pick another team, or change "
        "Support desk <b> first.",
    },
    "zh": {
        "locale": "zh-CN",
        "new": "新建策略",
        "name": "名称",
        "team": "适用团队的工单",
        "hours": "高 · 首次回复（小时）",
        "save": "保存策略",
        "saved": "策略已保存。",
        "taken": "策略「Support desk <b>」已适用于该团队：请选择其他团队，"
        "或先修改「Support desk <b>」。",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )
    support = await create_team(core, workspace.id, "Support", [])
    await create_team(core, workspace.id, "Sales", [])
    targets = {"urgent": {"first_reply": 30}}
    for body in (
        {"name": "Standard", "default": True, "targets": targets},
        {"name": "Support desk <b>", "team_id": support.id, "targets": targets},
    ):
        await save_policy(core, workspace.id, PolicyIn.model_validate(body))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_team_another_policy_covers_is_refused_at_its_field(live: Live, lang: str) -> None:
    from playwright.async_api import expect

    w = WORDS[lang]
    page, dialog = await new_policy_by_keyboard(live, w)
    await page.keyboard.type("Second <i>")
    team = dialog.get_by_label(w["team"])
    await team.focus()
    await page.keyboard.press("End")  # the menu's last team: Support (teams by name)
    await expect(team.locator("option:checked")).to_have_text("Support")
    await dialog.get_by_label(w["hours"]).focus()
    await page.keyboard.type("1")
    await page.keyboard.press("Enter")

    await expect(team).to_have_attribute("aria-invalid", "true")
    await expect(team).to_be_focused()
    await expect(dialog.locator("#team_id-error")).to_have_text(w["taken"])
    await expect(dialog.locator("#team_id-error b")).to_have_count(0)  # a name, as text
    await assert_every_control_is_named(page)
    workspace_id = (await live.core.store.users.find_one({"email": "admin@kith.test"}) or {})[
        "workspace_id"
    ]
    assert len(await list_policies(live.core, workspace_id)) == 2

    # Another team: saved.
    await page.keyboard.press("Home")  # no team
    await page.keyboard.press("ArrowDown")  # Sales
    await expect(team.locator("option:checked")).to_have_text("Sales")
    await dialog.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_have_text(w["saved"])
    assert len(await list_policies(live.core, workspace_id)) == 3
