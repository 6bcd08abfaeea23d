"""A form marks every field the server refused, not only the first (a real browser).

The new-channel form of Settings → Channels, for a website chat with a short identity secret
and a colour that is not one: both settings are marked invalid, each with its own refusal
worded in the page's language beside it, and the first is focused. By keyboard, in English
and in Chinese.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

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


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


WORDS = {
    "en": {
        "locale": "en",
        "form": "New channel",
        "type": "Type",
        "webchat": "Website chat",
        "name": "Name",
        "secret": "Identity secret",
        "color": "Accent colour",
        "create": "Create channel",
        "too_short": "Must be at least 16 characters.",
        "pattern": "A colour like #1a73e8 or #fff.",
    },
    "zh": {
        "locale": "zh-CN",
        "form": "新建渠道",
        "type": "类型",
        "webchat": "网站聊天",
        "name": "名称",
        "secret": "身份验证密钥",
        "color": "主题色",
        "create": "创建渠道",
        "too_short": "至少 16 个字符。",
        "pattern": "形如 #1a73e8 或 #fff 的颜色。",
    },
}


def ends_with(words: str) -> re.Pattern[str]:
    """A control's description: its hint, then the refusal beside it."""
    return re.compile(re.escape(words) + r"\s*$")


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_both_refused_settings_are_marked_with_their_own_words(
    live: Live, language: str
) -> None:
    from playwright.async_api import expect

    words = WORDS[language]
    page = await live.sign_in("admin@kith.test", locale=words["locale"])
    await page.goto(live.url + "/app/admin/channels")
    form = page.get_by_role("form", name=words["form"])
    await form.get_by_label(words["type"]).select_option(label=words["webchat"])
    secret = form.get_by_label(words["secret"], exact=True)
    color = form.get_by_label(words["color"], exact=True)
    await form.get_by_label(words["name"], exact=True).fill("Shop <b>site</b>")
    await secret.fill("short")
    await color.fill("red")
    await color.press("Enter")  # submits, as the button would

    await expect(secret).to_have_attribute("aria-invalid", "true")
    await expect(color).to_have_attribute("aria-invalid", "true")
    await expect(secret).to_have_accessible_description(ends_with(words["too_short"]))
    await expect(color).to_have_accessible_description(ends_with(words["pattern"]))
    await expect(secret).to_be_focused()  # the first refused field
    assert await live.core.store.channels.count_documents({}) == 0

    # Fixed, the marks go: a second refusal leaves only its own field marked.
    await secret.fill("a-secret-long-enough-to-pass")
    await secret.press("Enter")
    await expect(secret).not_to_have_attribute("aria-invalid", "true")
    await expect(secret).not_to_have_accessible_description(ends_with(words["too_short"]))
    await expect(color).to_have_attribute("aria-invalid", "true")
    await expect(color).to_be_focused()
