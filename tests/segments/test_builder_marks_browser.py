"""The segment builder marks every bad place of a refused filter at once, in Chromium, by
keyboard, in English and Chinese: a bad attribute key and a missing date, each at its control
(aria-invalid, its words under it, the row kept on one line), the first focused; an operator
typed as a value in the JSON view (`{"$gt": ""}`) is refused in words instead of being searched
for as text; a date typed in a form the API does not take is refused in words giving the form,
with a name too long beside it.

Regressions: (H3) the builder showed the first refusal only, and the JSON view turned an object
value into the text "[object Object]"; a date left unpicked in the builder was told to be
written "in the JSON view"; a name too long was refused alone, before the filter."""

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
        "remove": "Remove",
        "json": "JSON view",
        "use": "Use this JSON",
        "first": "A key is letters, digits, _ and - (1 to 64). (1 more marked below.)",
        "bad_date": "A date and a time, such as 2026-12-31 09:00: pick both.",
        "typed_date": "A date and time with its offset, such as 2026-12-31T09:00:00+08:00.",
        "long_name": "A name of 1 to 120 characters.",
        "long_first": "A name of 1 to 120 characters. (1 more marked below.)",
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
        "remove": "移除",
        "json": "JSON 视图",
        "use": "使用此 JSON",
        "first": "键只能包含字母、数字、_ 和 -（1 到 64 个）。（下方另标出 1 处问题。）",
        "bad_date": "请选择日期和时间（两者都要），例如 2026-12-31 09:00。",
        "typed_date": "带时区偏移的日期和时间，例如 2026-12-31T09:00:00+08:00。",
        "long_name": "名称须为 1 到 120 个字符。",
        "long_first": "名称须为 1 到 120 个字符。（下方另标出 1 处问题。）",
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
    await page.set_viewport_size({"width": 1366, "height": 900})  # a laptop's
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
    await assert_rows_hold_their_line(page, form, w)
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

    # A date typed (here in the JSON view; or stored so): its words give the typed form, and
    # a name too long (past the field's maxlength, as a script may set it) comes with it,
    # each at its control (the name was refused alone, in the model, before the filter).
    await text.fill('{"field": "created_at", "op": "lt", "value": "31/12/2026"}')
    await form.get_by_role("button", name=w["use"]).press("Enter")
    typed = form.get_by_label(f"{w['value']} 1", exact=True)
    await expect(typed).to_have_value("31/12/2026")
    await expect(error).to_have_text(w["typed_date"])  # the live count's refusal, worded alike
    await name.evaluate("(el) => { el.value = 'x'.repeat(121); }")
    await name.press("Enter")
    await expect(error).to_have_text(w["long_first"])
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#segment-name-error")).to_have_text(w["long_name"])
    await expect(name).to_be_focused()
    await expect(typed).to_have_attribute("aria-invalid", "true")
    await expect(typed).to_have_accessible_description(w["typed_date"])
    assert await live.core.store.collection("segments").count_documents({}) == 0


async def assert_rows_hold_their_line(page, form, w: dict[str, str]) -> None:
    """Each condition's field, condition, value and × on one line at a laptop's width, with
    its refusal under the value (× where it was); nothing wider than a phone at 390 px.
    Regression: in English the value wrapped onto a line of its own, and a refusal under it
    pushed × down."""
    for n in (1, 2):
        row = [form.get_by_label(f"{w[k]} {n}", exact=True) for k in ("field", "op", "value")]
        row.append(form.get_by_role("button", name=f"{w['remove']} {n}", exact=True))
        boxes = [await each.bounding_box() for each in row]
        assert all(b is not None for b in boxes)
        tops = [round(b["y"]) for b in boxes if b is not None]
        assert max(tops) - min(tops) <= 1, (n, tops)
    said = await page.locator('[data-field="filter.all.1.value"] .field-error').bounding_box()
    value = await form.get_by_label(f"{w['value']} 2", exact=True).bounding_box()
    assert said is not None and value is not None
    assert said["y"] >= value["y"] + value["height"] and abs(said["x"] - value["x"]) <= 1
    wide = "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    for width in (1366, 390):
        await page.set_viewport_size({"width": width, "height": 900})
        scroll, client = await page.evaluate(wide)
        assert scroll <= client, (width, scroll, client)
    await page.set_viewport_size({"width": 1366, "height": 900})
