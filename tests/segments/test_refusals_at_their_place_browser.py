"""The Segments pages say each refusal where it belongs, in the page's language, in Chromium,
by keyboard, in English and Chinese:

- deleting a segment a draft broadcast uses is refused beside the Delete button (role=alert,
  the button described by it and focused), naming the broadcast in the page's words; not the
  API's English sentence with ids in the top bar (QA: `segment_id: used by broadcast "QA
  inuse bc" (6b16c9c1…)…` on the Chinese page too);
- a blank name and a blank value are both marked at once (QA: the name only after the value
  was fixed);
- an attribute's blank key is refused at the key, its words beside it, and the live count
  says it needs the key instead of vanishing (QA: the words only above Save, the count line
  gone)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.broadcasts.actions import do_create_broadcast
from kith.broadcasts.models import BroadcastIn
from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.events import SYSTEM
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.segments.conftest import VIP, customer, segment
from tests.support.browser import needs_chromium
from tests.support.consumers import drain
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
WORDS = {
    "en-US": {
        "delete": "Delete segment",
        "confirm": "Confirm",
        "in_use": "This segment is still used by the broadcast “QA inuse bc”: cancel or "
        "change them first, then delete it.",
        "name": "Name",
        "field": "Field",
        "key": "Key",
        "value": "Value",
        "attribute": "Attribute",
        "save": "Save segment",
        "blank_name": "Write a name: it cannot be blank.",
        "blank_value": "A value to look for, not blank (to find customers without this "
        "field, use “is set” with “no”).",
        "two": "Write a name: it cannot be blank. (1 more marked below.)",
        "bad_key": "A key is letters, digits, _ and - (1 to 64).",
        "needs_key": "Fill in the key to count the customers who match.",
    },
    "zh-CN": {
        "delete": "删除分群",
        "confirm": "确认",
        "in_use": "此分群仍被群发“QA inuse bc”使用：请先取消或修改它们，再删除。",
        "name": "名称",
        "field": "字段",
        "key": "键名",
        "value": "值",
        "attribute": "属性",
        "save": "保存分群",
        "blank_name": "请填写名称，不能为空白。",
        "blank_value": "请填写要查找的值，不能为空白"
        "（要查找未设置此字段的客户，请选择“已设置”并选“否”）。",
        "two": "请填写名称，不能为空白。（下方另标出 1 处问题。）",
        "bad_key": "键只能包含字母、数字、_ 和 -（1 到 64 个）。",
        "needs_key": "填写键名后即可计算符合的客户。",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.admin)
    await customer(core, workspace.id, "c-ada", name="Ada", tags=["vip"])
    made = await segment(core, workspace.id, VIP, name="VIP")
    body = BroadcastIn.model_validate(
        {
            "name": "QA inuse bc",
            "segment_id": made.id,
            "message": {"text": {"en": "Hi"}},
            "channels": ["api"],
        }
    )
    await do_create_broadcast(core, workspace.id, body, SYSTEM)
    await drain(core)


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_segment_in_use_is_refused_at_delete_in_the_pages_words(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    doc = await live.core.store.collection("segments").find_one({"name": "VIP"})
    assert doc is not None
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(f"{live.url}/app/segments/{doc['_id']}")
    delete = page.get_by_role("button", name=w["delete"], exact=True)
    await delete.focus()
    await page.keyboard.press("Enter")
    await page.get_by_role("dialog").get_by_role("button", name=w["confirm"]).press("Enter")

    said = page.locator("#delete-error")
    await expect(said).to_have_text(w["in_use"])
    await expect(said).to_have_attribute("role", "alert")
    await expect(delete).to_have_accessible_description(w["in_use"])
    await expect(delete).to_be_focused()
    await expect(page.locator("#notice")).to_have_text("")
    assert doc["_id"] not in await page.locator("body").inner_text()  # no ids shown
    assert await live.core.store.collection("segments").count_documents({}) == 1
    await assert_every_control_is_named(page)


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_every_bad_field_is_marked_at_once_a_blank_key_at_the_key(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/segments")
    form = page.locator("#builder")
    name = form.get_by_label(w["name"], exact=True)
    value = form.get_by_label(f"{w['value']} 1", exact=True)
    await expect(value).to_have_value("")  # the new condition's value: blank

    # A blank name and a blank value: both marked by one Save, the name first and focused.
    await form.get_by_role("button", name=w["save"], exact=True).press("Enter")
    await expect(page.locator("#builder-error")).to_have_text(w["two"])
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#segment-name-error")).to_have_text(w["blank_name"])
    await expect(name).to_be_focused()
    await expect(value).to_have_attribute("aria-invalid", "true")
    await expect(value).to_have_accessible_description(w["blank_value"])

    # An attribute with its key left blank: the count says why it waits; Save marks the key.
    await name.fill("City")
    await form.get_by_label(f"{w['field']} 1", exact=True).select_option(label=w["attribute"])
    key = form.get_by_label(f"{w['key']} 1", exact=True)
    await expect(key).to_have_value("")
    await form.get_by_label(f"{w['value']} 1", exact=True).fill("上海")
    await expect(page.locator("#live-count")).to_have_text(w["needs_key"])
    await form.get_by_role("button", name=w["save"], exact=True).press("Enter")
    await expect(key).to_have_attribute("aria-invalid", "true")
    await expect(key).to_have_accessible_description(w["bad_key"])
    await expect(page.locator('[data-field="filter.all.0.field"] .field-error')).to_have_text(
        w["bad_key"]
    )
    await expect(key).to_be_focused()
    await expect(name).not_to_have_attribute("aria-invalid", "true")
    await assert_every_control_is_named(page)

    # The key typed: counted again.
    await key.fill("city")
    await expect(page.locator("#live-count")).to_have_text(
        "0 customers match now" if locale == "en-US" else "当前符合的客户：0 位"
    )
    assert await live.core.store.collection("segments").count_documents({}) == 1
