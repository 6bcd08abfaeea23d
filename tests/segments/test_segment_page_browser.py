"""A segment's page in Chromium, by keyboard, in English and Chinese (qa11 m4): its members'
names link to their contact pages (shown as text), a size chart of one point names its time
once, a blank value in a condition is refused at its control in the page's words, and delete
asks in the page's own dialog (Cancel keeps the segment), not the browser's `confirm`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.segments.history import record_size
from tests.segments.conftest import VIP, customer, segment
from tests.support.browser import needs_chromium
from tests.support.consumers import drain
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
HOSTILE = "<img src=x onerror=window.PWN=1>"
WORDS = {
    "en-US": {
        "value": "Value",
        "chart": "Size over time",
        "chart_desc": re.compile(r"^\d{4}-\d\d-\d\d \d\d:00: 2 customers\.$"),
        "save": "Save segment",
        "blank": "A value to look for, not blank (to find customers without this field, "
        "use “is set” with “no”).",
        "delete": "Delete segment",
        "cancel": "Cancel",
        "confirm": "Confirm",
    },
    "zh-CN": {
        "value": "值",
        "chart": "人数变化",
        "chart_desc": re.compile(r"^\d{4}-\d\d-\d\d \d\d:00：2 人。$"),
        "save": "保存分群",
        "blank": "请填写要查找的值，不能为空白"
        "（要查找未设置此字段的客户，请选择“已设置”并选“否”）。",
        "delete": "删除分群",
        "cancel": "取消",
        "confirm": "确认",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.admin)
    await customer(core, workspace.id, "c-hostile", name=HOSTILE, tags=["vip"])
    await customer(core, workspace.id, "c-ada", name="Ada", tags=["vip"])
    made = await segment(core, workspace.id, VIP, name="VIP")
    await record_size(core, workspace.id, made.id, 2, core.clock.now())  # one point
    await drain(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_members_link_the_chart_a_blank_value_and_delete_in_the_dialog(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    doc = await live.core.store.collection("segments").find_one({"name": "VIP"})
    assert doc is not None
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/segments/{doc['_id']}")

    members = page.locator("#member-list")
    hostile = members.get_by_role("link", name=HOSTILE, exact=True)
    await expect(hostile).to_have_attribute("href", "/app/contacts/c-hostile")
    await expect(members.get_by_role("link", name="Ada", exact=True)).to_have_attribute(
        "href", "/app/contacts/c-ada"
    )
    assert await page.evaluate("document.querySelectorAll('#member-list img').length") == 0
    assert await page.evaluate("window.PWN") is None

    labels = await page.locator("svg.chart text").all_text_contents()
    times = [t for t in labels if ":00" in t]
    assert len(times) == 1, labels  # one point: its time once, not at both ends
    chart = page.get_by_role("img", name=w["chart"], exact=True)  # its title alone
    await expect(chart).to_have_accessible_description(w["chart_desc"])

    value = page.locator("#builder").get_by_label(f"{w['value']} 1", exact=True)
    await value.fill("   ")
    await page.locator("#builder").get_by_role("button", name=w["save"], exact=True).press("Enter")
    await expect(page.locator("#builder-error")).to_have_text(w["blank"])
    await expect(value).to_have_attribute("aria-invalid", "true")
    stored = await live.core.store.collection("segments").find_one({"_id": doc["_id"]})
    assert stored is not None and stored["filter"] == VIP
    await assert_every_control_is_named(page)

    asked: list[str] = []
    page.on("dialog", lambda d: asked.append(d.message))  # a native dialog would show here
    delete = page.get_by_role("button", name=w["delete"], exact=True)
    await delete.focus()
    await page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    await expect(dialog).to_be_visible()
    await dialog.get_by_role("button", name=w["cancel"]).press("Enter")
    await expect(dialog).to_be_hidden()
    await expect(delete).to_be_focused()
    assert await live.core.store.collection("segments").count_documents({}) == 1

    await page.keyboard.press("Enter")
    await dialog.get_by_role("button", name=w["confirm"]).press("Enter")
    await page.wait_for_url(f"{live.url}/app/segments")
    assert await live.core.store.collection("segments").count_documents({}) == 0
    assert asked == []
