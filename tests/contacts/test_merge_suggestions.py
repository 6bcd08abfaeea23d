"""Merge suggestions through the API: who shares an email, a phone or a WeChat unionid,
paging, dismissing, merging from a suggestion (audited), and another workspace's view."""

from __future__ import annotations

import httpx
import pytest

from kith.core.context import Core
from kith.core.workspaces import create_workspace
from tests.contacts.people import Shop, open_shop


@pytest.fixture
async def shop(core: Core, client: httpx.AsyncClient, workspace_id: str) -> Shop:
    return await open_shop(core, client, workspace_id)


async def test_customers_sharing_an_email_phone_or_unionid_are_suggested(shop: Shop) -> None:
    ada_web = await shop.customer(shop.web, "w-ada", "Ada", "ada@example.com")
    ada_app = await shop.customer(shop.app, "a-ada", "Ada L.", "ADA@example.com ")
    await shop.customer(shop.app, "a-bob", "Bob", "bob@example.com")
    li_web = await shop.customer(shop.web, "w-li", "李雷", phone="+8613800000000")
    li_app = await shop.customer(shop.app, "a-li", "李雷", phone="+8613800000000")
    wx_one = await shop.customer(shop.web, "w-wx", "微信用户")
    wx_two = await shop.customer(shop.app, "a-wx", "Wei")
    for customer_id in (wx_one, wx_two):
        patched = await shop.http.patch(
            f"/api/v1/customers/{customer_id}",
            json={"attributes": {"wechat_unionid": "o6_bmasdasdsad6_2sgVt7hMZOPfL"}},
            headers=shop.auth,
        )
        assert patched.status_code == 200, patched.text

    response = await shop.get("/merge-suggestions")

    assert response.status_code == 200, response.text
    found = {
        (s["key"], s["value"]): {c["id"] for c in s["customers"]} for s in response.json()["items"]
    }
    assert found == {
        ("email", "ada@example.com"): {ada_web, ada_app},
        ("phone", "+8613800000000"): {li_web, li_app},
        ("wechat_unionid", "o6_bmasdasdsad6_2sgVt7hMZOPfL"): {wx_one, wx_two},
    }
    assert response.json()["next_cursor"] is None


async def test_suggestions_come_in_cursor_pages(shop: Shop) -> None:
    for n in range(5):
        await shop.customer(shop.web, f"w-{n}", f"Web {n}", f"p{n}@example.com")
        await shop.customer(shop.app, f"a-{n}", f"App {n}", f"p{n}@example.com")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = (await shop.get("/merge-suggestions", **params)).json()
        seen += [s["value"] for s in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"p{n}@example.com" for n in range(5)]
    assert pages == 3
    bad = await shop.get("/merge-suggestions", cursor="not-a-cursor")
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "cursor"


async def test_a_dismissed_suggestion_stays_away_until_someone_new_shares_the_key(
    shop: Shop,
) -> None:
    await shop.customer(shop.web, "w-ada", "Ada", "ada@example.com")
    await shop.customer(shop.app, "a-ada", "Ada", "ada@example.com")
    [suggestion] = (await shop.get("/merge-suggestions")).json()["items"]

    dismissed = await shop.post(f"/merge-suggestions/{suggestion['id']}/dismiss")

    assert dismissed.status_code == 200, dismissed.text
    assert (await shop.get("/merge-suggestions")).json()["items"] == []
    third = await shop.customer(shop.app, "a-ada-2", "Ada again", "ada@example.com")
    [back] = (await shop.get("/merge-suggestions")).json()["items"]
    assert back["id"] == suggestion["id"]
    assert third in {c["id"] for c in back["customers"]}


async def test_merging_from_a_suggestion_is_audited(shop: Shop, core: Core) -> None:
    web = await shop.customer(shop.web, "w-ada", "Ada", "ada@example.com")
    app = await shop.customer(shop.app, "a-ada", "Ada", "ada@example.com")
    bob = await shop.customer(shop.app, "a-bob", "Bob", "bob@example.com")
    [suggestion] = (await shop.get("/merge-suggestions")).json()["items"]
    path = f"/merge-suggestions/{suggestion['id']}/merge"

    outsider = await shop.post(path, {"survivor_id": web, "other_id": bob})
    assert outsider.status_code == 422
    assert outsider.json()["error"]["field"] == "other_id"
    merged = await shop.post(path, {"survivor_id": web, "other_id": app})

    assert merged.status_code == 200, merged.text
    merge_id = merged.json()["merge_id"]
    assert merged.json()["survivor_id"] == web
    [audit] = (await shop.get("/merges")).json()["items"]
    assert audit["id"] == merge_id
    assert (audit["survivor_id"], audit["other_id"]) == (web, app)
    assert audit["via"] == f"suggestion:{suggestion['id']}"
    assert audit["actor"]["name"] == "API token merges"
    assert audit["undone_at"] is None
    event = await core.store.events.find_one({"type": "customer.merged"})
    assert event is not None
    assert event["data"]["merge_id"] == merge_id
    assert (await shop.get("/merge-suggestions")).json()["items"] == []
    gone = await shop.post(path, {"survivor_id": web, "other_id": app})
    assert gone.status_code == 404
    assert gone.json()["error"]["field"] == "suggestion_id"


async def test_bad_merge_requests_name_the_field(shop: Shop) -> None:
    await shop.customer(shop.web, "w-ada", "Ada", "ada@example.com")
    await shop.customer(shop.app, "a-ada", "Ada", "ada@example.com")
    [suggestion] = (await shop.get("/merge-suggestions")).json()["items"]

    missing = await shop.post(f"/merge-suggestions/{suggestion['id']}/merge", {"other_id": "x"})

    assert missing.status_code == 422
    assert "survivor_id" in missing.json()["error"]["field"]
    unknown = await shop.post("/merges/no-such-merge/undo")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "merge_id"


async def test_another_workspace_neither_sees_nor_merges(shop: Shop, core: Core) -> None:
    await shop.customer(shop.web, "w-ada", "Ada", "ada@example.com")
    app = await shop.customer(shop.app, "a-ada", "Ada", "ada@example.com")
    web_id = (await shop.get("/merge-suggestions")).json()["items"][0]["customers"][0]["id"]
    [suggestion] = (await shop.get("/merge-suggestions")).json()["items"]
    other = await open_shop(core, shop.http, (await create_workspace(core, "Other")).id)

    assert (await other.get("/merge-suggestions")).json()["items"] == []
    refused = await other.post(
        f"/merge-suggestions/{suggestion['id']}/merge", {"survivor_id": web_id, "other_id": app}
    )
    assert refused.status_code == 404
    assert (await other.post(f"/merge-suggestions/{suggestion['id']}/dismiss")).status_code == 404
    assert (await shop.get("/merge-suggestions")).json()["items"] == [suggestion]
