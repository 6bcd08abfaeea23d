"""Regressions (QA pass 4, M6) on the Broadcasts page in Chromium, by keyboard, in English and
Chinese: a draft is edited in place (its past `send_by` refused in the page's language), the
reach of a segment is estimated before the send, and the preview's customer is found by name."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.broadcasts.actions import do_create_broadcast
from kith.broadcasts.models import BroadcastIn
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.ids import new_id
from kith.core.models import Author, AuthorKind, Customer, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.segments.records import do_create_segment
from tests.support.browser import needs_chromium
from tests.support.cast import api_channel, inbound
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
VIP = {"field": "tags", "op": "contains", "value": "vip"}
TEXT = {"en": "Hello {{ customer.name }}", "zh": "你好 {{ customer.name }}"}


async def seed(core: Core, workspace: Workspace) -> None:
    """Mary the marketer; Ada, who wrote on the API channel, and two contacts imported with
    no channel, all three tagged vip; a draft to the vip segment."""
    await create_user(
        core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.marketer
    )
    channel, _ = await api_channel(core, workspace.id)
    ada = (await ingest(core, channel, inbound(channel, "ada", "hi"))).conversation.customer_id
    await core.store.customers.update_one({"_id": ada}, {"$set": {"tags": ["vip"]}})
    now = core.clock.now()
    for name in ("Wu Song", "Zhao Liu"):
        contact = Customer(
            id=new_id(), workspace_id=workspace.id, name=name, tags=["vip"], first_seen=now
        )
        await core.store.customers.insert_one(contact.to_doc())
    segment = await do_create_segment(core, workspace.id, "VIP", VIP)
    body = BroadcastIn.model_validate(
        {"name": "Spring sale", "message": {"text": TEXT}, "channels": ["api"],
         "segment_id": segment.id}
    )  # fmt: skip
    await do_create_broadcast(core, workspace.id, body, Author(kind=AuthorKind.system, name="t"))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_a_marketer_edits_a_draft_estimates_its_reach_and_previews_it(
    live: Live, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test")
    await page.goto(live.url + "/app/broadcasts")
    row = page.get_by_role("table", name="All broadcasts").get_by_role("row", name="Spring sale")
    await row.get_by_role("button", name="Edit").focus()
    await page.keyboard.press("Enter")
    form = page.get_by_role("form", name="Compose a broadcast")
    await expect(form.get_by_label("Name")).to_be_focused()
    await expect(form.get_by_label("Name")).to_have_value("Spring sale")
    await expect(form).to_contain_text("Editing the draft “Spring sale”")
    await expect(form.get_by_role("combobox", name=re.compile("^Segment"))).to_have_value(
        re.compile(".+")
    )
    await expect(form.get_by_label("Text in Chinese")).to_have_value(TEXT["zh"])
    await assert_every_control_is_named(page)

    await form.get_by_label("Name").fill("Spring sale, 2nd try")
    await form.get_by_label("Send by (later sends are dropped)").fill("2020-01-01T10:00")
    await form.get_by_role("button", name="Save changes").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#compose-error")).to_have_text(
        "Send by: this time has already passed: pick a later one, or leave it empty."
    )
    await expect(form.get_by_label("Send by (later sends are dropped)")).to_be_focused()

    await form.get_by_label("Send by (later sends are dropped)").fill("")
    await form.get_by_role("button", name="Save changes").focus()
    await page.keyboard.press("Enter")
    edited = page.get_by_role("row", name=re.compile("Spring sale, 2nd try"))
    await expect(edited).to_contain_text("Draft")
    await expect(page.locator("#notice")).to_have_text("Spring sale, 2nd try: changes saved")
    await expect(form.get_by_role("button", name="Save draft")).to_be_visible()
    assert await live.core.store.collection("broadcasts").count_documents({}) == 1

    # Before sending: the segment's reach, and why the rest would be skipped.
    await form.get_by_role("combobox", name=re.compile("^Segment")).select_option(
        index=1
    )  # the one segment, "VIP (…)"
    await expect(form.locator(".estimate")).to_have_text(
        re.compile(
            r"In the audience 3 · reachable on these channels 1 · would receive it 1 .*"
            r"would be skipped: no reachable channel 2"
        )
    )
    await edited.get_by_role("button", name="Stats and preview").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#draft-estimate")).to_contain_text("In the audience 3")

    search = page.get_by_label("Find a customer (name, email or phone)")
    await expect(search).to_be_focused()
    await page.keyboard.type("ada")
    await expect(page.locator("#preview-found")).to_have_text("1 found")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("combobox", name=re.compile("^Customer"))).to_be_focused()
    await expect(page.get_by_role("combobox", name=re.compile("^Customer"))).to_contain_text(
        "Ada Lovelace"
    )
    await page.get_by_role("button", name="Preview", exact=True).focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#preview-out")).to_contain_text("Hello Ada Lovelace")
    await keep_screenshot(page, "broadcasts-edit-estimate-en.png", tmp_path)


async def test_editing_and_the_estimate_in_chinese(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/broadcasts")
    row = page.get_by_role("row", name=re.compile("Spring sale"))
    await row.get_by_role("button", name="编辑").focus()
    await page.keyboard.press("Enter")
    form = page.get_by_role("form", name="撰写群发")
    await expect(form).to_contain_text("正在编辑草稿“Spring sale”")
    await form.get_by_label("截止时间（之后不再发送）").fill("2020-01-01T10:00")
    await form.get_by_role("button", name="保存修改").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#compose-error")).to_have_text(
        "截止时间：该时间已经过去：请选择更晚的时间，或留空。"
    )
    await form.get_by_label("截止时间（之后不再发送）").fill("")
    await form.get_by_role("button", name="预估触达").focus()
    await page.keyboard.press("Enter")
    await expect(form.locator(".estimate")).to_have_text(
        re.compile(r"受众 3 · 可通过这些渠道触达 1 · 将会收到 1.*将被跳过：没有可用渠道 2")
    )
    await form.get_by_role("button", name="退出编辑").focus()
    await page.keyboard.press("Enter")
    await expect(form.get_by_role("button", name="保存草稿")).to_be_visible()
    await expect(form.get_by_label("名称")).to_have_value("")
    await row.get_by_role("button", name=re.compile("统计与预览")).click()
    await expect(page.get_by_label("查找客户（姓名、邮箱或手机号）")).to_be_focused()
    await assert_every_control_is_named(page)
    await keep_screenshot(page, "broadcasts-edit-estimate-zh.png", tmp_path)
