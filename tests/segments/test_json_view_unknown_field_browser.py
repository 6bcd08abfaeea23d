"""The segment builder's JSON view in Chromium, by keyboard, in English and Chinese, as a
marketer: "Use this JSON" refuses, in the page's words and naming the place, a condition on a
field no segment knows (`tag` for `tags`), an op its field does not take, and a value of the
wrong type (or none); the builder, its live count and Save stay as they were.

Regression: the JSON view kept the unknown field `tag`, showed it as "Tags · contains · vip",
and every redraw, count and Save then threw `TypeError: … reading 'name'` in `toFilter` until
a reload; an unknown op or choice was silently swapped for the field's first."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from tests.segments.conftest import VIP, customer
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TYPO = {"all": [{"field": "tag", "op": "contains", "value": "vip"}]}
# Each refused condition, and the words (by key) its refusal holds beyond the field's name.
REFUSED = (
    ({"field": "tags", "op": "equals", "value": "vip"}, "bad_op"),
    ({"field": "tags", "op": "contains", "value": 5}, "text"),
    ({"field": "tags", "op": "contains"}, "text"),
    ({"field": "tags", "op": "exists", "value": "no"}, "bool"),
    ({"field": "created_at", "op": "within_days", "value": "30"}, "days"),
    ({"field": "consent.email", "op": "eq", "value": "yes"}, "choice"),
    ({"field": "attributes.city", "op": "in", "value": "上海"}, "list"),
)
WORDS = {
    "en-US": {
        "name": "Name",
        "field": "Field",
        "op": "Condition",
        "value": "Value",
        "json": "JSON view",
        "use": "Use this JSON",
        "save": "Save segment",
        "count": "2 customers match now",
        "field_unknown": "The condition on “tag” names an unknown field: give one of {fields}.",
        "bad_op": "The condition on “tags” has the op “equals”, which this field does not take: "
        "give one of contains, exists, not_contains.",
        "text": "The value of the condition on “tags” does not fit “contains”: give text.",
        "bool": "The value of the condition on “tags” does not fit “exists”: give true or false.",
        "days": "The value of the condition on “created_at” does not fit “within_days”: "
        "give a whole number of days.",
        "choice": "The value of the condition on “consent.email” does not fit “eq”: "
        "give one of unknown, granted, revoked.",
        "list": "The value of the condition on “attributes.city” does not fit “in”: give a list "
        "of one or more values, each text, a number or true/false.",
    },
    "zh-CN": {
        "name": "名称",
        "field": "字段",
        "op": "条件",
        "value": "值",
        "json": "JSON 视图",
        "use": "使用此 JSON",
        "save": "保存分群",
        "count": "当前符合的客户：2 位",
        "field_unknown": "“tag”条件的字段未知：请使用 {fields} 之一。",
        "bad_op": "“tags”条件的运算“equals”不适用于此字段："
        "请使用 contains, exists, not_contains 之一。",
        "text": "“tags”条件的值不适用于“contains”：请写文字。",
        "bool": "“tags”条件的值不适用于“exists”：请写布尔值 true 或 false。",
        "days": "“created_at”条件的值不适用于“within_days”：请写整数天数。",
        "choice": "“consent.email”条件的值不适用于“eq”：请写以下之一：unknown, granted, revoked。",
        "list": "“attributes.city”条件的值不适用于“in”：请写含一个或多个值的列表，"
        "每个值为文字、数字或 true/false。",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_user(
        core, workspace.id, "mary@kith.test", PASSWORD, name="Mary", role=Role.marketer
    )
    for cid in ("c-ada", "c-wang"):
        await customer(core, workspace.id, cid, tags=["vip"])
    await customer(core, workspace.id, "c-bob", tags=["new"])


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_use_this_json_refuses_what_the_builder_cannot_hold(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    page = await live.sign_in("mary@kith.test", locale=locale)
    thrown: list[str] = []
    page.on("pageerror", lambda e: thrown.append(str(e)))
    await page.goto(live.url + "/app/segments")
    form = page.locator("#builder")
    error = page.locator("#builder-error")
    count = page.locator("#live-count")
    field = form.get_by_label(f"{w['field']} 1", exact=True)
    op = form.get_by_label(f"{w['op']} 1", exact=True)
    value = form.get_by_label(f"{w['value']} 1", exact=True)

    await form.get_by_label(w["name"], exact=True).fill("VIP")
    await value.focus()
    await page.keyboard.type("vip")
    await expect(count).to_have_text(w["count"])

    catalog = json.loads(await page.locator("#segment-fields").text_content() or "[]")
    names = ", ".join(f["name"] + ("…" if f["name"].endswith(".") else "") for f in catalog)
    await page.get_by_text(w["json"], exact=True).click()
    text = page.locator("#filter-json")
    use = form.get_by_role("button", name=w["use"], exact=True)
    cases = [(TYPO, w["field_unknown"].replace("{fields}", names))]
    cases += [({"all": [condition]}, w[key]) for condition, key in REFUSED]
    for raw, said in cases:
        await text.fill(json.dumps(raw, ensure_ascii=False))
        await use.focus()
        await page.keyboard.press("Enter")
        await expect(error).to_have_text(said)
        await expect(text).to_be_focused()
        # The builder stays as it was: one condition, tags contains vip.
        await expect(field).to_have_value("tags")
        await expect(op).to_have_value("contains")
        await expect(value).to_have_value("vip")
        await expect(form.get_by_label(f"{w['field']} 2", exact=True)).to_have_count(0)
        await expect(count).to_have_text(w["count"])
    await assert_every_control_is_named(page)

    await form.get_by_role("button", name=w["save"], exact=True).press("Enter")
    await expect(page.get_by_role("heading", name="VIP", level=2)).to_be_visible()
    doc = await live.core.store.collection("segments").find_one({"name": "VIP"})
    assert doc is not None and doc["filter"] == {"all": [VIP]}
    assert thrown == []
