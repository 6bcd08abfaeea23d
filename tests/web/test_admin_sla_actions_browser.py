"""Settings → SLA policies: every breach action the API has, edited in a real browser by
keyboard, in English and Chinese: raise the priority one step or straight to a priority,
reassign to a team or an agent, notify a team, each for the missed targets ticked. A team or
user gone from a stored action is shown as removed and kept; an action the page does not edit
(a second note) is kept as it was; refusals, the page's and the server's, are shown at their
control; the dialog fits a phone."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.core.teams import create_team
from kith.tickets.sla_models import PolicyIn
from kith.tickets.sla_store import policies, save_policy
from tests.support.browser import needs_chromium
from tests.support.held import Held
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]

ALL = ["first_reply", "next_reply", "resolution"]
WORDS = {
    "en": {
        "locale": "en-US",
        "new": "New policy",
        "name": "Name",
        "save": "Save policy",
        "saved": "Policy saved.",
        "edit": "Edit policy: ",
        "edit_button": "Edit: ",
        "raise": "Raise the ticket's priority",
        "raise_to": "Raise to",
        "step": "One step up",
        "urgent": "Urgent",
        "reassign": "Reassign the ticket",
        "to_team": "Reassign to team",
        "to_user": "Reassign to agent",
        "keep_team": "Keep its team",
        "notify": "Notify a team",
        "note_for": "Leave a note in the inbox for",
        "first_reply": "First reply",
        "next_reply": "Next reply",
        "resolution": "Resolution",
        "no_metric": "Tick at least one target, or turn this action off.",
        "team_gone": "(removed team)",
        "user_gone": "(removed agent)",
        "kept": "1 other breach action(s) set through the API are kept as they are.",
    },
    "zh": {
        "locale": "zh-CN",
        "new": "新建策略",
        "name": "名称",
        "save": "保存策略",
        "saved": "策略已保存。",
        "edit": "编辑策略：",
        "edit_button": "编辑：",
        "raise": "提高工单优先级",
        "raise_to": "提高到",
        "step": "提高一级",
        "urgent": "紧急",
        "reassign": "重新分配工单",
        "to_team": "重新分配给团队",
        "to_user": "重新分配给客服",
        "keep_team": "保持原团队",
        "notify": "通知团队",
        "note_for": "在收件箱中留备注给",
        "first_reply": "首次回复",
        "next_reply": "下次回复",
        "resolution": "解决",
        "no_metric": "请至少勾选一个目标，或关闭此动作。",
        "team_gone": "（已删除的团队）",
        "user_gone": "（已删除的客服）",
        "kept": "通过 API 设置的其他 1 项违约动作保持不变。",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )
    ana = await create_user(core, workspace.id, "ana@kith.test", PASSWORD, name="Ana <b>")
    await create_user(
        core, workspace.id, "mark@kith.test", PASSWORD, name="Mark", role=Role.marketer
    )
    await create_team(core, workspace.id, "Escalations <i>", [])
    support = await create_team(core, workspace.id, "Support", [])
    await save_policy(
        core,
        workspace.id,
        PolicyIn.model_validate(
            {"name": "Standard", "default": True, "targets": {"urgent": {"first_reply": 30}}}
        ),
    )
    # Saved with a user and a team that are deleted since (as the store then holds it), and
    # a second note.
    legacy = {
        "name": "Legacy",
        "targets": {"high": {"resolution": 600}},
        "breach_actions": [
            {"type": "reassign", "user_id": ana.id, "metrics": ["first_reply"]},
            {"type": "notify_team", "team_id": support.id},
            {"type": "notify_team", "team_id": support.id, "metrics": ["resolution"]},
        ],
    }
    saved = await save_policy(core, workspace.id, PolicyIn.model_validate(legacy))
    gone = {"breach_actions.0.user_id": "gone-user", "breach_actions.1.team_id": "gone-team"}
    await policies(core).update_one({"_id": saved.id}, {"$set": gone})


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def _get(page: Any, url: str) -> Any:
    answer = await page.request.get(url)
    assert answer.ok, await answer.text()
    return await answer.json()


async def _stored(page: Any, live: Live, name: str) -> list[dict[str, Any]]:
    """The policy's breach actions as the API answers them."""
    policies = await _get(page, live.url + "/app/api/sla/policies")
    actions: list[dict[str, Any]] = next(p for p in policies if p["name"] == name)["breach_actions"]
    return actions


async def _team_ids(page: Any, live: Live) -> dict[str, str]:
    return {t["name"]: t["id"] for t in (await _get(page, live.url + "/app/api/teams"))["items"]}


