"""The Webhooks page in a real browser: an admin subscribes a receiver by keyboard, copies the
secret shown once, watches a signed delivery arrive in the log and sends it again; the page
in Chinese; an agent is refused."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Channel, InboundMessage, InboundUser, Role, Workspace
from kith.core.pipeline import ingest
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from kith.webhooks.actions import do_update_endpoint, list_endpoints
from kith.webhooks.models import EndpointPatch
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, keep_screenshot, live_app
from tests.support.written_dates import day_time
from tests.web.conftest import PASSWORD
from tests.webhooks.conftest import Receiver, subscribe

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def seed(core: Core, workspace: Workspace) -> None:
    await create_channel(core, workspace.id, "api", "Website", {})
    for name, role in (("admin", Role.admin), ("alice", Role.agent)):
        await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def say_hello(core: Core) -> None:
    doc = await core.store.channels.find_one({"type": "api"})
    assert doc is not None
    channel = Channel.from_doc(doc)
    user = InboundUser(id="u-ada", name="Ada")
    await ingest(
        core, channel, InboundMessage.on(channel, channel_message_id="m1", user=user, text="hi")
    )


async def test_an_admin_subscribes_reads_the_log_and_redelivers(
    live: Live, receiver: Receiver, tmp_path: Path
) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    await (
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Webhooks").click()
    )
    await expect(page.get_by_role("heading", name="Subscribe an endpoint")).to_be_visible()
    # The h1 only repeats the nav's current link: for screen readers, 1px wide.
    section = await page.get_by_role("heading", level=1, name="Webhooks").bounding_box()
    assert section is not None and section["width"] <= 1
    await assert_every_control_is_named(page)
    form = page.get_by_role("form", name="Subscribe an endpoint")
    await form.get_by_label("URL").fill("ftp://nowhere")
    await form.get_by_role("button", name="Subscribe").click()
    await expect(form.get_by_role("alert")).to_contain_text("Events: Give at least one.")
    await form.get_by_label("message.created").focus()
    await page.keyboard.press("Space")
    await form.get_by_role("button", name="Subscribe").focus()
    await page.keyboard.press("Enter")
    await expect(form.get_by_role("alert")).to_contain_text("URL: This kind of URL is not allowed")
    await expect(form.get_by_label("URL")).to_be_focused()
    # Regression (QA sequences #7): the browser's own check stops the next try; the server's
    # earlier error does not stay beside it.
    await form.get_by_label("URL").fill("not a url")
    await form.get_by_role("button", name="Subscribe").focus()
    await page.keyboard.press("Enter")
    await expect(form.locator("#create-error")).to_be_empty()
    await form.get_by_label("URL").fill(receiver.url)
    await form.get_by_role("button", name="Subscribe").focus()
    await page.keyboard.press("Enter")

    secret_box = page.get_by_role("textbox", name="Secret")
    await expect(secret_box).to_be_focused()
    secret = await secret_box.input_value()
    assert secret.startswith("whsec_")
    await page.get_by_role("button", name="I have copied it").press("Enter")
    await expect(secret_box).to_be_hidden()

    await say_hello(live.core)
    await receiver.wait_for(1)
    Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
    table = page.get_by_role("table", name="Endpoints")
    row = table.get_by_role("row", name=receiver.url)
    named = row.get_by_role("button", name=f"Delivery log: {receiver.url}", exact=True)
    await named.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#log-heading")).to_be_focused()
    log = page.get_by_role("table", name="Delivery log")
    delivered = log.get_by_role("row", name="message.created")
    await expect(delivered).to_contain_text("Delivered")
    await expect(delivered).to_contain_text("200")
    # Made: as every page writes a date and time (KithDom.dateTime), in the page's language;
    # not "12/5/2026, 3:23:00 AM".
    await expect(delivered.locator("th time")).to_have_text(day_time("en"))
    await keep_screenshot(page, "webhooks-en.png", tmp_path)
    await delivered.get_by_role("button", name="Redeliver").focus()
    await page.keyboard.press("Enter")
    await receiver.wait_for(2)
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert len(ids) == 1

    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/webhooks")
    await page.get_by_role("button", name="投递记录").click()
    log = page.get_by_role("table", name="投递记录")
    made = log.get_by_role("row", name="message.created").locator("th time")
    await expect(made).to_have_text(day_time("zh"))  # not 2026/12/5 03:23:00


async def test_the_chinese_page_and_an_agent_is_refused(live: Live, tmp_path: Path) -> None:
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/webhooks")
    await expect(page.get_by_role("heading", name="添加接收地址")).to_be_visible()
    await expect(page.get_by_role("button", name="订阅")).to_be_visible()
    assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
    await assert_every_control_is_named(page)
    # Regression (QA sequences #8): Kith's refusals were English on the Chinese page.
    form = page.get_by_role("form", name="添加接收地址")
    await form.get_by_label("地址").fill("https://example.com/kith")
    await form.get_by_role("button", name="订阅").focus()
    await page.keyboard.press("Enter")
    await expect(form.get_by_role("alert")).to_have_text("事件：请至少选择或填写一项。")
    await form.get_by_label("地址").fill("https://user:pw@example.com/kith")
    await form.get_by_label("message.created").check()
    await form.get_by_role("button", name="订阅").focus()
    await page.keyboard.press("Enter")
    await expect(form.get_by_role("alert")).to_have_text("地址：网址中不能包含用户名或密码。")
    await expect(form.get_by_label("地址")).to_be_focused()
    await keep_screenshot(page, "webhooks-zh.png", tmp_path)
    agent = await live.sign_in("alice@kith.test")
    answer = await agent.goto(live.url + "/app/webhooks")
    assert answer is not None and answer.status == 403
    await expect(agent.get_by_role("link", name="Webhooks")).to_have_count(0)


async def test_the_list_refreshes_under_focus_and_an_armed_delete(
    live: Live, receiver: Receiver
) -> None:
    """Regression: the endpoints were drawn anew every 5 s, changed or not: the focused button
    lost focus to the page's start, and a Delete pressed once (waiting for its confirming
    second press) was disarmed, so the second press armed it again instead of deleting."""
    from playwright.async_api import expect

    workspace_id = (await ensure_default_workspace(live.core)).id
    await subscribe(live.core, workspace_id, receiver.url + "?one")
    second, _ = await subscribe(live.core, workspace_id, receiver.url + "?two")
    page = await live.sign_in("admin@kith.test")
    await page.clock.install()
    await page.goto(live.url + "/app/webhooks")
    one = page.get_by_role("row", name="?one")
    delete = one.get_by_role("button", name="Delete")
    await delete.focus()
    await page.keyboard.press("Enter")  # armed
    await expect(one.get_by_role("button", name="Press again to delete")).to_be_focused()

    async def refresh() -> None:
        async with page.expect_response(re.compile(r"/app/api/webhooks$")):
            await page.clock.run_for(5_000)

    await refresh()  # nothing changed: the same button, focused and armed
    await expect(one.get_by_role("button", name="Press again to delete")).to_be_focused()

    # The other endpoint is disabled meanwhile: its row is drawn anew, this one is kept.
    await do_update_endpoint(live.core, workspace_id, second, EndpointPatch(enabled=False))
    await refresh()
    await expect(
        page.get_by_role("row", name="?two").get_by_role(
            "button", name=f"Enable: {receiver.url}?two", exact=True
        )
    ).to_be_visible()
    await page.keyboard.press("Enter")
    await expect(one).to_have_count(0)
    assert [e.id for e in await list_endpoints(live.core, workspace_id)] == [second]

    # Focus in a row drawn anew goes to its same control.
    two = page.get_by_role("row", name="?two")
    await two.get_by_role("button", name="Rotate secret").focus()
    await do_update_endpoint(live.core, workspace_id, second, EndpointPatch(enabled=True))
    await refresh()
    disable = two.get_by_role("button", name=f"Disable: {receiver.url}?two", exact=True)
    await expect(disable).to_be_visible()
    await expect(two.get_by_role("button", name="Rotate secret")).to_be_focused()
