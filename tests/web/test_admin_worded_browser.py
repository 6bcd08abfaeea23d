"""The settings forms in a real browser: an FAQ article edited in place by keyboard, and the
server's refusals worded in the page's language at the field they are about."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.bots.knowledge import ArticleIn
from kith.bots.store import save_article
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )
    await save_article(
        core,
        workspace.id,
        ArticleIn(
            title="Shipping",
            questions=["When does my order arrive?", "几天能收到货"],
            answer={"en": "In 3 days.", "zh": "三天。", "ja": "3日"},
        ),
    )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_an_admin_edits_an_faq_article_by_keyboard(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/admin/bots")
    articles = page.get_by_role("table", name="Knowledge base")
    await articles.get_by_role("button", name="Edit: Shipping").focus()
    await page.keyboard.press("Enter")
    form = page.get_by_role("form", name="Edit article: Shipping")
    title = form.get_by_label("Title")
    await expect(title).to_be_focused()
    await expect(title).to_have_value("Shipping")
    questions = form.get_by_label("Questions")
    await expect(questions).to_have_value("When does my order arrive?\n几天能收到货")
    await expect(form.get_by_label("Answer in English")).to_have_value("In 3 days.")
    await expect(form.get_by_label("Answer in Chinese")).to_have_value("三天。")

    await page.keyboard.press("Escape")  # stop editing: back to the row's Edit button
    await expect(articles.get_by_role("button", name="Edit: Shipping")).to_be_focused()
    new = page.get_by_role("form", name="New article")
    await expect(new.get_by_label("Title")).to_have_value("")
    await expect(new.get_by_role("button", name="Stop editing")).to_be_hidden()

    await page.keyboard.press("Enter")
    await title.fill("Delivery <b>times</b>")
    form = page.get_by_role("form", name="Edit article: Shipping")
    await questions.fill("x" * 501)
    await form.get_by_label("Answer in English").fill("Two days, free.")
    await form.get_by_label("Answer in Chinese").fill("")  # the Japanese answer stays
    await form.get_by_role("button", name="Save changes").click()
    await expect(questions).to_have_accessible_description(
        "Each question must be 1 to 500 characters."
    )
    await expect(questions).to_have_attribute("aria-invalid", "true")
    await expect(questions).to_be_focused()

    await questions.fill("How long is delivery?")
    for _ in range(4):  # the two answers, Stop editing, then Save changes
        await page.keyboard.press("Tab")
    await expect(form.get_by_role("button", name="Save changes")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Article updated.")
    edited = articles.get_by_role("button", name="Edit: Delivery <b>times</b>")
    await expect(edited).to_be_focused()
    await expect(articles.get_by_role("row", name=re.compile("Delivery"))).to_contain_text(
        "Two days, free."
    )
    stored = await live.core.store.collection("kb_articles").find({}).to_list(None)
    assert [(a["title"], a["answer"]) for a in stored] == [
        ("Delivery <b>times</b>", {"en": "Two days, free.", "ja": "3日"})
    ]
    await expect(page.get_by_role("form", name="New article")).to_be_attached()
    assert await page.locator("[aria-invalid]").count() == 0


async def test_refusals_are_worded_in_chinese_and_english_at_their_field(live: Live) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/admin/users")
    form = page.get_by_role("form", name="新建用户")
    email = form.get_by_label("邮箱")
    await email.fill("ADMIN@kith.test")
    await form.get_by_label("密码").fill(PASSWORD)
    await form.get_by_role("button", name="创建用户").click()
    await expect(email).to_have_accessible_description("已有用户使用此邮箱。")  # not `email`
    await expect(email).to_have_attribute("aria-invalid", "true")
    await expect(email).to_be_focused()

    await email.fill("not an email")  # the browser stops this one: the old error goes
    await form.get_by_role("button", name="创建用户").click()
    await expect(email).to_have_accessible_description("")
    await expect(email).not_to_have_attribute("aria-invalid", "true")

    await page.goto(live.url + "/app/admin/bots")
    await page.get_by_role("button", name="编辑：Shipping").click()
    form = page.get_by_role("form", name="编辑文章：Shipping")
    await form.get_by_label("问题（每行一个）").fill("x" * 501)
    await form.get_by_role("button", name="保存更改").click()
    await expect(form.get_by_label("问题（每行一个）")).to_have_accessible_description(
        "每个问题须为 1 到 500 个字符。"
    )
    await form.get_by_role("button", name="停止编辑").click()
    await expect(page.get_by_role("form", name="新建文章")).to_be_attached()

    english = await live.sign_in("admin@kith.test")
    await english.goto(live.url + "/app/admin/users")
    form = english.get_by_role("form", name="New user")
    await form.get_by_label("Email").fill("admin@kith.test")
    await form.get_by_label("Password").fill(PASSWORD)
    await form.get_by_role("button", name="Create user").click()
    await expect(form.get_by_label("Email")).to_have_accessible_description(
        "A user with this email already exists."
    )
    await expect(form.get_by_role("alert")).to_have_text("")