async def _press(page: Any, control: Any, *keys: str) -> None:
    """Keys pressed on `control` (focused first, once it can take them)."""
    for key in keys:
        await control.press(key)


async def new_policy_by_keyboard(live: Live, w: dict[str, str]) -> tuple[Any, Any]:
    """The admin's SLA page in `w["locale"]`, its "New policy" dialog opened by keyboard, the
    name box focused; `w` names the button and the box in that language."""
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    await page.goto(live.url + "/app/admin/sla")
    await page.get_by_role("button", name=w["new"]).press("Enter")
    dialog = page.get_by_role("dialog", name=w["new"])
    await expect(dialog.get_by_label(w["name"], exact=True)).to_be_focused()
    return page, dialog


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_admin_sets_every_breach_action_by_keyboard(
    live: Live, tmp_path: Path, lang: str
) -> None:
    """Raise straight to urgent on a missed resolution only, reassign to a team, notify a
    team: a note ticked for no target is refused at its boxes first; saved, stored as such,
    and shown again when the policy is opened."""
    from playwright.async_api import expect

    w = WORDS[lang]
    page, dialog = await new_policy_by_keyboard(live, w)
    await page.keyboard.type("VIP <script>")

    raise_group = dialog.get_by_role("group", name=w["raise"])
    raise_to = raise_group.get_by_label(w["raise_to"])
    await expect(raise_to.locator("option:checked")).to_have_text(w["step"])  # a new policy's
    await _press(page, raise_to, "End")
    await expect(raise_to.locator("option:checked")).to_have_text(w["urgent"])
    # The targets it is for: all at first; first and next reply unticked.
    await page.keyboard.press("Tab")
    first = raise_group.get_by_label(w["first_reply"])
    await expect(first).to_be_focused()
    await expect(first).to_be_checked()
    await page.keyboard.press("Space")
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")
    await expect(raise_group.get_by_label(w["next_reply"])).not_to_be_checked()
    await expect(raise_group.get_by_label(w["resolution"])).to_be_checked()

    reassign = dialog.get_by_role("group", name=w["reassign"])
    reassign_metrics = reassign.get_by_label(w["first_reply"])
    await expect(reassign_metrics).to_be_hidden()  # off: keep its team and its assignee
    to_team = reassign.get_by_label(w["to_team"])
    await _press(page, to_team, "ArrowDown")  # teams by name: Escalations <i> first
    await expect(to_team.locator("option:checked")).to_have_text("Escalations <i>")
    await expect(reassign_metrics).to_be_checked()  # shown now, every target
    to_user = reassign.get_by_label(w["to_user"])
    assert await to_user.locator("option").all_inner_texts() == [
        "Keep its assignee" if lang == "en" else "保持原负责人",
        "Admin",
        "Ana <b>",
    ]  # the marketer cannot be given tickets

    notify = dialog.get_by_role("group", name=w["notify"])
    note_for = notify.get_by_label(w["note_for"])
    await _press(page, note_for, "End")
    await expect(note_for.locator("option:checked")).to_have_text("Support")
    for metric in ALL:  # every target unticked: refused here, at the boxes
        await _press(page, notify.get_by_label(w[metric]), "Space")
    await dialog.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")
    notify_first = notify.get_by_label(w["first_reply"])
    await expect(notify_first).to_be_focused()
    await expect(notify_first).to_have_attribute("aria-invalid", "true")
    await expect(notify).to_contain_text(w["no_metric"])
    await keep_screenshot(page, f"settings-sla-actions-refused-{lang}.png", tmp_path)
    await assert_every_control_is_named(page)
    assert "VIP <script>" not in [
        p["name"] for p in await _get(page, live.url + "/app/api/sla/policies")
    ]

    await _press(page, notify.get_by_label(w["resolution"]), "Space")
    await dialog.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_have_text(w["saved"])
    teams = await _team_ids(page, live)
    assert await _stored(page, live, "VIP <script>") == [
        {"type": "raise_priority", "to": "urgent", "metrics": ["resolution"]},
        {"type": "reassign", "user_id": None, "team_id": teams["Escalations <i>"], "metrics": ALL},
        {"type": "notify_team", "team_id": teams["Support"], "metrics": ["resolution"]},
    ]
    summary = {  # the table says what a breach does, one line per action
        "en": [
            "Raise the priority to Urgent (only on a missed target: Resolution)",
            "Reassign to Escalations <i>",
            "Notify Support (only on a missed target: Resolution)",
        ],
        "zh": [
            "优先级提高到紧急（仅限错过：解决）",
            "重新分配给 Escalations <i>",
            "通知 Support（仅限错过：解决）",
        ],
    }[lang]
    row = page.get_by_role("row", name=re.compile("VIP <script>"))
    await expect(row.locator("td").nth(3).locator("li")).to_have_text(summary)

    # Opened again (its Edit button has the focus): as saved.
    edit = page.get_by_role("button", name=f"{w['edit_button']}VIP <script>")
    await expect(edit).to_be_focused()
    await page.keyboard.press("Enter")
    editing = page.get_by_role("dialog", name=f"{w['edit']}VIP <script>")
    raise_group = editing.get_by_role("group", name=w["raise"])
    await expect(raise_group.get_by_label(w["raise_to"]).locator("option:checked")).to_have_text(
        w["urgent"]
    )
    await expect(raise_group.get_by_label(w["first_reply"])).not_to_be_checked()
    await expect(raise_group.get_by_label(w["next_reply"])).not_to_be_checked()
    await expect(raise_group.get_by_label(w["resolution"])).to_be_checked()
    reassign = editing.get_by_role("group", name=w["reassign"])
    await expect(reassign.get_by_label(w["to_team"]).locator("option:checked")).to_have_text(
        "Escalations <i>"
    )
    notify = editing.get_by_role("group", name=w["notify"])
    await expect(notify.get_by_label(w["note_for"]).locator("option:checked")).to_have_text(
        "Support"
    )
    await expect(notify.get_by_label(w["first_reply"])).not_to_be_checked()
    await expect(editing.locator("#policy-kept")).to_be_hidden()  # nothing kept aside


