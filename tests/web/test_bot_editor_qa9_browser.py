"""Settings → Bots after QA pass 9, in a real browser, in English and Chinese, by keyboard:
a bot saved on a channel another enabled bot serves is refused at that channel's checkbox,
naming the other bot; a template's `{{ … }}` in a bot text is refused at the text, whose hint
lists the placeholders bots fill; and an FAQ article saved without an answer in a language
the FAQ answers in is saved, with a warning naming the language."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.bots.knowledge import ArticleIn
from kith.bots.store import save_article, save_bot
from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

WORDS = {
    "en": {
        "locale": "en-US",
        "new_bot": "New bot",
        "name": "Name",
        "fallback_en": "When the bot does not understand (English)",
        "placeholders": "Placeholders: {name} (the customer's name)",
        "save": "Save bot",
        "taken": "The enabled bot “Shop <b>assistant</b>” already answers on this channel",
        "template": "Bot texts are not templates: “{{” would reach the customer as typed.",
        "title": "Title",
        "questions": "Questions (one per line)",
        "answer_en": "Answer in English",
        "save_article": "Save article",
        "missing": "Article saved, but it has no answer in Chinese:",
    },
    "zh": {
        "locale": "zh-CN",
        "new_bot": "新建机器人",
        "name": "名称",
        "fallback_en": "机器人没有理解时（英文）",
        "placeholders": "占位符：{name}（客户姓名）",
        "save": "保存机器人",
        "taken": "已启用的机器人“Shop <b>assistant</b>”已在此渠道回复",
        "template": "机器人文本不是模板：“{{”会原样发给客户。",
        "title": "标题",
        "questions": "问题（每行一个）",
        "answer_en": "英文回答",
        "save_article": "保存文章",
        "missing": "文章已保存，但没有中文答案：",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    website, _ = await create_channel(core, workspace.id, "api", "Website", {})
    await create_channel(core, workspace.id, "api", "App", {})
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )
    shop = {"name": "Shop <b>assistant</b>", "channel_ids": [website.id]}
    await save_bot(core, workspace.id, shop)
    shipping = ArticleIn(
        title="Shipping",
        questions=["How long does shipping take?"],
        answer={"en": "3 to 5 days.", "zh": "3到5天。"},
    )
    await save_article(core, workspace.id, shipping)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_taken_channel_and_a_template_are_refused_at_their_fields(
    live: Live, lang: str
) -> None:
    from playwright.async_api import expect

    w = WORDS[lang]
    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    await page.goto(live.url + "/app/admin/bots")
    await page.get_by_role("button", name=w["new_bot"]).focus()
    await page.keyboard.press("Enter")
    name = page.get_by_role("textbox", name=w["name"], exact=True).first
    await expect(name).to_be_focused()  # the form is drawn: typing lands in it
    await page.keyboard.type("Warranty bot")
    await page.keyboard.press("Tab")  # enabled
    await page.keyboard.press("Tab")  # the first channel
    website = page.get_by_role("checkbox", name="Website (api)")
    await expect(website).to_be_focused()
    await page.keyboard.press("Space")
    fallback = page.get_by_role("textbox", name=w["fallback_en"])
    await expect(fallback).to_have_accessible_description(re.compile(re.escape(w["placeholders"])))
    await fallback.focus()
    await page.keyboard.type("Sorry {{ customer.name }}, <i>what</i>?")
    await assert_every_control_is_named(page)
    await page.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")

    await expect(fallback).to_have_attribute("aria-invalid", "true")
    await expect(fallback).to_be_focused()  # the first bad field
    await expect(page.locator('[data-field="fallback_text"]')).to_contain_text(w["template"])
    await expect(website).to_have_attribute("aria-invalid", "true")
    choice = page.locator(".be-choice").filter(has=website)
    await expect(choice).to_contain_text(w["taken"])  # the other bot's name, escaped
    assert await live.core.store.collection("bots").count_documents({}) == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_an_article_without_a_chinese_answer_is_saved_with_a_warning(
    live: Live, lang: str
) -> None:
    from playwright.async_api import expect

    w = WORDS[lang]
    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    await page.goto(live.url + "/app/admin/bots")
    await page.locator("#article-summary").focus()
    await page.keyboard.press("Enter")
    title = page.get_by_label(w["title"], exact=True)
    await expect(title).to_be_visible()
    await title.focus()
    await page.keyboard.type("Warranty")
    await page.keyboard.press("Tab")
    await page.keyboard.type("How long is the warranty?\nhow long is the warranty?")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label(w["answer_en"])).to_be_focused()
    await page.keyboard.type("Two years.")
    await page.get_by_role("button", name=w["save_article"]).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text(w["missing"])
    doc = await live.core.store.collection("kb_articles").find_one({"title": "Warranty"})
    assert doc is not None and doc["questions"] == ["How long is the warranty?"]
