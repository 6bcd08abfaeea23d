"""Settings → Channels: connecting accounts from the web app, over its JSON and in a browser.

alice is an agent, mary a marketer, admin the one admin (see `tests/web/conftest.py`); the
cast's two API channels, Shop and Help desk, already exist.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from kith.connectors.api.channel import ApiChannelConfig
from kith.core.channel_records import ChannelConfigInvalid, get_channel
from kith.core.context import Core
from kith.web.app import CHANNEL_TYPES
from tests.connectors.telegram.conftest import API_BASE, BOT_TOKEN
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.support.browser import needs_chromium
from tests.support.pages import Live, assert_every_control_is_named
from tests.support.written_dates import day
from tests.web.conftest import Cast
from tests.web.test_admin_browser import live as live  # the fixture, re-exported

WEBCHAT = {
    "allowed_origins": ["https://shop.example"],
    "identity_secret": "identity-secret-of-the-shop-0123",
    "title": "Northwind Tea",
}
DAY = datetime(2026, 12, 30, 12, 0, tzinfo=UTC)  # the 30th in any browser's time zone


@pytest.fixture
def callbacks() -> FakeBotApi:
    """Core's HTTP client reaches a fake Bot API: creating a Telegram channel calls it."""
    return FakeBotApi(token=BOT_TOKEN)


def writes(cast: Cast) -> list[tuple[str, str, object]]:
    """Every write of the channels' JSON, with a body that would succeed."""
    return [
        ("POST", "/admin/channels", {"type": "api", "name": "App", "config": {}}),
        ("PATCH", f"/admin/channels/{cast.shop.id}", {"name": "Shop 2"}),
    ]


def reads(cast: Cast) -> list[str]:
    return ["/channel-types", "/admin/channels", f"/admin/channels/{cast.shop.id}"]


def error_of(answer: httpx.Response) -> dict:
    return answer.json()["error"]


