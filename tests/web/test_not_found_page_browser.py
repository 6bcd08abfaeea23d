"""An /app address with nothing behind it shows a page, not JSON (QA pass 9, minor 9): a
mistyped path or a broadcast's address (there is no page for one broadcast), in
the user's language with a way back to the inbox. The JSON API keeps answering JSON."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(120)]
NOWHERE = ("/app/nope", "/app/broadcasts/6b14546f79970c1ee1654d85", "/app/admin/nope/deeper")
WORDS = {
    "en-US": ("Page not found", "Back to Inbox", "en"),
    "zh-CN": ("找不到页面", "返回收件箱", "zh-Hans"),
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "alice@kith.test", PASSWORD, name="Alice", role=Role.admin
    )
    await create_user(
        core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.marketer
    )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_missing_app_page_is_a_page_with_a_way_back(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    title, back, lang = WORDS[locale]
    page = await live.sign_in("alice@kith.test", locale=locale)
    for path in NOWHERE:
        answer = await page.goto(live.url + path)
        assert answer is not None and answer.status == 404, path
        await expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
        await expect(page.locator("html")).to_have_attribute("lang", lang)
        await expect(page.locator("body")).not_to_contain_text('"error"')  # no JSON shown
    link = page.get_by_role("link", name=back)
    await link.focus()
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(live.url + "/app")


@pytest.mark.parametrize(
    ("locale", "back"), [("en-US", "Back to Contacts"), ("zh-CN", "返回联系人")]
)
async def test_a_marketer_is_sent_back_to_their_own_first_section(
    live: Live, locale: str, back: str
) -> None:
    """QA: a marketer refused the settings, or on a missing page, was offered "Back to inbox"
    (they have none: /app sends them to Contacts)."""
    from playwright.async_api import expect

    page = await live.sign_in("mary@kith.test", locale=locale)
    for path, status in (("/app/admin/users", 403), ("/app/nope", 404)):
        answer = await page.goto(live.url + path)
        assert answer is not None and answer.status == status, path
        link = page.get_by_role("main").get_by_role("link", name=back, exact=True)
        await expect(link).to_have_attribute("href", "/app/contacts")


async def test_a_visitor_not_signed_in_gets_the_page_in_their_language(live: Live) -> None:
    from playwright.async_api import expect

    context = await live.browser.new_context(locale="zh-CN")  # type: ignore[attr-defined]
    page = await context.new_page()
    answer = await page.goto(live.url + "/app/nope")
    assert answer is not None and answer.status == 404
    await expect(page.get_by_role("heading", name="找不到页面")).to_be_visible()
    await expect(page.get_by_role("link", name="返回收件箱")).to_have_attribute("href", "/app")


async def test_the_api_and_clients_that_ask_for_json_still_get_json(live: Live) -> None:
    html = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    async with httpx.AsyncClient(base_url=live.url) as http:
        for path, headers in (
            ("/app/api/nope", html),  # the app's API, even from a browser's address bar
            ("/api/v1/nope", html),
            ("/app/nope", {"accept": "application/json"}),
            ("/app/nope", {"accept": "*/*"}),  # fetch()'s default
        ):
            answer = await http.get(path, headers=headers)
            assert answer.status_code == 404, path
            assert answer.json()["error"]["code"] == "not_found", path
        posted = await http.post("/app/nope", headers=html)
        assert posted.headers["content-type"].startswith("application/json")
