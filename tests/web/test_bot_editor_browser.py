"""The bot editor (Settings → Bots) in a real browser: a bot built in the form by keyboard
alone, in English and in Chinese; a refused save marking each bad field in the page's
language; a marketer's form that cannot change anything; and no bot changed by opening it
in the form and saving it (the demo's bots, every shipped example, and one with every step
type and setting).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kith.bots import examples
from kith.bots.flows import BotDefinition, StepTypes
from kith.bots.store import save_bot
from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Role, Workspace
from kith.core.settings import Settings
from kith.core.teams import create_team
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import bot_step_types
from kith.web.demo import DEMO_EMAIL
from kith.web.demo import seed as demo_seed
from tests.support.browser import needs_chromium
from tests.support.held import Held
from tests.support.pages import Live, assert_every_control_is_named, live_app
from tests.web.conftest import PASSWORD

pytestmark = [needs_chromium, pytest.mark.timeout(180)]

WORDS = {
    "en": {
        "locale": "en-US",
        "new_bot": "New bot",
        "name": "Name",
        "no_channel": "No channel chosen: this bot answers nowhere until you choose at least one "
        "channel.",
        "add_flow": "Add flow",
        "flow": "Flow 1",
        "values": "Values (one per line)",
        "add_step": "Add step: Flow 1",
        "step_type": "New step's type",
        "text_en": "Text (English)",
        "text_zh": "Text (Chinese)",
        "add_button": "Add button",
        "payload": "Payload",
        "reason": "Reason",
        "team": "Team",
        "step": "Step {n}",
        "move_up": "Move up: Step {n}",
        "move_down": "Move down: Step {n}",
        "save": "Save bot",
        "saved": "Bot saved.",
        "edit": "Edit: {name}",
        "handoff": "Hand off to a person",
        "send_image": "Send image",
        "webhook": "Call a webhook",
        "url": "URL",
        "timeout": "Timeout (seconds)",
        "bad_url": "Must be a valid URL.",
        "too_big": "Must be 30 or less.",
        "json_tab": "Advanced: JSON",
        "form_tab": "Form",
        "json": "Bot definition (JSON)",
        "not_json": "JSON: This is not valid JSON:",
    },
    "zh": {
        "locale": "zh-CN",
        "new_bot": "新建机器人",
        "name": "名称",
        "no_channel": "未选择渠道：选择至少一个渠道之前，此机器人不会回复任何消息。",
        "add_flow": "添加流程",
        "flow": "流程 1",
        "values": "值（每行一个）",
        "add_step": "添加步骤：流程 1",
        "step_type": "新步骤类型",
        "text_en": "文字（英文）",
        "text_zh": "文字（中文）",
        "add_button": "添加按钮",
        "payload": "载荷",
        "reason": "原因",
        "team": "团队",
        "step": "步骤 {n}",
        "move_up": "上移：步骤 {n}",
        "move_down": "下移：步骤 {n}",
        "save": "保存机器人",
        "saved": "机器人已保存。",
        "edit": "编辑：{name}",
        "handoff": "转人工",
        "send_image": "发送图片",
        "webhook": "调用 Webhook",
        "url": "网址",
        "timeout": "超时（秒）",
        "bad_url": "必须是有效的网址。",
        "too_big": "不能大于 30。",
        "json_tab": "高级：JSON",
        "form_tab": "表单",
        "json": "机器人定义（JSON）",
        "not_json": "JSON: 这不是有效的 JSON：",
    },
}


async def seed(core: Core, workspace: Workspace) -> None:
    await create_channel(core, workspace.id, "api", "Website", {})
    await create_channel(core, workspace.id, "api", "App", {})
    await create_team(core, workspace.id, "Billing", [])
    for name, role in (("admin", Role.admin), ("mary", Role.marketer)):
        await create_user(
            core, workspace.id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[Live]:
    async with live_app(settings, seed) as app:
        yield app


async def choose(select, label: str) -> None:
    """Pick an option of a focused select by keyboard (arrow keys from the top)."""
    labels = await select.evaluate("(s) => [...s.options].map((o) => o.textContent)")
    await select.focus()
    await select.press("Home")
    for _ in range(labels.index(label)):
        await select.press("ArrowDown")
    await (
        pytest.importorskip("playwright.async_api")
        .expect(select)
        .to_have_value(await select.evaluate(f"(s) => s.options[{labels.index(label)}].value"))
    )


async def stored(page, live: Live, bot_id: str) -> dict[str, Any]:
    answer = await page.request.get(f"{live.url}/app/api/bots/{bot_id}")
    assert answer.ok, await answer.text()
    return await answer.json()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_bot_is_built_in_the_form_by_keyboard(live: Live, lang: str) -> None:
    from playwright.async_api import expect

    w = WORDS[lang]
    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    await page.goto(live.url + "/app/admin/bots")
    await page.get_by_role("button", name=w["new_bot"]).focus()
    await page.keyboard.press("Enter")
    name = page.get_by_role("textbox", name=w["name"], exact=True).first
    await expect(name).to_be_focused()
    await page.keyboard.type("Prices <b>bot</b>")
    await expect(page.get_by_text(w["no_channel"])).to_be_visible()
    await page.keyboard.press("Tab")  # enabled
    await page.keyboard.press("Tab")  # the first channel
    await expect(page.get_by_role("checkbox", name="Website (api)")).to_be_focused()
    await page.keyboard.press("Space")
    await expect(page.get_by_text(w["no_channel"])).to_be_hidden()

    await page.get_by_role("button", name=w["add_flow"]).focus()
    await page.keyboard.press("Enter")
    flow = page.get_by_role("group", name=w["flow"], exact=True)
    await expect(flow.get_by_role("textbox", name=w["name"], exact=True)).to_be_focused()
    await page.keyboard.type("Prices")
    await flow.get_by_label(w["values"]).focus()
    await page.keyboard.type("price\n价格")

    await flow.get_by_role("button", name=w["add_step"]).focus()
    await page.keyboard.press("Enter")  # a text step, the first type
    first = flow.get_by_role("group", name=re.compile("^" + w["step"].format(n=1)))
    await expect(first.get_by_role("textbox", name=w["text_en"])).to_be_focused()
    await page.keyboard.type("Our prices are on the <i>website</i>.")
    await page.keyboard.press("Tab")
    await expect(first.get_by_role("textbox", name=w["text_zh"])).to_be_focused()
    await page.keyboard.type("价格见官网。")
    await first.get_by_role("button", name=w["add_button"]).focus()
    await page.keyboard.press("Enter")
    await page.keyboard.type("Talk to a person")  # the new button's English label
    await page.keyboard.press("Tab")
    await page.keyboard.type("人工客服")
    await page.keyboard.press("Tab")
    await page.keyboard.type("kith:human")

    await choose(flow.get_by_label(w["step_type"]), w["handoff"])
    await flow.get_by_role("button", name=w["add_step"]).focus()
    await page.keyboard.press("Enter")
    second = flow.get_by_role("group", name=re.compile("^" + w["step"].format(n=2)))
    await expect(second.get_by_role("textbox", name=w["reason"])).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("asked about prices")
    await choose(second.get_by_label(w["team"]), "Billing")

    # moved by buttons, not by dragging: up, then back down
    await page.get_by_role("button", name=w["move_up"].format(n=2)).focus()
    await page.keyboard.press("Enter")
    moved = flow.get_by_role("group", name=re.compile("^" + w["step"].format(n=1)))
    await expect(moved).to_contain_text(w["handoff"])
    await expect(page.get_by_role("button", name=w["move_down"].format(n=1))).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(
        flow.get_by_role("group", name=re.compile("^" + w["step"].format(n=2)))
    ).to_contain_text(w["handoff"])
    await assert_every_control_is_named(page)

    await page.get_by_role("button", name=w["save"]).focus()
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text(w["saved"])
    doc = await live.core.store.collection("bots").find_one({})
    website = await live.core.store.channels.find_one({"name": "Website"})
    billing = await live.core.store.teams.find_one({"name": "Billing"})
    bot = await stored(page, live, doc["_id"])
    assert bot["name"] == "Prices <b>bot</b>"
    assert bot["channel_ids"] == [website["_id"]]
    [prices] = bot["flows"]
    assert prices["name"] == "Prices"
    assert prices["trigger"]["kind"] == "keyword" and prices["trigger"]["values"] == [
        "price",
        "价格",
    ]
    say, handoff = prices["steps"]
    assert say["type"] == "send_text"
    assert say["text"] == {"en": "Our prices are on the <i>website</i>.", "zh": "价格见官网。"}
    assert say["buttons"] == [
        {
            "label": {"en": "Talk to a person", "zh": "人工客服"},
            "payload": "kith:human",
            "url": None,
        }
    ]
    assert handoff["type"] == "handoff"
    assert handoff["reason"] == "asked about prices" and handoff["team_id"] == billing["_id"]

    await page.reload()  # reopened: the form shows what was saved
    await page.get_by_role("button", name=w["edit"].format(name="Prices <b>bot</b>")).click()
    await expect(page.get_by_role("textbox", name=w["name"], exact=True).first).to_have_value(
        "Prices <b>bot</b>"
    )
    flow = page.get_by_role("group", name=w["flow"], exact=True)
    await expect(flow.get_by_label(w["values"])).to_have_value("price\n价格")
    await expect(flow.get_by_role("textbox", name=w["text_en"])).to_have_value(
        "Our prices are on the <i>website</i>."
    )
    await expect(flow.get_by_role("textbox", name=w["payload"])).to_have_value("kith:human")
    second = flow.get_by_role("group", name=re.compile("^" + w["step"].format(n=2)))
    await expect(second.get_by_label(w["team"])).to_have_value(billing["_id"])
    await expect(page.get_by_role("checkbox", name="Website (api)")).to_be_checked()


async def test_a_form_opened_before_the_channels_arrive_waits_for_them(live: Live) -> None:
    """The form draws its channel choices once: drawn without them, they would appear later
    under the cursor and Tab from the name would skip them (a CI run saw exactly that)."""
    from playwright.async_api import expect

    page = await live.sign_in("admin@kith.test")
    channels = Held("/channels", method="GET")
    await channels.install(page)
    async with page.expect_response(lambda r: r.url.endswith("/app/api/bot-step-types")):
        await page.goto(live.url + "/app/admin/bots")
    await channels.first()
    await page.get_by_role("button", name="New bot").focus()
    await page.keyboard.press("Enter")
    drawn = await page.evaluate(
        """() => [!!document.getElementById("be.name"),
                  document.querySelectorAll('[data-field="channel_ids"] input').length]"""
    )
    assert drawn == [False, 0]
    channels.release()
    await expect(page.get_by_role("textbox", name="Name", exact=True).first).to_be_focused()
    await page.keyboard.press("Tab")  # enabled
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("checkbox", name="Website (api)")).to_be_focused()


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_a_refused_save_marks_each_bad_field(live: Live, lang: str) -> None:
    from playwright.async_api import expect

    w = WORDS[lang]
    page = await live.sign_in("admin@kith.test", locale=w["locale"])
    await page.goto(live.url + "/app/admin/bots")
    await page.get_by_role("button", name=w["new_bot"]).click()
    # The editor takes focus once the page's lists are in: typed before, the name is lost.
    await expect(page.get_by_role("textbox", name=w["name"], exact=True).first).to_be_focused()
    await page.keyboard.type("Broken")
    await page.get_by_role("button", name=w["add_flow"]).click()
    flow = page.get_by_role("group", name=w["flow"], exact=True)
    await flow.get_by_label(w["step_type"]).select_option(label=w["send_image"])
    await flow.get_by_role("button", name=w["add_step"]).click()
    await page.keyboard.type("not a url")  # the image's URL
    await flow.get_by_label(w["step_type"]).select_option(label=w["webhook"])
    await flow.get_by_role("button", name=w["add_step"]).click()
    await page.keyboard.type("https://example.com/hook")
    second = flow.get_by_role("group", name=re.compile("^" + w["step"].format(n=2)))
    await second.get_by_label(w["timeout"]).fill("99")
    await page.get_by_role("button", name=w["save"]).click()

    first = flow.get_by_role("group", name=re.compile("^" + w["step"].format(n=1)))
    url = first.get_by_role("textbox", name=w["url"])
    timeout = second.get_by_label(w["timeout"])
    await expect(url).to_have_attribute("aria-invalid", "true")
    await expect(timeout).to_have_attribute("aria-invalid", "true")
    await expect(url).to_be_focused()  # the first bad field
    await expect(first).to_contain_text(w["bad_url"])
    await expect(second).to_contain_text(w["too_big"])
    assert await live.core.store.collection("bots").count_documents({}) == 0

    # the JSON tab holds the same definition; bad JSON keeps you there, with why
    await page.get_by_role("tab", name=w["form_tab"]).focus()
    await page.keyboard.press("ArrowRight")  # tabs move by arrow keys
    json_tab = page.get_by_role("tab", name=w["json_tab"])
    await expect(json_tab).to_be_focused()
    await expect(json_tab).to_have_attribute("aria-selected", "true")
    json_box = page.get_by_label(w["json"])
    await expect(json_box).to_have_value(re.compile('"timeout": 99'))
    await json_box.fill((await json_box.input_value()).replace('"timeout": 99', '"timeout": 9,'))
    await page.get_by_role("tab", name=w["form_tab"]).click()
    await expect(page.locator("#bot-form").get_by_role("alert")).to_contain_text(w["not_json"])
    await expect(json_box).to_be_visible()
    await json_box.fill((await json_box.input_value()).replace('"timeout": 9,', '"timeout": 9'))
    await page.get_by_role("tab", name=w["form_tab"]).click()
    await expect(timeout).to_have_value("9")


async def test_a_marketer_sees_the_form_read_only(live: Live) -> None:
    from playwright.async_api import expect

    workspace = await ensure_default_workspace(live.core)
    await save_bot(live.core, workspace.id, BotDefinition(**examples.load("shop_assistant")))
    page = await live.sign_in("mary@kith.test")
    await page.goto(live.url + "/app/admin/bots")
    await page.get_by_role("button", name="View: Shop assistant").click()
    name = page.get_by_role("textbox", name="Name", exact=True).first
    await expect(name).to_have_value("Shop assistant")
    await expect(name).to_be_disabled()
    form = page.get_by_role("tabpanel", name="Form")
    summaries = form.locator("details.be-fold > summary")
    await expect(summaries.first).to_contain_text("Greet new conversations · First message")
    assert not await form.locator("details.be-fold[open]").count()  # more than two flows: folded
    await summaries.first.click()
    await expect(form.get_by_role("textbox", name="Text (English)").first).to_be_disabled()
    await expect(form.get_by_role("checkbox").first).to_be_disabled()
    await expect(form.get_by_role("combobox").first).to_be_disabled()
    enabled = form.locator("input:enabled, select:enabled, textarea:enabled, button:enabled")
    await expect(enabled).to_have_count(0)
    await expect(page.get_by_role("button", name=re.compile("Save|Add|Remove|Move"))).to_have_count(
        0
    )
    await page.get_by_role("tab", name="Advanced: JSON").click()
    await expect(page.get_by_label("Bot definition (JSON)")).not_to_be_editable()
    await assert_every_control_is_named(page)


# ---- round trips: opening a bot in the form and saving it changes nothing ---------------------

EVERYTHING: dict[str, Any] = {
    "name": "Every step",
    "enabled": False,
    "knowledge_base": False,
    "kb_threshold": 0.75,
    "fallback_text": "Plain text, one language",
    "away_text": {"en": "Away", "zh": "不在", "ja": "留守"},
    "business_hours": {
        "timezone": "Asia/Shanghai",
        "days": {"mon": ["08:30", "17:00"], "sat": ["10:00", "12:00"]},
    },
    "flows": [
        {
            "id": "main",
            "name": "Everything",
            "trigger": {"kind": "regex", "values": ["(?i)^\\s*help\\s*$"]},
            "steps": [
                {
                    "id": "pic",
                    "type": "send_image",
                    "url": "https://example.com/a.png",
                    "caption": "A",
                },
                {
                    "id": "q",
                    "type": "ask",
                    "text": "Size?",
                    "attribute": "size",
                    "validate": "choice",
                    "choices": ["S", {"en": "Large", "zh": "大"}],
                    "max_retries": 3,
                    "on_give_up": "bye",
                },
                {
                    "id": "split",
                    "type": "branch",
                    "cases": [
                        {
                            "when": {"attribute": "size", "equals": "S", "hour_from": 9},
                            "goto": "small",
                        },
                        {"when": {"tag": "vip", "exists": True, "equals": 3}, "goto": "bye"},
                    ],
                },
                {
                    "id": "small",
                    "type": "set",
                    "add_tags": ["small"],
                    "attributes": {"n": 1, "ok": True},
                },
                {
                    "id": "hook",
                    "type": "webhook",
                    "url": "https://example.com/h",
                    "timeout": 2.5,
                    "save_as": "crm",
                    "on_error": "bye",
                },
                {
                    "id": "ticket",
                    "type": "create_ticket",
                    "subject": "Help {name}",
                    "priority": "high",
                },
                {"id": "seq", "type": "enrol", "sequence_id": "welcome"},
                {"id": "again", "type": "goto", "target": "q"},
                {"id": "bye", "type": "end"},
            ],
        },
        {
            "id": "morning",
            "trigger": {
                "kind": "schedule",
                "values": ["0 9 * * mon-fri"],
                "timezone": "Europe/London",
                "reply_window_hours": 12,
            },
            "steps": [{"id": "hi", "type": "send_text", "text": {"en": "Morning"}}],
        },
    ],
}


def steps(core: Core) -> StepTypes:
    """The app's step types, features' too (as `create_app` hands them to the bots API)."""
    return StepTypes(bot_step_types(core.features))


async def round_trip(page, live: Live, bot_id: str, name: str) -> None:
    """Open the bot in the form, save it untouched: it is stored as it was."""
    from playwright.async_api import expect

    before = await stored(page, live, bot_id)
    await page.get_by_role("button", name=f"Edit: {name}", exact=True).click()
    await expect(page.get_by_role("heading", name=f"Edit bot: {name}")).to_be_visible()
    await expect(page.get_by_role("tabpanel", name="Form")).to_be_visible()
    await page.get_by_role("button", name="Save bot").click()
    await expect(page.get_by_role("status")).to_have_text("Bot saved.")
    await page.evaluate("document.getElementById('notice').textContent = ''")
    assert await stored(page, live, bot_id) == before


async def test_a_bot_with_every_step_type_and_setting_survives_the_form(live: Live) -> None:
    workspace = await ensure_default_workspace(live.core)
    everything = BotDefinition.model_validate(EVERYTHING)
    bot = await save_bot(live.core, workspace.id, everything, step_types=steps(live.core))
    page = await live.sign_in("admin@kith.test")
    await page.goto(live.url + "/app/admin/bots")
    await round_trip(page, live, bot.id, "Every step")


@pytest.fixture
async def demo(settings: Settings) -> AsyncIterator[Live]:
    """The demo's own data (its bots among it), with its admin's password known."""
    settings = settings.model_copy(update={"demo_password": PASSWORD})

    async def seeded(core: Core, workspace: Workspace) -> None:
        await demo_seed(core, settings)

    async with live_app(settings, seeded) as app:
        yield app


async def test_the_demo_bots_and_the_examples_survive_the_form(demo: Live) -> None:
    from playwright.async_api import expect

    page = await demo.sign_in(DEMO_EMAIL)
    await page.goto(demo.url + "/app/admin/bots")
    bots = (await (await page.request.get(demo.url + "/app/api/bots")).json())["items"]
    assert bots, "the demo has bots"
    for bot in bots:
        await round_trip(page, demo, bot["id"], bot["name"])

    # every shipped example, loaded in the form and saved, is stored as the example itself
    names = [
        item["id"]
        for item in (await (await page.request.get(demo.url + "/app/api/bot-examples")).json())[
            "items"
        ]
    ]
    for name in names:
        await page.get_by_role("button", name="New bot").click()
        await page.get_by_label("Start from example").select_option(name)
        await page.get_by_role("button", name="Load example").click()
        example = examples.load(name)
        await expect(page.get_by_role("textbox", name="Name", exact=True).first).to_have_value(
            example["name"]
        )
        await page.get_by_role("button", name="Save bot").click()
        await expect(page.get_by_role("status")).to_contain_text("Bot saved.")
        await page.evaluate("document.getElementById('notice').textContent = ''")
        made = await demo.core.store.collection("bots").find_one(
            {"name": example["name"]}, sort=[("created_at", -1)]
        )
        typed = BotDefinition.model_validate(example)
        want = (
            await save_bot(demo.core, made["workspace_id"], typed, step_types=steps(demo.core))
        ).model_dump(mode="json")
        got = await stored(page, demo, made["_id"])
        for key in ("id", "created_at"):
            got.pop(key), want.pop(key)
        assert got == want
