"""The unsubscribe page in Chromium: English and Chinese, done with the keyboard alone
(the button has the focus: Enter unsubscribes), and screenshots for docs/screenshots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kith.consent.feature import feature as consent_feature
from kith.consent.links import LinkTarget, make_token
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.customers import get_customer
from kith.core.features import install
from kith.core.models import ConsentState, InboundMessage, InboundUser
from kith.core.pipeline import ingest
from tests.support.browser import chromium, live_server, needs_chromium

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
pytestmark = needs_chromium

CASES = (
    ("en-US", "Unsubscribe", "You are unsubscribed", "unsubscribe-en.png"),
    ("zh-CN", "退订", "您已退订", "unsubscribe-zh.png"),
)


@pytest.mark.timeout(120)
async def test_one_button_by_keyboard_in_both_languages(
    core: Core, workspace_id: str, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    install(core, [consent_feature])
    channel, _ = await create_channel(core, workspace_id, "api", "App", {})
    shots: list[Path] = []
    async with live_server(core) as live, chromium() as browser:
        for n, (locale, button, done, shot) in enumerate(CASES):
            received = await ingest(
                core,
                channel,
                InboundMessage.on(
                    channel, channel_message_id=f"m-{n}", user=InboundUser(id=f"u-{n}"), text="hi"
                ),
            )
            customer_id = received.message.customer_id
            token = await make_token(core, LinkTarget(workspace_id, customer_id, "email"))
            context: Any = await browser.new_context(locale=locale)  # type: ignore[attr-defined]
            page = await context.new_page()
            await page.goto(f"{live.url}/u/{token}")
            await expect(page.get_by_role("heading", name=button)).to_be_visible()
            await expect(page.get_by_role("button", name=button)).to_be_focused()
            shots.append(tmp_path / shot)
            await page.screenshot(path=str(shots[-1]))
            await page.keyboard.press("Enter")
            await expect(page.get_by_role("status")).to_contain_text(done)
            consent = (await get_customer(core, workspace_id, customer_id)).consent["email"]
            assert consent.state == ConsentState.revoked and consent.via == "link"
            await context.close()
    if os.environ.get("KITH_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for path in shots:
            shutil.copy(path, SCREENSHOTS / path.name)
