"""The builder's "Channel types" is a choice of the types Kith knows, in Chromium, by
keyboard, in English and Chinese (QA: a free-text box where `Telegram` matched no one)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.segments.conftest import customer
from tests.support.browser import needs_chromium
from tests.support.consumers import drain
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
WORDS = {
    "en-US": {
        "field": "Field",
        "value": "Value",
        "channels": "Channel types",
        "two": "2 customers match now",
    },
    "zh-CN": {
        "field": "字段",
        "value": "值",
        "channels": "渠道类型",
        "two": "当前符合的客户：2 位",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.admin)
    await customer(core, workspace.id, "c-tg", channels=["telegram"])
    await customer(core, workspace.id, "c-both", channels=["email", "telegram"])
    await customer(core, workspace.id, "c-mail", channels=["email"])
    await drain(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_channel_types_are_picked_from_the_known_ones(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/segments")
    form = page.locator("#builder")
    await form.get_by_label(f"{w['field']} 1", exact=True).select_option(label=w["channels"])
    value = form.get_by_label(f"{w['value']} 1", exact=True)
    await expect(value.locator("option")).to_have_text(live.core.channels.names())
    await value.focus()
    await value.select_option("telegram")
    await expect(page.locator("#live-count")).to_have_text(w["two"])
    await expect(page.locator("#filter-json")).to_have_value(
        '{\n  "all": [\n    {\n      "field": "channels",\n      "op": "contains",\n'
        '      "value": "telegram"\n    }\n  ]\n}'
    )
    await assert_every_control_is_named(page)
