"""Customers without a name (anonymous web chat visitors) are told apart in the inbox by the
end of their id, in both languages: QA pass 4 found every visitor listed as "Customer"."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.cast import inbound
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def seed(core: Core, workspace: Workspace) -> None:
    widget, _ = await create_channel(core, workspace.id, "webchat", "Widget", {})
    await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.admin
    )
    for visitor in ("v:first-visitor", "v:second-visitor"):
        user = InboundUser(id=visitor)
        await ingest(core, widget, inbound(widget, text="hello?", user=user))


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize(("locale", "word"), [("en-US", "Customer"), ("zh-CN", "客户")])
async def test_nameless_visitors_are_told_apart(live: Live, locale: str, word: str) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("alice@kith.test", locale=locale)
    names = page.locator("#conversations .conv .name")
    await expect(names).to_have_count(2)
    customers = await live.core.store.customers.find({}, {"_id": 1}).to_list(None)
    expected = sorted(f"{word} {doc['_id'][-4:].upper()}" for doc in customers)
    assert sorted(n.strip() for n in await names.all_inner_texts()) == expected
    await names.first.click()
    shown = (await names.first.inner_text()).strip()
    await expect(page.locator("#customer-name")).to_have_text(shown)
    await expect(page.locator("#messages .author").first).to_have_text(shown)
