"""The Sequences pages in a real browser: a marketer builds a three-step sequence by keyboard,
sees a save error beside the field the server names, activates it, enrols a segment (a job
with a progress bar) and reads the funnel; the Chinese page; an agent is refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import time
from pathlib import Path

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.clock import ScaledClock
from kith.core.models import InboundMessage, InboundUser, Role
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.core.workspaces import ensure_default_workspace
from kith.courtesy.settings import CourtesySettings, save_settings
from kith.segments.reconcile import fill
from kith.segments.records import do_create_segment
from kith.sequences.actions import do_create_sequence, move
from kith.sequences.demo import seed_demo_sequence
from kith.sequences.models import SequenceIn, Status
from kith.sequences.store import get_sequence
from kith.web.app import build_core
from tests.support.browser import chromium, live_server, needs_chromium
from tests.web.conftest import PASSWORD
from tests.web.test_admin_browser import Live, assert_every_control_is_named
from tests.web.test_broadcasts_browser import keep_screenshot

pytestmark = [needs_chromium, pytest.mark.timeout(180)]


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    settings = settings.model_copy(update={"nlp_enabled": False})
    core = build_core(settings)
    core.store = Store.from_settings(settings)
    await core.start()
    workspace = await ensure_default_workspace(core)
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    await save_settings(
        core, workspace.id, CourtesySettings(quiet_start=time(0), quiet_end=time(0))
    )
    for n, (uid, name) in enumerate((("u-ada", "Ada"), ("u-li", "李雷"))):
        user = InboundUser(id=uid, name=name, locale="zh-CN" if n else "en")
        message = InboundMessage.on(channel, channel_message_id=f"m{n}", user=user, text="hi")
        await ingest(core, channel, message)
    segment = await do_create_segment(
        core,
        workspace.id,
        "Website visitors",
        {"field": "channels", "op": "contains", "value": "api"},
    )
    await fill(core, segment)
    await seed_demo_sequence(core, workspace.id)
    for name, role in (("mary", Role.marketer), ("alice", Role.agent)):
        await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )
    try:
        async with live_server(core) as server, chromium() as browser:
            yield Live(server.url, core, browser)
    finally:
        await core.store.client.drop_database(settings.db_name)
        await core.close()


async def add_step(page: object, kind: str) -> None:
    """By keyboard: pick the type in "New step", Tab to "Add step", Enter."""
    picker = page.get_by_label("New step")  # type: ignore[attr-defined]
    await picker.focus()
    await picker.select_option(label=kind)
    await page.keyboard.press("Tab")  # type: ignore[attr-defined]
    await page.keyboard.press("Enter")  # type: ignore[attr-defined]


async def test_a_marketer_builds_activates_enrols_and_reads_the_funnel(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.get_by_role("link", name="Sequences", exact=True).first.click()
    table = page.get_by_role("table", name="All sequences")
    await expect(table.get_by_role("row", name=re.compile("Welcome · 欢迎"))).to_contain_text(
        "Draft"
    )
    await page.get_by_role("link", name="New sequence").first.click()
    await expect(page.get_by_role("heading", name="Steps and settings")).to_be_visible()
    # The builder's h1 only repeats the nav's current link: for screen readers, 1px wide.
    section = await page.get_by_role("heading", level=1, name="Sequences").bounding_box()
    assert section is not None and section["width"] <= 1
    await assert_every_control_is_named(page)

    form = page.get_by_role("form", name="Steps and settings")
    await form.get_by_label("Name", exact=True).focus()
    await page.keyboard.type("Spring welcome")
    await form.get_by_label("Channels, in order of preference").fill("api")
    steps = page.locator("#steps > li")
    await steps.nth(0).get_by_label("Text in English").fill("Welcome {{ customer.name }}")
    await add_step(page, "Wait")
    await expect(steps.nth(1).get_by_label("Step id")).to_be_focused()
    await page.keyboard.press("Control+a")
    await page.keyboard.type("pause")
    await add_step(page, "Send")
    await expect(steps.nth(2).get_by_label("Step id")).to_be_focused()
    await page.keyboard.press("Control+a")
    await page.keyboard.type("tip")
    await steps.nth(2).get_by_label("Text in English").fill("A tip for {{ customer.nmae }}")
    # Alt+↑ moves the step the focus is in; Alt+↓ puts it back, the focus following.
    await steps.nth(2).get_by_label("Step id").focus()
    await page.keyboard.press("Alt+ArrowUp")
    await expect(steps.nth(1).get_by_label("Step id")).to_have_value("tip")
    await expect(steps.nth(1).get_by_label("Step id")).to_be_focused()
    await page.keyboard.press("Alt+ArrowDown")
    await expect(steps.nth(2).get_by_label("Step id")).to_have_value("tip")
    await expect(steps.nth(2).get_by_label("Step id")).to_be_focused()

    await form.get_by_role("button", name="Save").focus()
    await page.keyboard.press("Enter")
    tip_text = steps.nth(2).get_by_label("Text in English")
    await expect(tip_text).to_be_focused()
    await expect(tip_text).to_have_attribute("aria-invalid", "true")
    beside = page.locator("#f-steps-2-message-text-en-error")
    await expect(beside).to_contain_text("line 1, column")
    await expect(form.locator("#builder-error")).to_contain_text("line 1, column")
    await expect(form.locator("#builder-error")).not_to_contain_text("steps.")  # no inner path
    await keep_screenshot(page, "sequences-error-en.png", tmp_path)
    await tip_text.fill("A tip for {{ customer.name }}")
    how_long = steps.nth(1).get_by_label("How long")
    await how_long.fill("0")
    await form.get_by_role("button", name="Save").focus()
    await page.keyboard.press("Enter")
    await expect(how_long).to_be_focused()  # the refusal names the duration, not the step
    await expect(form.locator("#builder-error")).to_contain_text("at most a year")
    await how_long.fill("1")
    await form.get_by_role("button", name="Save").focus()
    await page.keyboard.press("Enter")

    await expect(page).to_have_url(re.compile(r"/app/sequences/[^/]+$"))
    await expect(page.locator("#sequence-status")).to_have_text("Draft")
    await expect(page.locator("#steps > li")).to_have_count(3)
    await page.get_by_role("button", name="Activate").click()
    await expect(page.locator("#sequence-status")).to_have_text("Active")
    await expect(page.get_by_role("button", name="Activate")).to_be_disabled()

    # The webhook signing key, by keyboard: asked first, then shown once and focused.
    await page.get_by_role("button", name="New signing key").focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Spring welcome")
    await dialog.get_by_role("button", name="Confirm").focus()
    await page.keyboard.press("Enter")
    key = page.get_by_role("textbox", name="Webhook signing key")
    await expect(key).to_be_focused()
    await expect(key).to_have_value(re.compile(r"^[\w-]{40,}$"))
    await expect(page.locator("#notice")).to_contain_text("shown only this once")

    picker = page.get_by_role("combobox", name=re.compile("^Segment"))
    await picker.select_option(label="Website visitors (2)")
    await page.get_by_role("button", name="Enrol the segment").click()
    progress = page.get_by_label("Progress")
    await expect(progress).to_be_visible()
    await expect(page.locator("#enrol-progress-text")).to_contain_text("done")
    await expect(progress).to_have_attribute("value", "2")
    rows = page.get_by_role("table", name="Enrolments").locator("tbody tr")
    await expect(rows).to_have_count(2)
    li = (await live.core.store.customers.find_one({"name": "李雷"}))["_id"]
    row = page.get_by_role("table", name="Enrolments").locator(f'tr[data-customer="{li}"]')
    await row.get_by_role("button", name="Remove").click()
    await expect(row).to_contain_text("stopped")
    await expect(row).to_contain_text("removed")

    await page.get_by_label("Find a customer (name, email or phone)").fill("李雷")
    await expect(page.locator("#dry-found")).to_have_text("1 found")
    await page.get_by_role("button", name="Show when each step would run").click()
    await expect(page.locator("#dry-rows tr")).to_have_count(3)

    await page.reload()
    totals = page.locator("#totals")
    await expect(totals.locator('[data-figure="enrolled"]')).to_have_text("2")
    await expect(totals.locator('[data-figure="stopped-removed"]')).to_have_text("1")
    funnel = page.get_by_role("img", name=re.compile("^Funnel"))
    await expect(funnel).to_be_visible()
    await expect(page.get_by_role("img", name=re.compile("^Over time"))).to_be_visible()
    await expect(page.get_by_role("table", name="The funnel as a table")).to_be_visible()
    await keep_screenshot(page, "sequences-en.png", tmp_path)


async def test_the_chinese_pages_and_an_agent_is_refused(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/sequences")
    assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
    await expect(page.get_by_role("heading", name="全部序列")).to_be_visible()
    await page.get_by_role("link", name="Welcome · 欢迎").click()
    await expect(page.get_by_role("heading", name="步骤与设置")).to_be_visible()
    steps = page.locator("#steps > li")
    await expect(steps).to_have_count(7)
    await expect(steps.nth(2).get_by_label("时间", exact=True)).to_have_value("09:00")
    await expect(page.get_by_role("button", name="启用")).to_be_enabled()
    await expect(page.get_by_role("img", name=re.compile("^漏斗"))).to_be_visible()
    await expect(page.get_by_role("button", name="新的签名密钥")).to_be_visible()
    await expect(page.locator("#key-hint")).to_contain_text("签名")
    await assert_every_control_is_named(page)
    # The demo clock (an hour per second) shows in the header, in the page's language.
    real, live.core.clock = live.core.clock, ScaledClock(3600, base=live.core.clock)
    try:
        await page.reload()
        shown = page.locator("#demo-clock")
        await expect(shown).to_be_visible()
        await expect(shown).to_contain_text("演示时间")
        await expect(shown.locator("time")).to_contain_text("月")
    finally:
        live.core.clock = real
    await keep_screenshot(page, "sequences-zh.png", tmp_path)
    agent = await live.sign_in("alice@kith.test")
    answer = await agent.goto(live.url + "/app/sequences")
    assert answer is not None and answer.status == 403


POSTCODE_SEQUENCE = {
    "name": "Postcodes",
    "channels": ["api"],
    "steps": [
        {"id": "hello", "type": "send", "message": {"text": {"en": "Hi {{ customer.name }}"}}},
        {"id": "pause", "type": "wait", "duration": "PT45S"},
        {"id": "zip", "type": "set_attribute", "key": "zip", "value": "20001"},
        {"id": "check", "type": "branch", "since": "replied", "then": "hello"},
    ],
    "stop_on_reply": False,  # else its branch on "replied" could never be taken
}


async def test_the_chinese_builder_words_its_refusals_and_keeps_what_it_cannot_change(
    live: Live, tmp_path: Path
) -> None:
    """Regression (QA sequences #8): in Chinese the builder's own refusals stayed English; a
    step id's said nothing of what it may hold. A 45-second wait was saved as a minute, and a
    postal code "20001" became a number."""
    from playwright.async_api import expect

    workspace = await ensure_default_workspace(live.core)
    made = await do_create_sequence(
        live.core, workspace.id, SequenceIn.model_validate(POSTCODE_SEQUENCE)
    )
    await move(live.core, workspace.id, made.id, Status.active)
    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await page.goto(f"{live.url}/app/sequences/{made.id}")
    await expect(page.locator("#sequence-status").locator("..")).to_contain_text("状态：运行中")
    form = page.get_by_role("form", name="步骤与设置")
    save = form.get_by_role("button", name="保存")
    steps = page.locator("#steps > li")
    await expect(steps.nth(1).get_by_label("时长")).to_have_value("45")
    await expect(steps.nth(1).get_by_label("单位")).to_have_value("S")
    await expect(steps.nth(2).get_by_label("值的类型")).to_have_value("text")
    await expect(steps.nth(2).get_by_label("值", exact=True)).to_have_value("20001")

    then = steps.nth(3).get_by_label("则跳到步骤", exact=True)
    refusals = [
        (steps.nth(1).get_by_label("步骤 ID"), "Wait One", "pause", "小写字母"),
        (steps.nth(0).get_by_label("英文内容"), "Hi {{ customer.nam }}", "Hi {{ customer.name }}",
         "未知变量 “customer.nam”（第 1 行，第 16 列）"),
        (then, "nowhere", "hello", "没有可跳转的步骤 “nowhere”"),
        (then, "check", "hello", "跳回 “check” 会形成没有等待的循环"),
        (steps.nth(1).get_by_label("时长"), "-1", "45", "等待时长至少一秒"),
    ]  # fmt: skip
    for control, bad, good, words in refusals:
        await control.fill(bad)
        await save.focus()
        await page.keyboard.press("Enter")
        await expect(control).to_be_focused()
        await expect(form.locator("#builder-error")).to_contain_text(words)
        await expect(page.locator(".field-error")).to_contain_text(words)
        await control.fill(good)
    await keep_screenshot(page, "sequences-refusal-zh.png", tmp_path)

    await save.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#notice")).to_contain_text("已保存")
    kept = await get_sequence(live.core, workspace.id, made.id)
    assert kept.version == 1  # nothing changed: no new version
    assert kept.model_dump(mode="json")["steps"][1]["duration"] == "PT45S"
    assert kept.model_dump(mode="json")["steps"][2]["value"] == "20001"

    await steps.nth(2).get_by_label("值的类型").select_option("number")
    await expect(steps.nth(2).get_by_label("值的类型")).to_be_focused()
    await steps.nth(2).get_by_label("值", exact=True).fill("")
    await save.focus()
    await page.keyboard.press("Enter")
    await expect(form.locator("#builder-error")).to_contain_text("必须是数字")
    await steps.nth(2).get_by_label("值", exact=True).fill("20001")
    await save.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#sequence-version")).to_have_text("2")
    saved = (await get_sequence(live.core, workspace.id, made.id)).model_dump(mode="json")
    assert saved["steps"][2]["value"] == 20001
    assert saved["steps"][1]["duration"] == "PT45S"


async def test_a_refusal_is_cleared_by_the_next_success(live: Live) -> None:
    """Regression (QA marketer): "Enrol the segment" on a draft is refused ("only an active
    sequence enrols customers"); after Activate and a successful enrolment the refusal still
    showed. A success clears the refusal it answers, on each of the page's controls."""
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.get_by_role("link", name="Sequences", exact=True).first.click()
    await page.get_by_role("link", name=re.compile("Welcome · 欢迎")).click()
    await expect(page.locator("#sequence-status")).to_have_text("Draft")
    enrol_error = page.locator("#enrol-error")
    picker = page.get_by_role("combobox", name=re.compile("^Segment"))
    await picker.select_option(label="Website visitors (2)")
    await page.get_by_role("button", name="Enrol the segment").click()
    await expect(enrol_error).to_have_text(
        "Only an active sequence enrols customers: activate it first."
    )

    await page.get_by_role("button", name="Activate").click()
    await expect(page.locator("#sequence-status")).to_have_text("Active")
    await expect(enrol_error).to_have_text("")  # it no longer holds
    await page.get_by_role("button", name="Enrol the segment").click()
    await expect(page.locator("#enrol-progress-text")).to_contain_text("done")
    await expect(enrol_error).to_have_text("")
    # Dates as every page writes them (KithDom.dateTime): the month in words, never 08/01.
    due = (
        page.get_by_role("table", name="Enrolments").locator("tbody tr").first.locator("td").nth(2)
    )
    await expect(due).to_have_text(re.compile(r"^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}$"))

    dry_error = page.locator("#dry-error")
    search = page.get_by_label("Find a customer (name, email or phone)")
    run = page.get_by_role("button", name="Show when each step would run")
    await search.fill("Ada")
    await expect(page.locator("#dry-found")).to_have_text("1 found")
    await live.core.store.customers.delete_one({"name": "Ada"})  # gone since it was found
    await run.click()
    await expect(dry_error).not_to_have_text("")
    await search.fill("李雷")
    await expect(page.get_by_role("combobox", name="Customer", exact=True)).to_contain_text("李雷")
    await run.click()
    await expect(page.locator("#dry-table")).to_be_visible()
    await expect(dry_error).to_have_text("")
    await search.fill("nobody")
    await expect(page.locator("#dry-found")).to_have_text("0 found")
    await expect(page.locator("#dry-table")).to_be_hidden()  # not 李雷's plan under "nobody"


PLAN_SEQUENCE = {
    "name": "Member day",
    "channels": ["api"],
    "steps": [
        {"id": "hello", "type": "send", "message": {"text": {
            "en": "Hi {{ customer.name }}", "zh": "你好 {{ customer.attributes.plan }}"}}},
        {"id": "pause", "type": "wait", "duration": "PT2H"},
        {"id": "check", "type": "branch", "since": "replied", "then": "bye"},
        {"id": "bye", "type": "send", "message": {"text": {"en": "Bye", "zh": "再见"}}},
    ],
    "stop_on_reply": False,
}  # fmt: skip


@pytest.mark.parametrize(
    ("locale", "who", "words"),
    [
        ("en-US", "Ada", ["sent · api", "Hi Ada", "waits", "until ",
                          "else: assumed not replied since enrolment", "Bye"]),
        ("zh-CN", "李雷", ["发送 · api", "此客户没有“plan”的值", "等待", "直到 ",
                          "否则分支：按加入后尚未“回复过”计算", "再见"]),
    ],
)  # fmt: skip
async def test_the_dry_run_finds_a_customer_by_name_and_shows_what_they_would_read(
    live: Live, locale: str, who: str, words: list[str]
) -> None:
    """Each send's text for that customer (or why its template fails for them), and why each
    step goes as it does, in the page's language; the customer is found by name, by keyboard."""
    from playwright.async_api import expect

    workspace = await ensure_default_workspace(live.core)
    made = await do_create_sequence(
        live.core, workspace.id, SequenceIn.model_validate(PLAN_SEQUENCE)
    )
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/sequences/{made.id}")
    await page.locator("#dry-run input[type=search]").focus()
    await page.keyboard.type(who)
    await expect(page.locator("#dry-found")).to_contain_text("1")
    await page.keyboard.press("Enter")  # the form, with the first customer found
    table = page.locator("#dry-table")
    await expect(table).to_be_visible()
    await expect(table.locator("caption")).to_contain_text("UTC")  # their zone, named
    for shown in words:
        await expect(table).to_contain_text(shown)
    await assert_every_control_is_named(page)