async def create(session, type_: str, name: str, config: dict) -> dict:
    answer = await session.api(
        "POST", "/admin/channels", json={"type": type_, "name": name, "config": config}
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def every_answer_after(session, channel_id: str) -> str:
    """What any later read of the channel shows: the list and the channel itself."""
    listed = await session.api("GET", "/admin/channels")
    one = await session.api("GET", f"/admin/channels/{channel_id}")
    inbox = await session.api("GET", "/channels")
    return listed.text + one.text + inbox.text


# ---- creating ------------------------------------------------------------------------------


async def test_an_admin_creates_an_api_channel_whose_token_works(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    made = await create(admin, "api", "Shop app", {"callback_url": "https://shop.example/kith"})
    channel_id, token = made["id"], made["token"]
    secret = made["secrets"]["callback_secret"]
    assert made["config"] == {"callback_url": "https://shop.example/kith"}
    webhook = f"http://kith.test/webhooks/api/{channel_id}"
    assert made["endpoints"] == [{"key": "webhook_url", "url": webhook}]
    assert (await get_channel(core, cast.workspace_id, channel_id)).config["callback_secret"] == (
        secret
    )

    later = await every_answer_after(admin, channel_id)
    assert "Shop app" in later and token not in later and secret not in later
    posted = await admin.http.post(
        webhook,
        json={"message_id": "m-1", "user": {"id": "u-1"}, "text": "Hello"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert posted.status_code == 200, posted.text


async def test_an_admin_creates_a_webchat_channel_with_its_script_and_sample_page(
    cast: Cast, browser
) -> None:
    admin = await browser("admin")
    made = await create(admin, "webchat", "Website", WEBCHAT)
    assert made["secrets"] == {}  # the identity secret was typed in, not generated
    assert "identity_secret" not in made["config"]
    urls = {e["key"]: e["url"] for e in made["endpoints"]}
    base = "http://kith.test"
    assert urls == {
        "script_url": f"{base}/widget/{made['id']}.js",
        "demo_page": f"{base}/demo/widget/{made['id']}",
    }
    sample = await admin.http.get(urls["demo_page"])
    script_path = urls["script_url"].removeprefix(base)  # relative: the page never reflects Host
    assert sample.status_code == 200 and f'src="{script_path}"' in sample.text
    assert WEBCHAT["identity_secret"] not in await every_answer_after(admin, made["id"])


async def test_the_urls_shown_follow_the_public_url(cast: Cast, browser, core: Core) -> None:
    core.settings.public_url = "https://kith.example.com/"
    admin = await browser("admin")
    made = await create(admin, "api", "App", {})
    assert made["endpoints"][0]["url"] == f"https://kith.example.com/webhooks/api/{made['id']}"


async def test_every_url_shown_is_a_route_the_app_serves(client: httpx.AsyncClient) -> None:
    """A missing route is the router's bare 404; a known one answers 405, or names the id."""
    for channel_type in CHANNEL_TYPES:
        for _, path in channel_type.endpoint_paths("no-such-channel"):
            answer = await client.get(path)
            missing = answer.status_code == 404 and error_of(answer)["field"] is None
            assert not missing, (channel_type.name, path, answer.text)


async def test_the_types_come_with_their_form(cast: Cast, browser) -> None:
    admin = await browser("admin")
    types = {t["name"]: t for t in (await admin.api("GET", "/channel-types")).json()["items"]}
    assert set(types) == {"api", "email", "slack", "telegram", "wechat", "webchat"}
    telegram = types["telegram"]
    assert telegram["secret_fields"] == ["bot_token", "secret_token"]
    assert telegram["generated"] == ["secret_token"]
    assert telegram["schema"]["required"] == ["bot_token"]
    assert telegram["schema"]["properties"]["mode"]["enum"] == ["webhook", "polling"]
    assert types["api"]["generated"] == ["callback_secret"]
    assert types["email"]["endpoints"] == []


async def test_every_described_field_has_its_chinese_description(cast: Cast, browser) -> None:
    admin = await browser("admin")
    for channel_type in (await admin.api("GET", "/channel-types")).json()["items"]:
        described = {
            name
            for name, prop in channel_type["schema"]["properties"].items()
            if prop.get("description")
        }
        chinese = channel_type["translations"]["zh"]
        assert set(chinese) == described | {""}, channel_type["name"]
        assert all(any("\u4e00" <= c <= "\u9fff" for c in text) for text in chinese.values())


# ---- who may call --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["alice", "mary"])
async def test_agents_and_marketers_are_refused_reads_included(
    cast: Cast, browser, core: Core, name: str
) -> None:
    session = await browser(name)
    for method, path, body in writes(cast):
        answer = await session.api(method, path, json=body)
        assert answer.status_code == 403, (name, method, path)
    for path in reads(cast):
        assert (await session.api("GET", path)).status_code == 403, (name, path)
    broken = await session.api("POST", "/admin/channels", json={"type": 7})
    assert broken.status_code == 403  # the role is checked before the body
    assert (await session.http.get("/app/admin/channels")).status_code == 403
    assert await core.store.channels.count_documents({}) == 2


async def test_agents_keep_the_inbox_list_of_names(cast: Cast, browser) -> None:
    alice = await browser("alice")
    listed = (await alice.api("GET", "/channels")).json()["items"]
    assert listed == [{"id": cast.shop.id, "name": "Shop", "type": "api"}]


async def test_signed_out_every_call_is_401(cast: Cast, browser) -> None:
    anonymous = await browser()
    for method, path, body in [*writes(cast), *(("GET", p, None) for p in reads(cast))]:
        answer = await anonymous.api(method, path, json=body)
        assert answer.status_code == 401, (method, path)
        assert error_of(answer)["code"] == "not_signed_in"
    page = await anonymous.http.get("/app/admin/channels")
    assert page.status_code == 303 and page.headers["location"] == "/app/login"


async def test_every_write_needs_the_csrf_token(cast: Cast, browser, core: Core) -> None:
    admin = await browser("admin")
    for method, path, body in writes(cast):
        answer = await admin.api(method, path, json=body, headers={"X-CSRF-Token": ""})
        assert answer.status_code == 403, (method, path)
        assert error_of(answer)["code"] == "csrf"
    assert await core.store.channels.count_documents({}) == 2
    assert (await core.store.channels.find_one({"_id": cast.shop.id}))["name"] == "Shop"


# ---- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "api", "name": "A", "config": {"callback_url": "nope"}}, "config.callback_url"),
        ({"type": "api", "name": "A", "config": {"colour": "red"}}, "config.colour"),
        ({"type": "webchat", "name": "W", "config": {"color": "red"}}, "config.color"),
        ({"type": "webchat", "name": "W", "config": {"allowed_origins": ["x"]}}, None),
        ({"type": "telegram", "name": "T", "config": {}}, "config.bot_token"),
        ({"type": "slack", "name": "S", "config": {"bot_token": "xoxp-1234567890"}}, None),
        ({"type": "fax", "name": "F", "config": {}}, "type"),
        ({"type": "api", "name": "", "config": {}}, "name"),
        ({"type": "api", "name": "A", "config": {}, "token": "mine"}, "token"),
    ],
)
async def test_bad_input_names_the_field_and_stores_nothing(
    cast: Cast, browser, core: Core, body: dict, field: str | None
) -> None:
    admin = await browser("admin")
    answer = await admin.api("POST", "/admin/channels", json=body)
    assert answer.status_code == 422, answer.text
    named = error_of(answer)["field"]
    assert named == field if field else named.startswith("config."), answer.text
    assert await core.store.channels.count_documents({}) == 2


async def test_a_bot_token_telegram_rejects_leaves_no_channel_behind(
    cast: Cast, browser, core: Core, callbacks: FakeBotApi
) -> None:
    core.settings.public_url = "https://kith.example.com"
    admin = await browser("admin")
    config = {"bot_token": "7000000001:revoked", "api_base": API_BASE}
    answer = await admin.api(
        "POST", "/admin/channels", json={"type": "telegram", "name": "Bot", "config": config}
    )
    assert answer.status_code == 422 and error_of(answer)["field"] == "config.bot_token"
    assert await core.store.channels.count_documents({"type": "telegram"}) == 0
    made = await create(admin, "telegram", "Bot", {**config, "bot_token": BOT_TOKEN})
    assert made["secrets"]["secret_token"]  # generated, shown once
    assert [c["url"] for c in callbacks.called("setWebhook")] == [made["endpoints"][0]["url"]]


# ---- editing -------------------------------------------------------------------------------


async def test_secrets_left_out_keep_their_value(cast: Cast, browser, core: Core) -> None:
    admin = await browser("admin")
    made = await create(admin, "api", "App", {})
    secret = made["secrets"]["callback_secret"]
    renamed = await admin.api("PATCH", f"/admin/channels/{made['id']}", json={"name": "Shop"})
    assert renamed.status_code == 200, renamed.text
    change = {"name": "Shop app", "config": {"callback_url": "https://shop.example/hook"}}
    answer = await admin.api("PATCH", f"/admin/channels/{made['id']}", json=change)
    assert answer.status_code == 422  # a new endpoint takes the secrets again
    assert answer.json()["error"]["field"] == "config.callback_secret"
    change["config"]["callback_secret"] = secret
    answer = await admin.api("PATCH", f"/admin/channels/{made['id']}", json=change)
    assert answer.status_code == 200, answer.text
    assert answer.json()["name"] == "Shop app"
    assert answer.json()["config"] == {"callback_url": "https://shop.example/hook"}
    stored = await get_channel(core, cast.workspace_id, made["id"])
    assert stored.config["callback_secret"] == secret

    fresh = "a-brand-new-callback-secret-0123"
    changed = await admin.api(
        "PATCH",
        f"/admin/channels/{made['id']}",
        json={"config": {"callback_url": None, "callback_secret": fresh}},
    )
    assert changed.status_code == 200 and fresh not in changed.text
    assert changed.json()["config"] == {}
    stored = await get_channel(core, cast.workspace_id, made["id"])
    assert stored.config["callback_secret"] == fresh and "callback_url" not in stored.config


async def test_an_admin_sees_and_fixes_a_channel_whose_stored_config_broke(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    await core.store.channels.update_one(
        {"_id": cast.shop.id}, {"$set": {"config.callback_url": "not a url"}}
    )
    with pytest.raises(ChannelConfigInvalid, match=r"config\.callback_url"):
        await get_channel(core, cast.workspace_id, cast.shop.id)

    assert cast.shop.id in (await admin.api("GET", "/admin/channels")).text
    assert (await admin.api("GET", f"/admin/channels/{cast.shop.id}")).status_code == 200
    fix = {"config": {"callback_url": "https://shop.example/kith", "callback_secret": "s" * 16}}
    answer = await admin.api("PATCH", f"/admin/channels/{cast.shop.id}", json=fix)

    assert answer.status_code == 200, answer.text
    fixed = await get_channel(core, cast.workspace_id, cast.shop.id)
    assert str(fixed.settings_as(ApiChannelConfig).callback_url) == "https://shop.example/kith"


async def test_a_bad_change_names_the_field_and_changes_nothing(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    for change, field in (
        ({"config": {"callback_secret": "short"}}, "config.callback_secret"),
        ({"name": ""}, "name"),
        ({"type": "webchat"}, "type"),
    ):
        answer = await admin.api("PATCH", f"/admin/channels/{cast.shop.id}", json=change)
        assert answer.status_code == 422 and error_of(answer)["field"] == field, answer.text
    missing = await admin.api("PATCH", "/admin/channels/nope", json={"name": "X"})
    assert missing.status_code == 404 and error_of(missing)["field"] == "channel_id"
    assert (await core.store.channels.find_one({"_id": cast.shop.id}))["name"] == "Shop"


async def test_a_disabled_channel_takes_no_messages_until_enabled(cast: Cast, browser) -> None:
    admin = await browser("admin")
    made = await create(admin, "api", "App", {})
    path = f"/admin/channels/{made['id']}"
    message = {"message_id": "m-1", "user": {"id": "u-1"}, "text": "Hello"}
    auth = {"Authorization": f"Bearer {made['token']}"}

    off = await admin.api("PATCH", path, json={"enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    refused = await admin.http.post(f"/webhooks/api/{made['id']}", json=message, headers=auth)
    assert refused.status_code == 404 and error_of(refused)["code"] == "channel_disabled"

    on = await admin.api("PATCH", path, json={"enabled": True})
    assert on.json()["enabled"] is True
    taken = await admin.http.post(f"/webhooks/api/{made['id']}", json=message, headers=auth)
    assert taken.status_code == 200


# ---- the page ------------------------------------------------------------------------------


async def test_the_page_is_in_the_settings_nav_in_either_language(cast: Cast, browser) -> None:
    admin = await browser("admin")
    users = await admin.http.get("/app/admin/users")
    assert 'href="/app/admin/channels"' in users.text
    page = await admin.http.get("/app/admin/channels")
    assert page.status_code == 200 and "/app/static/admin_channels.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    chinese = await admin.http.get(
        "/app/admin/channels", headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert 'lang="zh-Hans"' in chinese.text and "新建渠道" in chinese.text
    for name in ("admin_channels.js", "admin_channels.css"):
        assert (await admin.http.get(f"/app/static/{name}")).status_code == 200


# ---- in a browser --------------------------------------------------------------------------


@needs_chromium
@pytest.mark.timeout(120)
async def test_an_admin_connects_an_api_channel_in_the_browser(live: Live) -> None:
    from playwright.async_api import expect

    await live.core.store.channels.update_one({"name": "Website"}, {"$set": {"created_at": DAY}})
    page = await live.sign_in("admin@kith.test")
    await page.get_by_role("link", name="Settings").click()
    nav = page.get_by_role("navigation", name="Settings sections")
    await nav.get_by_role("link", name="Channels").click()
    await expect(page.get_by_role("heading", name="Channels", exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Channels")
    website = table.get_by_role("row", name=re.compile("Website"))
    await expect(website).to_contain_text("API")
    # Created: as every page writes a date (KithDom.date), the month in words; not 12/30/2026.
    await expect(website.locator("time")).to_have_text("30 Dec 2026")
    await expect(website.locator("time")).to_have_attribute("datetime", re.compile("^2026-12-30"))
    await assert_every_control_is_named(page)

    form = page.get_by_role("form", name="New channel")
    await form.get_by_label("Type").select_option(label="API")
    await form.get_by_label("Name", exact=True).fill("Shop <b>app</b>")
    callback = form.get_by_label("Callback URL")
    await callback.fill("not a url")
    await form.get_by_role("button", name="Create channel").click()
    await expect(form.get_by_role("alert")).to_have_text("Callback URL: Must be a valid URL.")
    await expect(callback).to_have_attribute("aria-invalid", "true")
    await expect(callback).to_have_accessible_description(re.compile("valid URL"))
    await expect(form.get_by_label("Callback secret")).to_have_attribute("type", "password")

    await callback.fill("https://shop.example/kith")
    await form.get_by_role("button", name="Create channel").click()
    shown = page.get_by_role("region", name="Connect: Shop <b>app</b>")
    await expect(shown.get_by_label("Channel token")).to_have_value(re.compile(r"^kch_"))
    stored = await live.core.store.channels.find_one({"name": "Shop <b>app</b>"})
    webhook = f"{live.url}/webhooks/api/{stored['_id']}"
    await expect(shown.get_by_label("Webhook URL")).to_have_value(webhook)
    token = await shown.get_by_label("Channel token").input_value()
    secret = await shown.get_by_label("Callback secret").input_value()
    assert len(secret) >= 16
    row = table.get_by_role("row", name="Shop <b>app</b>")  # text, never markup
    await expect(row).to_contain_text("Enabled")
    await expect(page.get_by_role("status")).to_have_text("Channel created.")
    await assert_every_control_is_named(page)
    async with httpx.AsyncClient() as http:
        posted = await http.post(
            webhook,
            json={"message_id": "m-1", "user": {"id": "u-1"}, "text": "Hi"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert posted.status_code == 200, posted.text

    await shown.get_by_role("button", name="Done").click()
    await expect(shown).to_be_hidden()
    await page.reload()
    await expect(row).to_be_visible()
    html = await page.content()
    assert token not in html and secret not in html

    await row.get_by_role("button", name="Edit: Shop <b>app</b>").click()
    dialog = page.get_by_role("dialog", name="Edit channel: Shop <b>app</b>")
    await expect(dialog.get_by_label("Callback secret")).to_have_value("")
    await expect(dialog.get_by_label("Webhook URL")).to_have_value(webhook)
    await dialog.get_by_label("Enabled").uncheck()
    await dialog.get_by_role("button", name="Save").click()
    await expect(dialog).to_be_hidden()
    await expect(row).to_contain_text("Disabled")
    after = await live.core.store.channels.find_one({"_id": stored["_id"]})
    assert after["enabled"] is False and after["config"] == stored["config"]
    assert {k: v for k, v in after.items() if k.startswith("sealed")} == {
        k: v for k, v in stored.items() if k.startswith("sealed")
    }


@needs_chromium
@pytest.mark.timeout(120)
async def test_the_chinese_channels_page(live: Live) -> None:
    from playwright.async_api import expect

    await live.core.store.channels.update_one({"name": "Website"}, {"$set": {"created_at": DAY}})
    page = await live.sign_in("admin@kith.test", locale="zh-CN")
    await page.goto(live.url + "/app/admin/channels")
    assert await page.evaluate("document.documentElement.lang") == "zh-Hans"
    website = page.get_by_role("table", name="渠道").get_by_role("row", name=re.compile("Website"))
    await expect(website.locator("time")).to_have_text("2026年12月30日")  # not 2026/12/30
    await expect(page.get_by_role("heading", name="渠道", exact=True)).to_be_visible()
    form = page.get_by_role("form", name="新建渠道")
    await form.get_by_label("类型").select_option(label="网站聊天")
    await expect(form.get_by_label("身份验证密钥")).to_have_attribute("type", "password")
    await expect(form).to_contain_text("嵌入您自己网站的聊天窗口")  # the connector's own words
    await expect(form.get_by_label("身份验证密钥")).to_have_accessible_description(
        re.compile("验证您的用户")
    )
    await form.get_by_label("名称", exact=True).fill("官网")
    await form.get_by_label("允许嵌入的网站").fill("https://shop.example\nhttps://www.shop.example")
    await form.get_by_label("主题色").fill("红色")
    await form.get_by_role("button", name="创建渠道").click()
    await expect(form.get_by_role("alert")).to_have_text("主题色：形如 #1a73e8 或 #fff 的颜色。")
    await form.get_by_label("主题色").fill("#2f6f4f")
    await form.get_by_role("button", name="创建渠道").click()
    shown = page.get_by_role("region", name="连接：官网")
    await expect(shown).to_be_visible()  # created: only now is it in the database
    stored = await live.core.store.channels.find_one({"name": "官网"})
    demo = f"{live.url}/demo/widget/{stored['_id']}"
    await expect(shown.get_by_label("示例页面")).to_have_value(demo)
    await expect(shown.get_by_label("放入网站的 script 标签")).to_have_value(
        f'<script src="{live.url}/widget/{stored["_id"]}.js" async></script>'
    )
    assert stored["config"]["allowed_origins"] == [
        "https://shop.example",
        "https://www.shop.example",
    ]
    row = page.get_by_role("table", name="渠道").get_by_role("row", name=re.compile("官网"))
    await expect(row).to_contain_text("网站聊天")
    await expect(row.locator("time")).to_have_text(day("zh"))  # today's, written the same way
    await expect(row.get_by_role("button", name="停用：官网")).to_be_visible()
    await assert_every_control_is_named(page)


def test_every_channel_settings_field_is_worded_in_both_languages() -> None:
    """The channel form labels each field `cfg_<name>` (admin_channels.js), else the field's
    name shows: QA saw "Greeting Zh" in the Chinese form."""
    from kith.web.inbox.i18n import messages

    for locale in ("en", "zh"):
        words = messages(locale)
        unworded = [
            f"{channel_type.name}.{name}"
            for channel_type in CHANNEL_TYPES
            for name in channel_type.config_model.model_fields
            if f"cfg_{name}" not in words
        ]
        assert unworded == [], locale
