"""The segment builder marks every bad place of a refused filter at once, in Chromium, by
keyboard, in English and Chinese: a bad attribute key and a missing date, each at its control
(aria-invalid, its words beside it), the first focused; and an operator typed as a value in the
JSON view (`{"$gt": ""}`) is refused in words instead of being searched for as text.

Regression (H3): the builder showed the first refusal only, and the JSON view turned an object
value into the text "[object Object]"."""

from __future__ import annotations

import pytest

from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named
from tests.web.test_admin_browser import live as live  # the fixture, re-exported

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

WORDS = {
    "en-US": {
        "field": "Field",
        "key": "Key",
        "op": "Condition",
        "value": "Value",
        "add": "Add condition",
        "attribute": "Attribute",
        "created": "Created",
        "lt": "before",
        "name": "Name",
        "json": "JSON view",
        "use": "Use this JSON",
        "first": "a key is letters, digits, _ and - (1 to 64). (1 more marked below.)",
        "bad_date": (
            "a date and time: pick one (in the JSON view, with its offset: "
            "2026-01-31T00:00:00+08:00)."
        ),
        "operator": (
            "The condition on “attributes.city” has an object as its value: write the value "
            'itself (text, a number or true/false); operators such as {"$gt": …} are not taken.'
        ),
    },
    "zh-CN": {
        "field": "字段",
        "key": "键名",
        "op": "条件",
        "value": "值",
        "add": "添加条件",
        "attribute": "属性",
        "created": "创建时间",
        "lt": "早于",
        "name": "名称",
        "json": "JSON 视图",
        "use": "使用此 JSON",
        "first": "键只能包含字母、数字、_ 和 -（1 到 64 个）。（下方另标出 1 处问题。）",
        "bad_date": (
            "请选择日期和时间（在 JSON 视图中须带时区偏移，例如 2026-01-31T00:00:00+08:00）。"
        ),
        "operator": (
            "“attributes.city”条件的值是一个对象：请直接写出值（文字、数字或 true/false）；"
            '不接受 {"$gt": …} 之类的运算符。'
        ),
    },
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_every_bad_place_is_marked_and_operators_are_refused(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    page = await live.sign_in("admin@kith.test", locale=locale)
    await page.goto(live.url + "/app/segments")
    form = page.locator("#builder")
    error = page.locator("#builder-error")

    # Condition 1: an attribute whose key has a space and a "!".
    await form.get_by_label(f"{w['field']} 1", exact=True).select_option(label=w["attribute"])
    key = form.get_by_label(f"{w['key']} 1", exact=True)
    await key.focus()
    await page.keyboard.type("bad key!")
    await form.get_by_label(f"{w['value']} 1", exact=True).fill("x")
    # Condition 2: created before a moment left unpicked.
    await form.get_by_role("button", name=w["add"]).first.focus()
    await page.keyboard.press("Enter")
    await form.get_by_label(f"{w['field']} 2", exact=True).select_option(label=w["created"])
    await form.get_by_label(f"{w['op']} 2", exact=True).select_option(label=w["lt"])
    date = form.get_by_label(f"{w['value']} 2", exact=True)
    await expect(date).to_have_value("")

    name = form.get_by_label(w["name"], exact=True)
    await name.fill("Broken")
    await name.press("Enter")
    await expect(error).to_have_text(w["first"])
    await expect(key).to_have_attribute("aria-invalid", "true")
    await expect(key).to_be_focused()
    await expect(date).to_have_attribute("aria-invalid", "true")
    await expect(page.locator('[data-field="filter.all.1.value"] .field-error')).to_have_text(
        w["bad_date"]
    )
    await expect(date).to_have_accessible_description(w["bad_date"])
    await assert_every_control_is_named(page)
    assert await live.core.store.collection("segments").count_documents({}) == 0

    # An operator typed as a value in the JSON view: refused, not searched for as text.
    await page.get_by_text(w["json"], exact=True).click()
    text = page.locator("#filter-json")
    await text.fill('{"field": "attributes.city", "op": "eq", "value": {"$gt": ""}}')
    await form.get_by_role("button", name=w["use"]).focus()
    await page.keyboard.press("Enter")
    await expect(error).to_have_text(w["operator"])
    await expect(text).to_be_focused()
    await expect(form.get_by_label(f"{w['key']} 1", exact=True)).to_have_value("bad key!")
