"""Tracked links in Chromium: a click counts and lands where the message pointed; a bad link
shows its page in English and Chinese, whose one control (the other language) works by
keyboard."""

from __future__ import annotations

from typing import Any

import pytest

from kith.core.context import Core
from kith.sequences.links import track
from kith.sequences.models import StepRun
from kith.sequences.store import runs
from tests.sequences.conftest import MakeSequence, People
from tests.sequences.test_links import LINK, enrolled, path_of, sent_run
from tests.support.browser import chromium, live_server, needs_chromium

pytestmark = needs_chromium


@pytest.mark.timeout(120)
async def test_a_click_lands_and_a_bad_link_explains_itself(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    from playwright.async_api import expect

    enrolment = await enrolled(score, workspace_id, people, make_sequence)
    run = await sent_run(score, enrolment, "welcome")
    async with live_server(score) as live, chromium() as browser:
        destination = f"{live.url}/healthz"
        [link] = LINK.findall(await track(score, f"See {destination}", run.id, workspace_id))
        context: Any = await browser.new_context(locale="zh-CN")  # type: ignore[attr-defined]
        page = await context.new_page()
        await page.goto(live.url + path_of(link))  # the public base here is the live server
        await expect(page).to_have_url(destination)
        doc = await runs(score).find_one({"_id": run.id})
        assert doc is not None and StepRun.from_doc(doc).clicked_at is not None

        await page.goto(f"{live.url}/l/not.genuine")
        await expect(page.get_by_role("heading", name="链接无效")).to_be_visible()
        await expect(page.get_by_role("alert")).to_contain_text("此链接无效")
        await page.keyboard.press("Tab")
        await expect(page.get_by_role("link", name="English")).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", name="Link not found")).to_be_visible()
        await context.close()
