"""The Broadcasts page in a real browser: a marketer composes (a bad template is named by its
field), saves, schedules and reads the stats, by keyboard and accessible names; Chinese too."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import time
from pathlib import Path

import pytest

from kith.broadcasts.actions import do_create_broadcast, do_schedule
from kith.broadcasts.models import BroadcastIn
from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.courtesy.settings import CourtesySettings, save_settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def seed(core: Core, workspace: Workspace) -> None:
    channel, _ = await create_channel(
        core, workspace.id, "api", "Website", {"callback_url": "http://integrator.test/kith"}
    )
    # The live server runs on the wall clock: no quiet hours, whatever the hour of the run.
    await save_settings(
        core, workspace.id, CourtesySettings(quiet_start=time(0), quiet_end=time(0))
    )
    for n, (uid, name) in enumerate((("u-ada", "Ada"), ("u-li", "李雷"))):
        user = InboundUser(id=uid, name=name, locale="zh-CN" if n else "en")
        message = InboundMessage.on(channel, channel_message_id=f"m{n}", user=user, text="hi")
        await ingest(core, channel, message)
    for name, role in (("mary", Role.marketer), ("alice", Role.agent)):
        await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def customer_ids(live: Live) -> list[str]:
    return sorted(await live.core.store.customers.distinct("_id", {}))


async def test_a_marketer_composes_schedules_and_reads_the_stats(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.goto(live.url + "/app/broadcasts")
    await expect(page.get_by_role("heading", name="Compose a broadcast")).to_be_visible()
    await assert_every_control_is_named(page)
    form = page.get_by_role("form", name="Compose a broadcast")
    await form.get_by_label("Name").fill("Spring sale")
    await form.get_by_label("Customer ids").fill(" ".join(await customer_ids(live)))
    await form.get_by_label("Text in English").fill("Hello {{ customer.name }}")
    await form.get_by_label("Text in Chinese").fill("你好 {{ customer.nmae }}")
    channels = form.get_by_role("group", name="Channels, in order of preference")
    await expect(channels.get_by_role("checkbox")).to_have_count(1)  # the workspace's only
    await expect(channels.get_by_role("checkbox", name="API")).to_be_checked()
    await form.get_by_role("button", name="Save draft").focus()
    await page.keyboard.press("Enter")
    error = form.get_by_role("alert")
    await expect(error).to_contain_text("Text in Chinese: ")  # the field by its label
    await expect(error).to_contain_text("line 1, column 16")
    await expect(form.get_by_label("Text in Chinese")).to_be_focused()
    await form.get_by_label("Text in Chinese").fill("你好 {{ customer.name }}")
    await form.get_by_role("button", name="Save draft").focus()
    await page.keyboard.press("Enter")
    table = page.get_by_role("table", name="All broadcasts")
    row = table.get_by_role("row", name=re.compile("Spring sale"))
    await expect(row).to_contain_text("Draft")

    await row.get_by_role("button", name="Stats and preview").click()
    search = page.get_by_label("Find a customer (name, email or phone)")
    await expect(search).to_be_focused()  # the preview's customer is found by name
    await page.keyboard.type("李雷")
    await expect(page.locator("#preview-found")).to_have_text("1 found")
    await page.keyboard.press("Enter")
    await expect(page.locator("#preview-out")).to_contain_text("你好 李雷")
    await search.fill("nobody")
    await expect(page.locator("#preview-found")).to_have_text("0 found")
    await expect(page.locator("#preview-out")).to_be_empty()  # not 李雷's under "nobody"

    await row.get_by_role("button", name="Send now").click()  # no time given: asked first
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_contain_text("Send “Spring sale” to 2 customers now?")
    await dialog.get_by_role("button", name="Confirm").click()
    await expect(row).to_contain_text(re.compile("Sending|Done"), timeout=15_000)
    await expect(row).to_contain_text("Done", timeout=15_000)
    await row.get_by_role("button", name="Stats and preview").click()
    figures = page.locator("#stats-figures")
    await expect(figures).to_contain_text("Targeted")
    await expect(figures.locator("dd").first).to_have_text("2")
    await keep_screenshot(page, "broadcasts-en.png", tmp_path)


async def test_the_chinese_page_and_an_agent_is_refused(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/broadcasts")
    await expect(page.get_by_role("heading", name="撰写群发")).to_be_visible()
    await expect(page.get_by_role("button", name="保存草稿")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
    await assert_every_control_is_named(page)
    await keep_screenshot(page, "broadcasts-zh.png", tmp_path)
    agent = await live.sign_in("alice@kith.test")
    answer = await agent.goto(live.url + "/app/broadcasts")
    assert answer is not None and answer.status == 403


async def test_the_preview_says_in_chinese_why_the_text_fails_for_a_customer(live: Live) -> None:
    """A missing attribute fails for that customer only: the preview says which, in the page's
    language, instead of Jinja's English message."""
    from playwright.async_api import expect

    workspace_id = (await live.core.store.customers.find_one({}))["workspace_id"]
    body = BroadcastIn.model_validate(
        {"name": "会员日", "message": {"text": {"zh": "你好 {{ customer.attributes.plan }}"}},
         "channels": ["api"], "customer_ids": await customer_ids(live)}
    )  # fmt: skip
    await do_create_broadcast(live.core, workspace_id, body, Author(kind=AuthorKind.system))
    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/broadcasts")
    row = page.get_by_role("table").get_by_role("row", name=re.compile("会员日"))
    await row.get_by_role("button", name="统计与预览").click()
    await expect(page.get_by_label("查找客户（姓名、邮箱或手机号）")).to_be_focused()
    await page.keyboard.type("李雷")
    await expect(page.locator("#preview-found")).to_have_text("找到 1 位")
    await page.keyboard.press("Enter")
    out = page.locator("#preview-out")
    await expect(out).to_contain_text("此客户没有“plan”的值")
    await expect(out).not_to_contain_text("dict object")


