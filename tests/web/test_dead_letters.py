"""Settings → Channels → payloads Kith could not use: listed and replayed by admins only, over
the page's JSON and in a browser (English and Chinese, by keyboard)."""

from __future__ import annotations

import re

import pytest

from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.dead_letters import DeadLetter, Payload, keep_dead_letter
from kith.core.errors import InvalidInput
from kith.core.models import Channel
from kith.core.workspaces import create_workspace, ensure_default_workspace
from tests.connectors.slack.conftest import BOT_TOKEN, FIXTURES, SIGNING_SECRET
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named
from tests.support.written_dates import DAY_TIME, day_time
from tests.web.conftest import Cast
from tests.web.test_admin_browser import live as live  # the fixture, re-exported

MESSAGE_IM = (FIXTURES / "message_im.json").read_bytes()  # usable: stored when replayed
BROKEN = b'{"type": "event_callback", '  # not JSON: still fails when replayed


async def slack_channel(core: Core, workspace_id: str, name: str = "Acme Slack") -> Channel:
    config = {"bot_token": BOT_TOKEN, "signing_secret": SIGNING_SECRET}
    channel, _ = await create_channel(core, workspace_id, "slack", name, config)
    return channel


async def kept(core: Core, channel: Channel, body: bytes, why: str, field: str) -> DeadLetter:
    """What the Slack webhook keeps for a signed payload it could not use (the usable one
    stands for a payload an older Kith refused)."""
    payload = Payload(body=body, content_type="application/json")
    return await keep_dead_letter(core, channel, payload, InvalidInput(why, field=field))


async def test_only_admins_list_and_replay_them(core: Core, cast: Cast, browser) -> None:
    channel = await slack_channel(core, cast.workspace_id)
    letter = await kept(core, channel, MESSAGE_IM, "older rule", "event")
    path = f"/admin/dead-letters/{letter.id}/replay"
    for name in ("alice", "mary"):
        session = await browser(name)
        assert (await session.api("GET", "/admin/dead-letters")).status_code == 403
        assert (await session.api("POST", path)).status_code == 403
    admin = await browser("admin")
    [listed] = (await admin.api("GET", "/admin/dead-letters")).json()["items"]
    assert (listed["id"], listed["channel_type"], listed["reason"]) == (
        letter.id,
        "slack",
        "older rule",
    )
    replayed = (await admin.api("POST", path)).json()
    assert replayed["outcome"] == "stored" and replayed["preview"] is None
    assert await core.store.messages.count_documents({"channel_id": channel.id}) == 1


async def test_another_workspaces_dead_letter_is_not_found(core: Core, cast: Cast, browser) -> None:
    other = await create_workspace(core, "Other shop")
    theirs = await kept(core, await slack_channel(core, other.id), BROKEN, "not JSON", "body")
    admin = await browser("admin")
    assert (await admin.api("GET", "/admin/dead-letters")).json()["items"] == []
    answer = await admin.api("POST", f"/admin/dead-letters/{theirs.id}/replay")
    assert answer.status_code == 404 and answer.json()["error"]["field"] == "dead_letter_id"


@needs_chromium
@pytest.mark.timeout(120)
async def test_an_admin_reads_and_replays_them_by_keyboard(live: Live) -> None:
    from playwright.async_api import expect

    workspace = await ensure_default_workspace(live.core)
    channel = await slack_channel(live.core, workspace.id)
    await kept(live.core, channel, BROKEN, "body is not JSON", "body")
    await kept(live.core, channel, MESSAGE_IM, "event has no type", "event.type")
    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/admin/channels")
    table = page.get_by_role("table", name="Payloads Kith could not use")
    broken = table.locator("tr", has_text="body is not JSON (body)")
    usable = table.locator("tr", has_text="event has no type (event.type)")
    await expect(broken).to_contain_text("Not processed")
    # Received: as every page writes a date and time (KithDom.dateTime), in the button's name
    # too; not "12/5/2026, 3:23:00 AM".
    await expect(broken.locator("time")).to_have_text(day_time("en"))
    await expect(broken.get_by_role("button", name=re.compile("^Replay"))).to_have_accessible_name(
        re.compile(f"^Replay: Acme Slack, {DAY_TIME['en']}$")
    )
    await assert_every_control_is_named(page)

    summary = usable.get_by_text("Show what was sent")
    await summary.focus()
    await page.keyboard.press("Enter")
    await expect(usable.locator("pre")).to_contain_text('"text": "Hello hello can you hear me?"')

    await broken.get_by_role("button", name=re.compile("^Replay: Acme Slack")).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Still cannot be used.")
    await expect(broken).to_contain_text("Not processed (tried 1×)")

    await usable.get_by_role("button", name=re.compile("^Replay: Acme Slack")).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("Payload processed.")
    await expect(usable).to_contain_text("Processed: stored")
    await expect(usable).to_contain_text("Processed, so no longer kept.")
    await expect(usable.get_by_role("button")).to_have_count(0)
    assert await live.core.store.messages.count_documents({"channel_id": channel.id}) == 1


@needs_chromium
@pytest.mark.timeout(120)
async def test_the_chinese_dead_letters_section(live: Live) -> None:
    from playwright.async_api import expect

    workspace = await ensure_default_workspace(live.core)
    channel = await slack_channel(live.core, workspace.id, name="Slack 工作区")
    await kept(live.core, channel, BROKEN, "body is not JSON", "body")
    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/admin/channels")
    table = page.get_by_role("table", name="无法处理的平台推送")
    await expect(table).to_contain_text("未处理")
    await expect(table.locator("tbody time")).to_have_text(day_time("zh"))  # not 2026/12/5 03:23:00
    button = table.get_by_role("button", name=re.compile("^重新处理：Slack 工作区"))
    await button.focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_have_text("仍无法处理。")
    await expect(table).to_contain_text("未处理（已尝试 1 次）")
    await assert_every_control_is_named(page)