async def test_removed_team_and_user_are_shown_and_kept_edited_in_chinese(live: Live) -> None:
    """A stored reassignment to a deleted user and a note for a deleted team read as removed
    (never dropped); the second note is kept as it was; the server's refusal of a part is
    shown at its control (`breach_actions.1.user_id`)."""
    from playwright.async_api import expect

    w = WORDS["zh"]
    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    await page.goto(live.url + "/app/admin/sla")
    before = await _stored(page, live, "Legacy")
    await page.get_by_role("button", name=f"{w['edit_button']}Legacy").focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name=f"{w['edit']}Legacy")
    await expect(dialog.locator("#policy-kept")).to_have_text(w["kept"])
    raise_to = dialog.get_by_role("group", name=w["raise"]).get_by_label(w["raise_to"])
    await expect(raise_to).to_have_value("")  # no raise stored
    reassign = dialog.get_by_role("group", name=w["reassign"])
    to_team = reassign.get_by_label(w["to_team"])
    to_user = reassign.get_by_label(w["to_user"])
    await expect(to_user.locator("option:checked")).to_have_text(w["user_gone"])
    await expect(to_team.locator("option:checked")).to_have_text(w["keep_team"])
    await expect(reassign.get_by_label(w["first_reply"])).to_be_checked()
    await expect(reassign.get_by_label(w["resolution"])).not_to_be_checked()
    notify = dialog.get_by_role("group", name=w["notify"])
    await expect(notify.get_by_label(w["note_for"]).locator("option:checked")).to_have_text(
        w["team_gone"]
    )
    await assert_every_control_is_named(page)

    # Saved untouched: the same actions, the removed ids included.
    await dialog.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text(w["saved"])
    assert await _stored(page, live, "Legacy") == before
    summary = page.get_by_role("row", name=re.compile("Legacy")).locator("td").nth(3)
    await expect(summary.locator("li").first).to_have_text(
        "重新分配给 （已删除的客服）（仅限错过：首次回复）"
    )
    await expect(summary.locator("li").nth(1)).to_have_text("通知 （已删除的团队）")

    # Raise one step on a missed first reply; the agent's id tampered with to one the server
    # refuses (over 64 characters): refused at the agent's menu, then Ana <b> is saved.
    await page.keyboard.press("Enter")
    await _press(page, raise_to, "ArrowDown")
    await expect(raise_to.locator("option:checked")).to_have_text(w["step"])
    raise_group = dialog.get_by_role("group", name=w["raise"])
    for metric in ("next_reply", "resolution"):
        await _press(page, raise_group.get_by_label(w[metric]), "Space")
    await to_user.evaluate(
        """(s) => { s.append(new Option("x", "x".repeat(65))); s.value = "x".repeat(65); }"""
    )
    await dialog.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")
    await expect(to_user).to_have_attribute("aria-invalid", "true")
    await expect(to_user).to_be_focused()
    await expect(dialog.locator("#reassign-user-error")).not_to_be_empty()
    await _press(page, to_user, "Home", "ArrowDown", "ArrowDown")  # keep, Admin, Ana <b>
    await expect(to_user.locator("option:checked")).to_have_text("Ana <b>")
    await dialog.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(page.get_by_role("status")).to_have_text(w["saved"])
    users = (await _get(page, live.url + "/app/api/users"))["items"]
    ana = next(u["id"] for u in users if u["name"] == "Ana <b>")
    assert await _stored(page, live, "Legacy") == [
        {"type": "raise_priority", "to": None, "metrics": ["first_reply"]},
        {"type": "reassign", "user_id": ana, "team_id": None, "metrics": ["first_reply"]},
        {"type": "notify_team", "team_id": "gone-team", "metrics": ALL},
        before[2],  # the second note, kept
    ]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_the_breach_actions_fit_a_phone(live: Live, tmp_path: Path, locale: str) -> None:
    """At 390 px, every action on (their targets shown), nothing in the dialog scrolls
    sideways and every breach control is on screen (the targets' grid scrolls in its own box)."""
    from playwright.async_api import expect

    w = WORDS[locale[:2]]
    page = await live.sign_in("admin@kith.test", locale=locale)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.goto(live.url + "/app/admin/sla")
    await page.get_by_role("button", name=f"{w['edit_button']}Legacy").click()
    dialog = page.get_by_role("dialog", name=f"{w['edit']}Legacy")
    await (
        dialog.get_by_role("group", name=w["raise"])
        .get_by_label(w["raise_to"])
        .select_option("step")
    )
    await expect(dialog.locator(".sla-metrics:visible")).to_have_count(3)
    overflow, right, *controls = await dialog.evaluate(
        """(d) => [d.scrollWidth - d.clientWidth, d.getBoundingClientRect().right,
        ...[...d.querySelectorAll(".sla-breach input, .sla-breach select, .buttons button")]
          .filter((c) => c.getClientRects().length)
          .map((c) => c.getBoundingClientRect().right)]"""
    )
    assert overflow <= 0 and right <= 390
    assert len(controls) >= 14 and max(controls) <= 390
    await dialog.get_by_role("group", name=w["notify"]).scroll_into_view_if_needed()
    await keep_screenshot(page, f"settings-sla-actions-phone-{locale[:2]}.png", tmp_path)
    sideways = "document.scrollingElement.scrollWidth - document.scrollingElement.clientWidth"
    assert await page.evaluate(sideways) <= 0


