"""What the browser tests of Kith's pages share: a live app with its seed, a signed-in page per
user, the check that every control has an accessible name, and the screenshots kept for docs/.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

from kith.core.context import Core
from kith.core.models import Workspace
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import build_core
from tests.support.browser import chromium, live_server
from tests.support.cores import started
from tests.support.snapshots import key_of, seed_once
from tests.web.conftest import PASSWORD

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LOGIN_LABELS = {"en": ("Email", "Password", "Log in"), "zh": ("邮箱", "密码", "登录")}
# Every control on a page, and whether it has an accessible name (label, aria-label or text).
CONTROLS = "input:not([type=hidden]), select, textarea, button, a[href]"
UNNAMED_CONTROLS = f"""() => [...document.querySelectorAll("{CONTROLS}")].filter((el) =>
  !(el.labels && el.labels.length) && !el.getAttribute("aria-label")
  && !el.getAttribute("aria-labelledby") && !el.textContent.trim()).map((el) => el.outerHTML)"""


@dataclass
class Live:
    url: str
    core: Core
    browser: object

    async def sign_in(self, email: str, locale: str = "en-US", password: str = PASSWORD):
        from playwright.async_api import expect

        context = await self.browser.new_context(
            locale=locale, viewport={"width": 1300, "height": 900}
        )
        page = await context.new_page()
        page.on("dialog", lambda d: pytest.fail(f"a browser dialog opened: {d.message}"))
        await page.goto(self.url + "/app/login")
        email_label, password_label, button = LOGIN_LABELS[locale[:2]]
        await page.get_by_label(email_label).fill(email)
        await page.get_by_label(password_label).fill(password)
        await page.get_by_role("button", name=button).click()
        # Each role's landing page: the inbox, or Contacts for a marketer; My account for a
        # user who must first replace the password an admin chose.
        landing = r"/app(/contacts|/admin/account)?$"
        await expect(page).to_have_url(re.compile(re.escape(self.url) + landing))
        return page


@contextlib.asynccontextmanager
async def live_app(
    settings: Settings,
    seed: Callable[[Core, Workspace], Awaitable[None]],
    *,
    prepare: Callable[[Core], None] | None = None,
    reuse_seed: bool = False,
) -> AsyncIterator[Live]:
    """The real app (sentiment off) on a live server with a browser, after `prepare` set up
    what the test needs of the core (a clock, a recording platform) and `seed` stored what it
    needs in the default workspace; its database dropped at the end.

    With `reuse_seed`, the seed runs once per test process and later tests get a copy of the
    database it left (tests/support/snapshots.py): for seeds that take seconds, and change
    nothing but the database."""
    settings = settings.model_copy(update={"nlp_enabled": False})
    core = build_core(settings)
    core.store = Store.from_settings(settings)
    async with started(core):
        if prepare is not None:
            prepare(core)
        if reuse_seed:
            await seed_once(core, partial(_seed_default, seed), key_of(seed))
        else:
            await _seed_default(seed, core)
        async with live_server(core) as server, chromium() as browser:
            yield Live(server.url, core, browser)


async def _seed_default(seed: Callable[[Core, Workspace], Awaitable[None]], core: Core) -> None:
    await seed(core, await ensure_default_workspace(core))


async def assert_every_control_is_named(page) -> None:
    assert await page.evaluate(UNNAMED_CONTROLS) == []


async def keep_screenshot(page: object, name: str, tmp_path: Path) -> None:
    """Taken on every run; kept in docs/screenshots with KITH_SCREENSHOTS=1."""
    shot = tmp_path / name
    await page.screenshot(path=str(shot), full_page=True)  # type: ignore[attr-defined]
    if os.environ.get("KITH_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOTS / name)


async def poll_page(page: object, script: str, within: float = 15.0) -> object:
    """The first truthy answer of `script` (a JS function's source), asked every 50 ms.

    Not `page.wait_for_function`: once its first try fails it polls inside the page with eval,
    which the page's CSP (`script-src 'self'`) refuses; `page.evaluate` goes through the
    DevTools protocol, which the CSP does not govern. Returns the last answer at the deadline,
    so the caller's assertion says what the page showed instead.
    """
    deadline = asyncio.get_running_loop().time() + within
    while True:
        answer = await page.evaluate(script)  # type: ignore[attr-defined]
        if answer or asyncio.get_running_loop().time() >= deadline:
            return answer
        await asyncio.sleep(0.05)
