"""One delivery in full on the Webhooks page (QA 8, minor 4), by keyboard: the body as sent,
the headers with the signature (never the secret), each attempt's answer escaped and cut;
Redeliver from there, the same `webhook-id` again; Escape returns to the log; in Chinese."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from standardwebhooks import Webhook

from kith.core.context import Core
from kith.core.settings import Settings
from kith.webhooks.actions import do_create_endpoint
from kith.webhooks.models import EndpointIn
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.webhooks.conftest import Receiver
from tests.webhooks.test_page_browser import seed

pytestmark = [needs_chromium, pytest.mark.timeout(120)]

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def subscribed(core: Core, receiver: Receiver) -> str:
    """The receiver subscribed, answering 500 with markup and more than is kept; its secret."""
    channel = await core.store.channels.find_one({"type": "api"})
    assert channel is not None
    made = await do_create_endpoint(
        core, channel["workspace_id"], EndpointIn(url=receiver.url, events=["message.created"])
    )
    receiver.statuses = [500, 503]
    answer = (json.dumps({"error": HOSTILE}) + "x" * 3000).encode()
    receiver.answers = [answer, answer]
    return made.secret


async def test_a_failed_delivery_is_read_in_full_and_sent_again_by_keyboard(
    live: Live, receiver: Receiver
) -> None:
    from playwright.async_api import expect

    secret = await subscribed(live.core, receiver)
    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/webhooks")
    row = page.get_by_role("table", name="Endpoints").get_by_role("row", name=receiver.url)
    # A test event is one attempt, no retries: failed once the receiver answers 500.
    await row.get_by_role("button", name="Send test event").focus()
    await page.keyboard.press("Enter")
    log = page.get_by_role("table", name="Delivery log")
    tried = log.get_by_role("row", name="webhook.test")
    await expect(tried).to_contain_text("Failed", timeout=15_000)
    await tried.get_by_role("button", name="Details: webhook.test").focus()
    await page.keyboard.press("Enter")

    details = page.locator("#delivery")
    await expect(page.locator("#delivery-heading")).to_be_focused()
    await expect(page.locator("#delivery-heading")).to_contain_text("webhook.test")
    await expect(page.locator("#delivery-status")).to_have_text("Failed")
    await expect(page.locator("#delivery-next")).to_have_text("none")
    sent = receiver.requests[0]
    body = page.locator("#delivery-body")
    assert json.loads(await body.inner_text()) == json.loads(sent.body)
    attempt = details.locator("details.attempt")
    await expect(attempt).to_have_count(1)
    await expect(attempt.locator("summary")).to_contain_text("Attempt 1")
    await expect(attempt.locator("summary")).to_contain_text("HTTP 500")
    headers = attempt.get_by_role("table", name="Request headers")
    signature = headers.get_by_role("row", name="webhook-signature")
    await expect(signature).to_contain_text(sent.headers["webhook-signature"])
    answer = attempt.get_by_label("Response body")
    await expect(answer).to_contain_text(HOSTILE)  # as text: no image was made of it
    await expect(answer).to_contain_text("only the first 2,000 characters are kept")
    assert await page.locator("#delivery img").count() == 0
    page_text = await page.locator("main").inner_text()
    assert secret not in page_text and secret.removeprefix("whsec_") not in page_text
    await assert_every_control_is_named(page)

    await details.get_by_role("button", name="Redeliver").focus()
    await page.keyboard.press("Enter")
    await expect(page.locator("#notice")).to_have_text("Queued to be sent again.")
    await expect(attempt).to_have_count(2, timeout=15_000)
    await expect(attempt.first.locator("summary")).to_contain_text("Attempt 2")
    await expect(attempt.first.locator("summary")).to_contain_text("HTTP 503")
    await expect(page.locator("#delivery-status")).to_have_text("Failed")
    first, again = receiver.requests
    assert first.headers["webhook-id"] == again.headers["webhook-id"] and first.body == again.body
    Webhook(secret).verify(again.body, again.headers)

    await page.keyboard.press("Escape")
    await expect(details).to_be_hidden()
    await expect(tried.get_by_role("button", name="Details: webhook.test")).to_be_focused()

    zh = await live.sign_in("admin@kith.test", locale="zh-CN")
    await zh.goto(live.url + "/app/webhooks")
    await zh.get_by_role("button", name="投递记录").click()
    await zh.get_by_role("button", name="详情：webhook.test").press("Enter")
    await expect(zh.locator("#delivery-heading")).to_contain_text("投递 webhook.test")
    await expect(zh.get_by_role("heading", name="请求正文")).to_be_visible()
    await expect(zh.locator("details.attempt summary").first).to_contain_text("第 2 次尝试")
    await expect(zh.locator("#delivery-status")).to_have_text("失败")
    await expect(zh.get_by_role("button", name="关闭")).to_be_visible()
