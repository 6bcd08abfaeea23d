"""Settings → Bots in a real browser: one refused save marks at once the fields the model
refuses (an image's URL) and those the checks by hand refuse (a trigger without values, a
button that does nothing), in English and in Chinese, by keyboard. Regression: the form
marked the model's refusals first, and the others only once those were fixed."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

I18N = Path(__file__).parents[2] / "web" / "inbox" / "i18n"
WORDS = {
    "en": {
        "locale": "en-US",
        "new_bot": "New bot",
        "add_flow": "Add flow",
        "flow": "Flow 1",
        "values": "Values (one per line)",
        "add_step": "Add step: Flow 1",
        "step_type": "New step's type",
        "send_image": "Send image",
        "step": "Step {n}",
        "add_button": "Add button",
        "url": "URL",
        "save": "Save bot",
    },
    "zh": {
        "locale": "zh-CN",
        "new_bot": "新建机器人",
        "add_flow": "添加流程",
        "flow": "流程 1",
        "values": "值（每行一个）",
        "add_step": "添加步骤：流程 1",
        "step_type": "新步骤类型",
        "send_image": "发送图片",
        "step": "步骤 {n}",
        "add_button": "添加按钮",
        "url": "网址",
        "save": "保存机器人",
    },
}


def said(lang: str, key: str) -> str:
    """A refusal's words in the page's language, as the i18n files hold them."""
    for name in ("admin", ""):
        path = I18N / (f"{name}.{lang}.json" if name else f"{lang}.json")
        words = json.loads(path.read_text(encoding="utf-8"))
        if key in words:
            return str(words[key])
    raise KeyError(key)


async def seed(core: Core, workspace: Workspace) -> None:
    await create_channel(core, workspace.id, "api", "Website", {})
    await create_user(
        core, workspace.id, "admin@kith.test", PASSWORD, name="Admin", role=Role.admin
    )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_one_save_marks_the_models_and_the_hand_checks_refusals(
    live: Live, lang: str
) -> None:
    from playwright.async_api import expect

    w = WORDS[lang]
    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    await page.goto(live.url + "/app/admin/bots")
    await page.get_by_role("button", name=w["new_bot"]).focus()
    await page.keyboard.press("Enter")
    await page.keyboard.type("Half done")
    await page.get_by_role("button", name=w["add_flow"]).focus()
    await page.keyboard.press("Enter")  # a keyword flow, its values left empty
    flow = page.get_by_role("group", name=w["flow"], exact=True)
    await flow.get_by_role("button", name=w["add_step"]).focus()
    await page.keyboard.press("Enter")  # a text step
    await page.keyboard.type("Hello")
    text = flow.get_by_role("group", name=re.compile("^" + w["step"].format(n=1)))
    await text.get_by_role("button", name=w["add_button"]).focus()
    await page.keyboard.press("Enter")
    await page.keyboard.type("Go")  # a button with labels alone: it does nothing
    await page.keyboard.press("Tab")
    await page.keyboard.type("走")
    await flow.get_by_label(w["step_type"]).focus()
    await flow.get_by_label(w["step_type"]).select_option(label=w["send_image"])
    await flow.get_by_role("button", name=w["add_step"]).focus()
    await page.keyboard.press("Enter")
    await page.keyboard.type("not a url")  # the image's URL
    await page.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")

    image = flow.get_by_role("group", name=re.compile("^" + w["step"].format(n=2)))
    url = image.get_by_role("textbox", name=w["url"])
    values = flow.get_by_label(w["values"])
    button = text.locator('[data-field="flows.0.steps.0.buttons.0"]').get_by_role("textbox").first
    for control in (url, values, button):
        await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(image).to_contain_text(said(lang, "reason_url_parsing"))
    await expect(text).to_contain_text(said(lang, "reason_button_does_nothing"))  # by hand
    await expect(flow).to_contain_text(said(lang, "reason_trigger_values_required"))
    await expect(url).to_be_focused()  # the first refusal
    assert await live.core.store.collection("bots").count_documents({}) == 0
