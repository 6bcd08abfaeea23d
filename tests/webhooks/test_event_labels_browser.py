"""The Webhooks page names each event type in the admin's language beside its code, the
ticket events included, and the Chinese navigation names the page (QA pass 5, minor 7)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.settings import Settings
from kith.web.inbox.i18n import messages
from kith.webhooks.models import EVENT_TYPES
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.webhooks.test_page_browser import seed

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize(("locale", "nav"), [("en-US", "Webhooks"), ("zh-CN", "Webhook 推送")])
async def test_every_event_type_is_named_in_the_pages_language(
    live: Live, locale: str, nav: str
) -> None:
    from playwright.async_api import expect

    t = messages(locale[:2])
    page = await live.sign_in("admin@kith.test", locale=locale)
    sections = page.get_by_role("navigation", name=t["nav_app"])
    await sections.get_by_role("link", name=nav, exact=True).click()
    await expect(page).to_have_title(f"{t['webhooks_title']} · Kith")
    form = page.get_by_role("form", name=t["webhooks_create"])
    for kind in EVENT_TYPES:
        label = t["webhooks_event_" + kind.replace(".", "_")]
        await expect(
            form.get_by_role("checkbox", name=f"{kind} {label}", exact=True)
        ).to_have_count(1)
    breach = form.get_by_role(
        "checkbox", name=f"ticket.sla_breached {t['webhooks_event_ticket_sla_breached']}"
    )
    await breach.focus()
    await page.keyboard.press("Space")
    await expect(breach).to_be_checked()