async def test_the_recipients_list_says_who_was_skipped_and_why_in_chinese(live: Live) -> None:
    """After the send, each customer's outcome; a template that failed for one of them says
    which value was missing, in the page's language; the filter narrows to the skipped, and
    the CSV link downloads what the filter shows."""
    from playwright.async_api import expect

    workspace_id = (await live.core.store.customers.find_one({}))["workspace_id"]
    text = {"en": "Hi {{ customer.name }}", "zh": "你好 {{ customer.attributes.plan }}"}
    body = BroadcastIn.model_validate(
        {"name": "会员日", "message": {"text": text}, "channels": ["api"],
         "customer_ids": await customer_ids(live)}
    )  # fmt: skip
    system = Author(kind=AuthorKind.system)
    await do_schedule(
        live.core, await do_create_broadcast(live.core, workspace_id, body, system), system
    )
    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/broadcasts")
    row = page.get_by_role("table").get_by_role("row", name=re.compile("会员日"))
    await expect(row).to_contain_text("已完成", timeout=15_000)
    await row.get_by_role("button", name="统计与预览").click()
    listed = page.get_by_role("table", name="接收者").locator("tbody tr")
    await expect(listed).to_have_count(2)
    skipped = listed.filter(has_text="李雷")
    await expect(skipped).to_contain_text("已跳过")
    await expect(skipped).to_contain_text("此客户没有“plan”的值")
    await expect(listed.filter(has_text="Ada")).to_contain_text("已发送 · api")
    await page.get_by_label("显示").select_option(label="已跳过")
    await expect(listed).to_have_count(1)
    await expect(listed).to_contain_text("李雷")
    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="下载 CSV").click()
    saved = await (await downloading.value).path()
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    assert [(r["customer_name"], r["status"]) for r in rows] == [("李雷", "skipped")]
    await assert_every_control_is_named(page)
