"""The segment builder's date fields in Chromium, in English and Chinese: a moment is picked
in a date-and-time control in the browser's time zone (named beside it) and read "after /
before / on or after / on or before", with "in the last … days" kept; the filter keeps its
shape (an ISO date-time with the browser's offset); a segment saved before loads into the
builder as the same moment and is saved back unchanged. Conditions are numbered from 1.

Regressions (QA7 minor 9 and polish): "Last seen" and "Created" took an ISO date-time typed
into a text box and read "greater than / less than"; the first condition's controls were
"Field 2" / "Value 2" (the group's "Match 1" took number 1)."""

from __future__ import annotations

import json

import pytest

from kith.core.workspaces import ensure_default_workspace
from kith.segments.records import do_create_segment
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named
from tests.web.test_admin_browser import live as live  # the fixture, re-exported

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
ZONE = "Asia/Shanghai"  # the browser's: +08:00, no daylight saving
OLD = {  # as segments were saved before: UTC, typed by hand
    "all": [
        {"field": "last_seen_at", "op": "gt", "value": "2026-01-31T00:00:00+00:00"},
        {"field": "created_at", "op": "within_days", "value": 30},
    ]
}
WORDS = {
    "en-US": {
        "match": "Match",
        "field": "Field",
        "op": "Condition",
        "value": "Value",
        "created": "Created",
        "last_seen": "Last seen",
        "ops": [
            "after",
            "on or after",
            "before",
            "on or before",
            "in the last … days",
            "more than … days ago",
        ],
        "json": "JSON view",
        "name": "Name",
    },
    "zh-CN": {
        "match": "满足",
        "field": "字段",
        "op": "条件",
        "value": "值",
        "created": "创建时间",
        "last_seen": "最近活跃",
        "ops": ["晚于", "不早于", "早于", "不晚于", "最近几天内", "多少天以前"],
        "json": "JSON 视图",
        "name": "名称",
    },
}


async def in_shanghai(live: Live, locale: str):
    page = await live.sign_in("mary@kith.test", locale=locale)
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Emulation.setTimezoneOverride", {"timezoneId": ZONE})
    return page


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_date_is_picked_and_read_as_after_or_before(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    page = await in_shanghai(live, locale)
    await page.goto(live.url + "/app/segments")
    form = page.locator("#builder")
    await page.get_by_text(w["json"], exact=True).click()
    shown_json = page.locator("#filter-json")
    await expect(form.get_by_label(f"{w['match']} 1", exact=True)).to_be_visible()
    await expect(form.get_by_label(f"{w['field']} 2", exact=True)).to_have_count(0)

    field = form.get_by_label(f"{w['field']} 1", exact=True)
    op = form.get_by_label(f"{w['op']} 1", exact=True)
    value = form.get_by_label(f"{w['value']} 1", exact=True)
    await field.focus()
    await field.select_option(label=w["created"])
    await expect(op.locator("option")).to_have_text(w["ops"])
    await expect(value).to_have_attribute("type", "datetime-local")
    await expect(form.locator(".condition .unit")).to_have_text(ZONE)
    await op.focus()
    await page.keyboard.press("Tab")
    await expect(value).to_be_focused()
    await value.fill("2026-03-01T09:30")
    condition = json.loads(await shown_json.input_value())["all"][0]
    assert condition == {"field": "created_at", "op": "gt", "value": "2026-03-01T09:30:00+08:00"}

    await op.select_option(label=w["ops"][3])  # on or before: the moment stays
    await expect(value).to_have_value("2026-03-01T09:30")
    await op.select_option(label=w["ops"][4])  # in the last … days: a number, started empty
    await expect(value).to_have_attribute("type", "number")
    await expect(value).to_have_value("")
    await value.focus()
    await page.keyboard.type("7")
    condition = json.loads(await shown_json.input_value())["all"][0]
    assert condition == {"field": "created_at", "op": "within_days", "value": 7}
    await op.select_option(label=w["ops"][3])
    await expect(value).to_have_attribute("type", "datetime-local")
    await expect(value).to_have_value("")
    await value.fill("2026-03-01T23:59")
    await assert_every_control_is_named(page)

    name = form.get_by_label(w["name"], exact=True)
    await name.fill("Joined by March")
    await name.press("Enter")
    await expect(page.get_by_role("heading", name="Joined by March", level=2)).to_be_visible()
    doc = await live.core.store.collection("segments").find_one({"name": "Joined by March"})
    assert doc is not None
    assert doc["filter"] == {
        "all": [{"field": "created_at", "op": "lte", "value": "2026-03-01T23:59:00+08:00"}]
    }


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_a_segment_saved_before_loads_as_the_same_moment_and_saves_unchanged(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    w = WORDS[locale]
    workspace_id = (await ensure_default_workspace(live.core)).id
    segment = await do_create_segment(live.core, workspace_id, "Seen since February", OLD)
    page = await in_shanghai(live, locale)
    await page.goto(f"{live.url}/app/segments/{segment.id}")
    form = page.locator("#builder")
    await expect(form.get_by_label(f"{w['field']} 1", exact=True)).to_have_value("last_seen_at")
    op = form.get_by_label(f"{w['op']} 1", exact=True)
    await expect(op.locator("option:checked")).to_have_text(w["ops"][0])  # after
    value = form.get_by_label(f"{w['value']} 1", exact=True)
    await expect(value).to_have_value("2026-01-31T08:00")  # midnight UTC, in Shanghai
    later = form.get_by_label(f"{w['op']} 2", exact=True)
    await expect(later.locator("option:checked")).to_have_text(w["ops"][4])
    await expect(form.get_by_label(f"{w['value']} 2", exact=True)).to_have_value("30")
    await page.get_by_text(w["json"], exact=True).click()
    assert json.loads(await page.locator("#filter-json").input_value()) == OLD
    await assert_every_control_is_named(page)

    name = form.get_by_label(w["name"], exact=True)
    await name.focus()
    await page.keyboard.press("End")
    await page.keyboard.type("!")
    await page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name="Seen since February!", level=2)
    await expect(heading).to_be_visible()
    doc = await live.core.store.collection("segments").find_one({"_id": segment.id})
    assert doc is not None and doc["filter"] == OLD
