"""The settings pages' hand-written refusals carry a `reason` (and its `limits`), so that a
page words them in its own language; FAQ articles are edited in place; and a disabled
account is told so, but only to whoever knows its password."""

from __future__ import annotations

import httpx

from kith.core.users import do_update_user
from tests.web.conftest import PASSWORD, Cast, sign_in

ARTICLE = {"title": "Returns", "questions": ["How do I return?"], "answer": {"en": "Free."}}


def refusal(answer: httpx.Response, status: int) -> dict:
    """The answer's error, after checking its status, with its first field's four."""
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["fields"][0] == {k: error[k] for k in ("field", "message", "reason", "limits")}
    return error


async def test_a_taken_email_is_refused_with_a_reason(cast: Cast, browser) -> None:
    admin = await browser("admin")
    body = {"email": "Alice@kith.test", "password": PASSWORD, "role": "agent", "team_ids": []}
    error = refusal(await admin.api("POST", "/users", json=body), 409)
    assert (error["field"], error["reason"]) == ("email", "email_taken")


async def test_an_article_without_an_answer_or_with_a_long_question_says_why(
    cast: Cast, browser
) -> None:
    admin = await browser("admin")
    error = refusal(await admin.api("POST", "/knowledge", json={**ARTICLE, "answer": {}}), 422)
    assert (error["field"], error["reason"]) == ("answer", "answer_required")
    blank = {**ARTICLE, "answer": {"en": "  "}}
    assert refusal(await admin.api("POST", "/knowledge", json=blank), 422)["reason"] == (
        "answer_required"
    )
    long = {**ARTICLE, "questions": ["x" * 501]}
    error = refusal(await admin.api("POST", "/knowledge", json=long), 422)
    assert (error["field"], error["reason"], error["limits"]) == (
        "questions",
        "question_length",
        {"max_length": 500},
    )


async def test_an_admin_edits_an_article_in_place(cast: Cast, browser) -> None:
    admin, mary = await browser("admin"), await browser("mary")
    article = (await admin.api("POST", "/knowledge", json=ARTICLE)).json()
    changed = {"title": "Returns policy", "questions": ["Can I return?"], "answer": {"zh": "免费"}}
    saved = await admin.api("PUT", f"/knowledge/{article['id']}", json=changed)
    assert saved.status_code == 200, saved.text
    listed = (await admin.api("GET", "/knowledge")).json()["items"]
    assert [(a["id"], a["title"], a["questions"], a["answer"]) for a in listed] == [
        (article["id"], "Returns policy", ["Can I return?"], {"zh": "免费"})
    ]
    emptied = await admin.api("PUT", f"/knowledge/{article['id']}", json={**changed, "answer": {}})
    assert refusal(emptied, 422)["reason"] == "answer_required"
    missing = await admin.api("PUT", "/knowledge/nope", json=changed)
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "article_id"
    assert (await mary.api("PUT", f"/knowledge/{article['id']}", json=ARTICLE)).status_code == 403
    assert (await admin.api("GET", "/knowledge")).json()["items"][0]["title"] == "Returns policy"


async def test_a_channel_refusal_names_its_reason(cast: Cast, browser) -> None:
    admin = await browser("admin")
    unknown = {"type": "smoke-signal", "name": "Smoke", "config": {}}
    error = refusal(await admin.api("POST", "/admin/channels", json=unknown), 422)
    assert (error["field"], error["reason"], error["limits"]) == (
        "type",
        "unknown_channel_type",
        {"channel_type": "smoke-signal"},
    )
    for origin, reason in (
        ("shop.example.com", "not_an_origin"),
        ("https://shop.example.com/cart", "origin_has_path"),
    ):
        body = {"type": "webchat", "name": "Chat", "config": {"allowed_origins": [origin]}}
        error = refusal(await admin.api("POST", "/admin/channels", json=body), 422)
        assert error["field"].startswith("config.allowed_origins"), error
        assert (error["reason"], error["limits"]) == (reason, {"origin": origin})
        assert origin in error["message"]


async def test_a_disabled_account_is_told_so_only_with_its_password(
    cast: Cast, browser, core
) -> None:
    await do_update_user(core, cast.users["admin"], cast.users["alice"].id, disabled=True)
    fresh = await browser()
    right = await sign_in(fresh.http, "alice@kith.test")
    assert right.status_code == 401
    assert "This account is disabled: ask an administrator." in right.text
    assert "Wrong email or password" not in right.text
    for email, password in (("alice@kith.test", "not the password"), ("x@kith.test", PASSWORD)):
        wrong = await sign_in(fresh.http, email, password)
        assert wrong.status_code == 401 and "Wrong email or password." in wrong.text
        assert "disabled" not in wrong.text
    fresh.http.headers["Accept-Language"] = "zh-CN"
    chinese = await sign_in(fresh.http, "alice@kith.test")
    assert chinese.status_code == 401 and "此账号已停用：请联系管理员。" in chinese.text