async def test_a_policys_removed_team_is_shown_and_saving_asks_for_another(live: Live) -> None:
    """Before: the "Team's tickets" menu dropped a deleted team, so saving the policy turned
    it into one for no team without a word. It reads "(removed team)", and saving is refused
    there until another is chosen."""
    from playwright.async_api import expect

    w = WORDS["en"]
    await policies(live.core).update_one({"name": "Legacy"}, {"$set": {"team_id": "gone-team"}})
    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    await page.goto(live.url + "/app/admin/sla")
    await page.get_by_role("button", name=f"{w['edit_button']}Legacy").press("Enter")
    dialog = page.get_by_role("dialog", name=f"{w['edit']}Legacy")
    team = dialog.get_by_label("Team's tickets")
    await expect(team.locator("option:checked")).to_have_text(w["team_gone"])
    await dialog.get_by_role("button", name=w["save"]).press("Enter")
    await expect(team).to_have_attribute("aria-invalid", "true")
    await expect(team).to_be_focused()
    stored = await policies(live.core).find_one({"name": "Legacy"})
    assert stored is not None and stored["team_id"] == "gone-team"


async def test_a_policy_opened_before_the_teams_arrive_waits_for_them(live: Live) -> None:
    """The form draws its menus and defaults once: opened before the page's lists, it had no
    team to reassign to or notify, and "default" ticked as if no policy existed (the keyboard
    tests press "New policy" as soon as the page is there)."""
    from playwright.async_api import expect

    w = WORDS["en"]
    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    teams = Held("/teams", method="GET")
    await teams.install(page)
    await page.goto(live.url + "/app/admin/sla")
    await teams.first()
    await page.get_by_role("button", name=w["new"]).press("Enter")
    assert await page.evaluate('() => document.getElementById("policy").open') is False
    teams.release()
    dialog = page.get_by_role("dialog", name=w["new"])
    await expect(dialog.get_by_label(w["name"], exact=True)).to_be_focused()
    to_team = dialog.get_by_role("group", name=w["reassign"]).get_by_label(w["to_team"])
    await expect(to_team.locator("option")).to_have_text(
        [w["keep_team"], "Escalations <i>", "Support"]
    )
    await expect(dialog.get_by_label("Workspace default")).not_to_be_checked()
