"""Settings → Channels words a refused setting by its label and its rule, never by the API's
path or pydantic's "expected format" (qa8 minor 8): by keyboard, in English and Chinese."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.held import Held
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]

WORDS = {
    "en": {
        "locale": "en-US",
        "form": "New channel",
        "type": "Type",
        "name": "Name",
        "bot_token": "Bot token",
        "secret": "Webhook secret token",
        "name_required": "Name: This field is required.",
        "token_rule": "Looks like 123456:ABC-DEF…, as BotFather gives it.",
        "secret_rule": "16 to 256 letters, digits, _ or -.",
        "said": "{label}: {rule}",
    },
    "zh": {
        "locale": "zh-CN",
        "form": "新建渠道",
        "type": "类型",
        "name": "名称",
        "bot_token": "机器人令牌",
        "secret": "Webhook 密钥令牌",
        "name_required": "名称：此项必填。",
        "token_rule": "形如 123456:ABC-DEF…，即 BotFather 给出的令牌。",
        "secret_rule": "16 到 256 个字母、数字、_ 或 -。",
        "said": "{label}：{rule}",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


def ends_with(words: str) -> re.Pattern[str]:
    """A control's description: its hint, then the refusal beside it."""
    return re.compile(re.escape(words) + r"\s*$")


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_a_telegram_bots_refused_settings_say_their_label_and_rule(
    live: Live, language: str
) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    page = await live.sign_in("admin@kith.test", locale=words["locale"])
    await page.goto(live.url + "/app/admin/channels")
    form = page.get_by_role("form", name=words["form"])
    await form.get_by_label(words["type"]).select_option("telegram")
    name = form.get_by_label(words["name"], exact=True)
    token = form.get_by_label(words["bot_token"], exact=True)
    secret = form.get_by_label(words["secret"], exact=True)
    alert = form.get_by_role("alert")

    await token.fill("not-a-token")
    await secret.fill("not-a-token")  # too short for Telegram: the QA's case
    await token.press("Enter")  # submits; the blank name is refused first, as itself
    await expect(alert).to_have_text(words["name_required"])
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_be_focused()

    await name.fill("Shop bot")
    await name.press("Enter")
    await expect(alert).to_contain_text(
        words["said"].format(label=words["bot_token"], rule=words["token_rule"])
    )
    await expect(alert).to_contain_text(
        words["said"].format(label=words["secret"], rule=words["secret_rule"])
    )
    text = await alert.inner_text()
    assert "config." not in text and "format" not in text and "格式" not in text
    await expect(name).not_to_have_attribute("aria-invalid", "true")
    await expect(token).to_have_attribute("aria-invalid", "true")
    await expect(secret).to_have_attribute("aria-invalid", "true")
    await expect(token).to_have_accessible_description(ends_with(words["token_rule"]))
    await expect(secret).to_have_accessible_description(ends_with(words["secret_rule"]))
    await expect(token).to_be_focused()  # the first refused control
    assert await live.core.store.channels.count_documents({}) == 0

    await token.fill("123456:ABC-DEF_ghi")  # fixed: only the secret is still refused
    await token.press("Enter")
    await expect(alert).to_have_text(
        words["said"].format(label=words["secret"], rule=words["secret_rule"])
    )
    await expect(token).not_to_have_attribute("aria-invalid", "true")
    await expect(secret).to_be_focused()


async def test_a_channel_named_before_the_types_arrive_waits_for_them(live: Live) -> None:
    """Before the channel types arrive, no script sends the form: Enter in the name box let
    the browser submit it itself (the page reloaded, the name lost). Create waits, disabled,
    and the name typed meanwhile is there when the type and its settings are."""
    from playwright.async_api import expect

    words = WORDS["en"]
    page = await live.sign_in("admin@kith.test", locale=words["locale"])
    types = Held("/channel-types", method="GET")
    await types.install(page)
    await page.goto(live.url + "/app/admin/channels")
    await types.first()
    form = page.get_by_role("form", name=words["form"])
    create = form.get_by_role("button", name="Create channel")
    await expect(create).to_be_disabled()
    name = form.get_by_label(words["name"], exact=True)
    await name.focus()
    await page.keyboard.type("Shop")
    await page.keyboard.press("Enter")
    types.release()
    await expect(create).to_be_enabled()
    await expect(form.get_by_label(words["type"]).locator("option")).not_to_have_count(0)
    await expect(name).to_have_value("Shop")
    await expect(name).to_be_focused()
    assert "?" not in page.url
