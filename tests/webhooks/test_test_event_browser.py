"""The Webhooks page sends a test event and says why a delivery failed or an endpoint is
off in the page's language (Regression, QA demo #6 and #11: "已停用：failing since …
(last: could not connect or read the answer)", and no way to try an endpoint)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.core.workspaces import ensure_default_workspace
from kith.webhooks.actions import do_create_endpoint
from kith.webhooks.models import UNREACHABLE, EndpointIn
from kith.webhooks.store import endpoints
from kith.webhooks.wording import NO_ANSWER
from tests.support.browser import needs_chromium
from tests.support.pages import Live, live_app
from tests.support.written_dates import DAY_TIME
from tests.web.conftest import PASSWORD
from tests.webhooks.conftest import Receiver

pytestmark = [needs_chromium, pytest.mark.timeout(120)]


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "admin@kith.test", PASSWORD, role=Role.admin)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def test_a_test_event_from_the_page_and_reasons_in_chinese(
    live: Live, receiver: Receiver
) -> None:
    from playwright.async_api import expect

    workspace = await ensure_default_workspace(live.core)
    events = ["message.created"]
    await do_create_endpoint(live.core, workspace.id, EndpointIn(url=receiver.url, events=events))
    broken = await do_create_endpoint(
        live.core, workspace.id, EndpointIn(url=receiver.url + "/broken", events=events)
    )
    since = live.core.clock.now()
    failing = f"failing since {since:%Y-%m-%d %H:%M} UTC (last: {UNREACHABLE})"
    await endpoints(live.core).update_one(
        {"_id": broken.endpoint.id},
        {
            "$set": {
                "enabled": False,
                "disabled_reason": failing,
                "disabled_since": since,
                "disabled_error": UNREACHABLE,
                "disabled_error_wording": NO_ANSWER.wording.model_dump(),
            }
        },
    )
    receiver.statuses = [503]

    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/webhooks")
    table = page.get_by_role("table", name="接收地址")
    off = table.get_by_role("row").filter(has_text="/broken")
    await expect(off).to_contain_text(
        re.compile(f"已停用：自 {DAY_TIME['zh']} 起持续失败（最近一次：无法连接或读取响应）")
    )
    await expect(off.get_by_role("button", name="发送测试事件")).to_have_count(0)
    row = table.get_by_role("row").filter(has_text=receiver.url).filter(has_not_text="/broken")
    await row.get_by_role("button", name="发送测试事件").focus()
    await page.keyboard.press("Enter")
    await receiver.wait_for(1)
    await expect(page.locator("#log-heading")).to_be_focused()
    log = page.get_by_role("table", name="投递记录")
    tested = log.get_by_role("row", name=re.compile("webhook.test"))
    await expect(tested).to_contain_text("HTTP 503", timeout=10_000)
    await expect(tested).to_contain_text("失败")
