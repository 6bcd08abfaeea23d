"""The segment builder in a real browser, in English and Chinese, by keyboard: channels and
communities are picked by name (the filter keeps their ids), lifetime value is entered in
the currency's units (199.99 CNY is stored as 19999), bad JSON is worded with its line and
column, and a second segment of the same name is refused in words.

Regression (QA MINOR): the builder asked for raw "Channel ids", "Communities (id)" and
"Lifetime value (minor units)"; the JSON view showed "Unexpected end of JSON input";
duplicate names were allowed."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from kith.core.channel_records import create_channel
from kith.core.events import build_event, record
from kith.core.models import Customer, IdentityRef
from kith.core.workspaces import ensure_default_workspace
from kith.segments.records import do_create_segment
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named
from tests.web.test_admin_browser import live as live  # the fixture, re-exported

pytestmark = [needs_chromium, pytest.mark.timeout(180)]
TEA = "community-tea"


async def shop(live: Live) -> dict[str, str]:
    """Two channels (one with markup in its name), a community, an order in CNY and three
    customers: 王芳 in the tea group on the API channel with 199.99 CNY spent."""
    core = live.core
    workspace_id = (await ensure_default_workspace(core)).id
    api, _ = await create_channel(core, workspace_id, "api", "Website API", {})
    other, _ = await create_channel(core, workspace_id, "api", "<b>Shop</b>", {})
    await core.store.collection("communities").insert_one(
        {
            "_id": TEA,
            "workspace_id": workspace_id,
            "channel_id": api.id,
            "channel_type": "telegram",
            "platform_chat_id": "-100",
            "title": "Tea lovers 茶友会",
            "conversation_id": "conv-tea",
        }
    )
    await core.store.collection("orders").insert_one(
        {"_id": "order-1", "workspace_id": workspace_id, "currency": "CNY"}
    )
    now = core.clock.now()
    people: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
        (
            "c-1",
            "王芳",
            api.id,
            {"communities": {"ids": [TEA]}, "orders": {"total": {"CNY": 19999}}},
        ),
        ("c-2", "Ada", other.id, {"orders": {"total": {"CNY": 19998}}}),
        ("c-3", "李雷", other.id, {}),
    )
    for cid, name, channel_id, extra in people:
        doc = (
            Customer(
                id=cid,
                workspace_id=workspace_id,
                name=name,
                identities=[IdentityRef(channel_id=channel_id, external_id=cid)],
                channels=["api"],
                first_seen=now - timedelta(days=3),
                last_seen=now,
            ).to_doc()
            | extra
        )
        await core.store.customers.insert_one(doc)
        await record(core, build_event(core, workspace_id, "customer.created", customer_id=cid))
    await do_create_segment(
        core, workspace_id, "VIP in 上海", {"field": "tags", "op": "exists", "value": True}
    )
    return {"workspace_id": workspace_id, "api": api.id, "other": other.id}


WORDS = {
    "en-US": {
        "field": "Field",
        "value": "Value",
        "key": "Key",
        "op": "Condition",
        "form": "New segment",
        "name": "Name",
        "save": "Save segment",
        "json": "JSON view",
        "use": "Use this JSON",
        "one": "1 customer matches now",
        "none": "0 customers match now",
        "ended": (
            "This is not valid JSON: it ends before it is complete (a bracket or quote is missing)."
        ),
        "at": "This is not valid JSON: the error is at line 2, column 20.",
        "not_filter": re.compile(r"^This JSON is not a filter"),
        "taken": "A segment named “VIP in 上海” already exists: choose another name.",
        "gte": "at least",
        "communities": "Communities",
        "channel": "Channel",
        "money": "Lifetime value in",
    },
    "zh-CN": {
        "field": "字段",
        "value": "值",
        "key": "键名",
        "op": "条件",
        "form": "新建分群",
        "name": "名称",
        "save": "保存分群",
        "json": "JSON 视图",
        "use": "使用此 JSON",
        "one": "当前符合的客户：1 位",
        "none": "当前符合的客户：0 位",
        "ended": "这不是有效的 JSON：内容不完整，缺少括号或引号。",
        "at": "这不是有效的 JSON：错误在第 2 行第 20 列。",
        "not_filter": re.compile(r"^这段 JSON 不是筛选条件"),
        "taken": "已有名为“VIP in 上海”的分群，请换一个名称。",
        "gte": "不少于",
        "communities": "所在社群",
        "channel": "渠道",
        "money": "累计消费，币种",
    },
}


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_channels_communities_and_money_are_picked_and_typed_as_people_know_them(
    live: Live, locale: str
) -> None:
    from playwright.async_api import expect

    ids = await shop(live)
    w = WORDS[locale]
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/segments")
    form = page.locator("#builder")
    count = page.locator("#live-count")
    shown_json = page.locator("#filter-json")
    await page.get_by_text(w["json"], exact=True).click()

    field = form.get_by_label(f"{w['field']} 1", exact=True)
    value = form.get_by_label(f"{w['value']} 1", exact=True)
    # A community, by its title: the filter keeps its id.
    await field.focus()
    await field.select_option(label=w["communities"])
    await expect(value.locator("option")).to_have_text(["Tea lovers 茶友会 (telegram)"])
    await expect(count).to_have_text(w["one"])
    assert json.loads(await shown_json.input_value())["all"][0]["value"] == TEA

    # A channel, by its name, chosen by typing on the focused select; markup stays text.
    await field.select_option(label=w["channel"])
    channels = ["Website (api)", "Website API (api)", "<b>Shop</b> (api)"]  # the seed's first
    await expect(value.locator("option")).to_have_text(channels)
    await value.focus()
    await page.keyboard.type("<b>")
    await expect(value).to_have_value(ids["other"])
    await expect(count).to_have_text(re.compile("2"))
    assert json.loads(await shown_json.input_value())["all"][0]["value"] == ids["other"]

    # Lifetime value in CNY (the latest order's), typed in yuan, stored in fen.
    await field.select_option(label=w["money"])
    key = form.get_by_label(f"{w['key']} 1", exact=True)
    await expect(key).to_have_value("CNY")
    await form.get_by_label(f"{w['op']} 1", exact=True).select_option(label=w["gte"])
    await value.focus()
    await page.keyboard.type("199.99")
    await expect(count).to_have_text(w["one"])
    condition = json.loads(await shown_json.input_value())["all"][0]
    assert condition == {"field": "orders.total.CNY", "op": "gte", "value": 19999}
    await expect(value).to_have_attribute("step", "0.01")
    await assert_every_control_is_named(page)

    # The same name as a segment already has, in another case: refused in words.
    name = form.get_by_label(w["name"], exact=True)
    await name.fill("vip IN 上海")
    await name.press("Enter")
    await expect(page.locator("#builder-error")).to_have_text(w["taken"])
    await expect(name).to_be_focused()
    await expect(name).to_have_attribute("aria-invalid", "true")
    await name.fill("Big tea spenders")
    await name.press("Enter")
    await expect(page.get_by_role("heading", name="Big tea spenders", level=2)).to_be_visible()
    doc = await live.core.store.collection("segments").find_one({"name": "Big tea spenders"})
    assert doc is not None and doc["filter"]["all"][0]["value"] == 19999
    # Edited again, the amount reads in yuan.
    await expect(form.get_by_label(f"{w['value']} 1", exact=True)).to_have_value("199.99")


@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
async def test_bad_json_is_worded_with_where_it_went_wrong(live: Live, locale: str) -> None:
    from playwright.async_api import expect

    await shop(live)
    w = WORDS[locale]
    page = await live.sign_in("mary@kith.test", locale=locale)
    await page.goto(live.url + "/app/segments")
    form = page.locator("#builder")
    await page.get_by_text(w["json"], exact=True).click()
    text = page.locator("#filter-json")
    error = page.locator("#builder-error")
    use = form.get_by_role("button", name=w["use"])
    for typed, said in (
        ('{"all": [', w["ended"]),
        ('{"all": [\n  {"field": "tags" "op": "exists", "value": true}]}', w["at"]),
        ("[1, 2]", w["not_filter"]),
    ):
        await text.fill(typed)
        await text.focus()
        await page.keyboard.press("Tab")
        await expect(use).to_be_focused()
        await page.keyboard.press("Enter")
        await expect(error).to_have_text(said)
        await expect(text).to_be_focused()  # back where it is mended
    await text.fill('{"field": "tags", "op": "contains", "value": "vip"}')
    await use.press("Enter")
    await expect(error).to_have_text("")
    await expect(form.get_by_label(f"{w['value']} 1", exact=True)).to_have_value("vip")
