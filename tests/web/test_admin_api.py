"""The settings pages and their JSON: every permission rule, bad input, and what a change does.

alice is an agent in Sales (channel Shop), bob in Support (channel Help desk), mary a
marketer, admin the one admin (see `tests/web/conftest.py`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from kith.bots import examples
from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.models import Role, User
from kith.core.users import do_update_user
from tests.web.conftest import PASSWORD, Cast, sign_in

I18N = Path(__file__).resolve().parents[2] / "web" / "inbox" / "i18n"
PAGES = ("/app/admin/users", "/app/admin/teams", "/app/admin/bots")
ARTICLE = {"title": "Returns", "questions": ["How do I return?"], "answer": {"en": "Free."}}


def bot(**extra: object) -> dict:
    return {**examples.load("shop_assistant"), **extra}


def writes(cast: Cast) -> list[tuple[str, str, object]]:
    """Every state-changing request of the settings API, with a body that would succeed."""
    alice = cast.users["alice"].id
    return [
        ("PATCH", f"/users/{alice}", {"name": "Alicia"}),
        ("POST", "/bots", bot()),
        ("PUT", "/bots/some-bot", bot()),
        ("DELETE", "/bots/some-bot", None),
        ("POST", "/knowledge", ARTICLE),
        ("DELETE", "/knowledge/some-article", None),
    ]


READS = ("/bots", "/bots/some-bot", "/bot-examples", "/bot-examples/shop_assistant", "/knowledge")


def error_of(answer) -> dict:
    return answer.json()["error"]


# ---- pages ---------------------------------------------------------------------------------


async def test_signed_out_the_pages_send_to_the_login(cast: Cast, browser) -> None:
    anonymous = await browser()
    for path in ("/app/admin", *PAGES):
        answer = await anonymous.http.get(path)
        assert answer.status_code == 303 and answer.headers["location"] == "/app/login", path


async def test_an_agent_gets_the_403_page_everywhere(cast: Cast, browser) -> None:
    alice = await browser("alice")
    for path in PAGES:
        answer = await alice.http.get(path)
        assert answer.status_code == 403, path
        assert "Only an admin can open this page." in answer.text
        assert "script-src 'self'" in answer.headers["content-security-policy"]


async def test_a_marketer_reads_the_bots_page_only(cast: Cast, browser) -> None:
    mary = await browser("mary")
    assert (await mary.http.get("/app/admin/users")).status_code == 403
    assert (await mary.http.get("/app/admin/teams")).status_code == 403
    page = await mary.http.get("/app/admin/bots")
    assert page.status_code == 200
    assert "Only an admin can change bots" in page.text and 'id="new-bot"' not in page.text
    landing = await mary.http.get("/app/admin")
    assert landing.headers["location"] == "/app/admin/bots"


async def test_an_admin_opens_every_page_in_either_language(cast: Cast, browser) -> None:
    admin = await browser("admin")
    assert (await admin.http.get("/app/admin")).headers["location"] == "/app/admin/users"
    for path in PAGES:
        english = await admin.http.get(path)
        assert english.status_code == 200 and 'aria-current="page"' in english.text
        assert_one_element_per_id_and_a_plain_title(english.text)
        chinese = await admin.http.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
        assert 'lang="zh-Hans"' in chinese.text and ">收件箱</a>" in chinese.text
    assert (await admin.http.get("/app/admin/nope")).status_code == 404


async def test_only_admins_see_the_settings_link_in_the_inbox(cast: Cast, browser) -> None:
    admin, alice = await browser("admin"), await browser("alice")
    assert 'href="/app/admin"' in (await admin.http.get("/app")).text
    assert 'href="/app/admin"' not in (await alice.http.get("/app")).text


async def test_names_on_the_pages_are_escaped(cast: Cast, browser, core: Core) -> None:
    await core.store.users.update_one(
        {"_id": cast.users["admin"].id}, {"$set": {"name": "<script>alert(1)</script>"}}
    )
    page = await (await browser("admin")).http.get("/app/admin/users")
    assert "<script>alert(1)" not in page.text and "&lt;script&gt;alert(1)" in page.text


def assert_one_element_per_id_and_a_plain_title(html: str) -> None:
    """Regression: the users page once had its reset dialog twice, one copy in <title>."""
    twice = [i for i, n in Counter(re.findall(r' id="([^"]+)"', html)).items() if n > 1]
    assert twice == []
    title = re.search(r"<title>(.*?)</title>", html, re.S)
    assert title is not None and "<" not in title.group(1) and title.group(1).endswith(" · Kith")


def test_both_languages_have_the_same_keys() -> None:
    """Each page family's files too (`contacts.en.json` beside `contacts.zh.json`)."""
    for english_file in I18N.glob("*en.json"):
        chinese_file = english_file.with_name(english_file.name.replace("en.json", "zh.json"))
        english = json.loads(english_file.read_text("utf-8"))
        chinese = json.loads(chinese_file.read_text("utf-8"))
        assert set(english) == set(chinese), english_file.name


# ---- who may call the JSON -----------------------------------------------------------------


async def test_signed_out_every_call_is_401(cast: Cast, browser) -> None:
    anonymous = await browser()
    for method, path, body in [*writes(cast), *(("GET", p, None) for p in READS)]:
        answer = await anonymous.api(method, path, json=body)
        assert answer.status_code == 401, (method, path)
        assert error_of(answer)["code"] == "not_signed_in"


async def test_every_write_needs_the_csrf_token(cast: Cast, browser) -> None:
    admin = await browser("admin")
    for method, path, body in writes(cast):
        answer = await admin.api(method, path, json=body, headers={"X-CSRF-Token": ""})
        assert answer.status_code == 403, (method, path)
        assert error_of(answer)["code"] == "csrf"


@pytest.mark.parametrize("name", ["alice", "mary"])
async def test_agents_and_marketers_cannot_write(cast: Cast, browser, name: str) -> None:
    session = await browser(name)
    for method, path, body in writes(cast):
        answer = await session.api(method, path, json=body)
        assert answer.status_code == 403, (name, method, path, answer.text)
    broken = await session.api("POST", "/bots", json={"flows": "nonsense"})
    assert broken.status_code == 403  # the role is checked before the body


async def test_an_agent_cannot_read_bots_a_marketer_can(cast: Cast, browser, core: Core) -> None:
    admin = await browser("admin")
    bot_id = (await admin.api("POST", "/bots", json=bot())).json()["id"]
    alice, mary = await browser("alice"), await browser("mary")
    for path in (*READS, f"/bots/{bot_id}"):
        assert (await alice.api("GET", path)).status_code == 403, path
    assert (await mary.api("GET", f"/bots/{bot_id}")).status_code == 200
    assert [b["id"] for b in (await mary.api("GET", "/bots")).json()["items"]] == [bot_id]
    assert (await mary.api("GET", "/knowledge")).status_code == 200


# ---- users ---------------------------------------------------------------------------------


async def test_an_admin_changes_name_role_and_teams(cast: Cast, browser, core: Core) -> None:
    admin, alice = await browser("admin"), await browser("alice")
    alice_id, support = cast.users["alice"].id, cast.users["support"].id
    answer = await admin.api(
        "PATCH",
        f"/users/{alice_id}",
        json={"name": "Alicia", "team_ids": [support]},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() | {"id": alice_id} == {
        "id": alice_id,
        "name": "Alicia",
        "email": "alice@kith.test",
        "role": "agent",
        "team_ids": [support],
        "disabled": False,
        "must_change_password": False,
        "can_answer": True,  # an enabled agent: offered as an assignee
    }
    listed = await alice.api("GET", "/conversations", params={"status": "any"})
    assert [c["id"] for c in listed.json()["items"]] == [cast.conversations["help"]]
    await admin.api("PATCH", f"/users/{alice_id}", json={"role": "marketer"})
    reply = await alice.api(
        "POST", f"/conversations/{cast.conversations['help']}/messages", json={"text": "hi"}
    )
    assert reply.status_code == 403  # the new role holds from the next request
    event = await core.store.events.find_one({"type": "user.updated", "data.user_id": alice_id})
    assert event["actor"]["id"] == cast.users["admin"].id


async def test_bad_user_changes_name_the_field(cast: Cast, browser, core: Core) -> None:
    admin = await browser("admin")
    alice = cast.users["alice"].id
    for body, status, field in (
        ({"role": "boss"}, 422, "role"),
        ({"name": ""}, 422, "name"),
        ({"name": "   "}, 422, "name"),
        ({"password_hash": "x"}, 422, "password_hash"),
        ({"team_ids": [cast.users["sales"].id, "nope"]}, 422, "team_ids.1"),
        ({"disabled": "maybe"}, 422, "disabled"),
    ):
        answer = await admin.api("PATCH", f"/users/{alice}", json=body)
        assert answer.status_code == status, (body, answer.text)
        assert error_of(answer)["field"] == field, body
    unknown = await admin.api("PATCH", "/users/nobody", json={"name": "X"})
    assert unknown.status_code == 404 and error_of(unknown)["field"] == "user_id"
    stored = await core.store.users.find_one({"_id": alice})
    assert stored["name"] == "Alice" and stored["team_ids"] == [cast.users["sales"].id]


async def test_a_user_of_another_workspace_is_not_found(cast: Cast, browser, core: Core) -> None:
    from kith.core.auth import create_user

    stranger = await create_user(core, "elsewhere", "eve@other.test", PASSWORD)
    admin = await browser("admin")
    answer = await admin.api("PATCH", f"/users/{stranger.id}", json={"disabled": True})
    assert answer.status_code == 404


async def test_disabling_a_user_ends_their_sessions(cast: Cast, browser, core: Core) -> None:
    admin, alice, again = await browser("admin"), await browser("alice"), await browser("alice")
    alice_id = cast.users["alice"].id
    assert await core.store.sessions.count_documents({"user_id": alice_id}) == 2
    answer = await admin.api("PATCH", f"/users/{alice_id}", json={"disabled": True})
    assert answer.status_code == 200 and answer.json()["disabled"] is True
    assert await core.store.sessions.count_documents({"user_id": alice_id}) == 0
    for session in (alice, again):
        assert (await session.api("GET", "/me")).status_code == 401
    fresh = await browser()
    login = await sign_in(fresh.http, "alice@kith.test")
    assert login.status_code == 401 and "This account is disabled" in login.text

    assert (
        await admin.api("PATCH", f"/users/{alice_id}", json={"disabled": False})
    ).status_code == 200
    assert (await sign_in(fresh.http, "alice@kith.test")).status_code == 303


async def test_an_admin_cannot_disable_or_demote_themselves(cast: Cast, browser) -> None:
    admin = await browser("admin")
    me = cast.users["admin"].id
    for body, field in (({"disabled": True}, "disabled"), ({"role": "agent"}, "role")):
        answer = await admin.api("PATCH", f"/users/{me}", json=body)
        assert answer.status_code == 409, answer.text
        error = error_of(answer)
        assert (error["code"], error["field"], [f["field"] for f in error["fields"]]) == (
            "own_account",
            field,
            [field],
        )
    assert (await admin.api("GET", "/me")).json()["is_admin"] is True
    renamed = await admin.api("PATCH", f"/users/{me}", json={"name": "Boss", "role": "admin"})
    assert renamed.status_code == 200  # keeping the role is no demotion


async def test_another_admin_can_be_demoted_while_one_remains(cast: Cast, browser) -> None:
    admin = await browser("admin")
    created = await admin.api(
        "POST",
        "/users",
        json={"email": "root@kith.test", "password": PASSWORD, "role": "admin"},
    )
    assert created.status_code == 201 and created.json()["disabled"] is False
    root = await browser("root")
    # The admin chose root's password: root chooses their own first.
    own = {"current_password": PASSWORD, "new_password": PASSWORD + "!"}
    assert (await root.api("PUT", "/me/password", json=own)).status_code == 200
    first = cast.users["admin"].id
    assert (await root.api("PATCH", f"/users/{first}", json={"disabled": True})).status_code == 200
    assert (await admin.api("GET", "/me")).status_code == 401


async def test_the_last_admin_is_kept_when_two_admins_race(cast: Cast, core: Core) -> None:
    """Each demotes the other at the same moment: the second change is refused."""
    first = cast.users["admin"]
    second = await core.store.users.find_one({"_id": (await _add_admin(core, cast)).id})
    await do_update_user(core, User.from_doc(second), first.id, role=Role.agent)
    with pytest.raises(Conflict) as refused:
        await do_update_user(core, first, second["_id"], role=Role.agent)  # first's stale view
    assert refused.value.code == "last_admin" and refused.value.field == "role"
    admins = await core.store.users.count_documents({"role": "admin", "disabled": {"$ne": True}})
    assert admins == 1


async def _add_admin(core: Core, cast: Cast) -> User:
    from kith.core.auth import create_user

    return await create_user(
        core, cast.workspace_id, "root@kith.test", PASSWORD, name="Root", role=Role.admin
    )


async def test_creating_a_user_with_an_unknown_team_writes_nothing(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    answer = await admin.api(
        "POST",
        "/users",
        json={"email": "carol@kith.test", "password": PASSWORD, "team_ids": ["nope"]},
    )
    assert answer.status_code == 422 and error_of(answer)["field"] == "team_ids.0"
    assert await core.store.users.find_one({"email": "carol@kith.test"}) is None
    made = await admin.api(
        "POST",
        "/users",
        json={
            "email": "carol@kith.test",
            "password": PASSWORD,
            "name": "Carol",
            "team_ids": [cast.users["sales"].id],
        },
    )
    assert made.status_code == 201 and made.json()["team_ids"] == [cast.users["sales"].id]
    event = await core.store.events.find_one({"type": "user.created"})
    assert event["data"]["user_id"] == made.json()["id"] and "password" not in str(event)


# ---- teams ---------------------------------------------------------------------------------


async def test_an_admin_renames_a_team(cast: Cast, browser) -> None:
    admin = await browser("admin")
    sales = cast.users["sales"].id
    answer = await admin.api("PATCH", f"/teams/{sales}", json={"name": "  Revenue "})
    assert answer.status_code == 200 and answer.json()["name"] == "Revenue"
    blank = await admin.api("PATCH", f"/teams/{sales}", json={"name": " "})
    assert blank.status_code == 422 and error_of(blank)["field"] == "name"
    mary = await browser("mary")
    assert (await mary.api("PATCH", f"/teams/{sales}", json={"name": "X"})).status_code == 403


async def test_a_team_change_with_an_unknown_member_writes_nothing(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    sales, bob = cast.users["sales"].id, cast.users["bob"].id
    change = {"name": "Revenue", "add_member_ids": [bob, "nobody"], "channel_ids": []}
    answer = await admin.api("PATCH", f"/teams/{sales}", json=change)
    assert answer.status_code == 422 and error_of(answer)["field"] == "add_member_ids.1"
    team = await core.store.teams.find_one({"_id": sales})
    assert team["name"] == "Sales" and team["channel_ids"] == [cast.shop.id]
    assert sales not in (await core.store.users.find_one({"_id": bob}))["team_ids"]
    made = await admin.api("POST", "/teams", json={"name": "Night", "member_ids": ["nobody"]})
    assert made.status_code == 422 and error_of(made)["field"] == "member_ids.0"
    assert await core.store.teams.find_one({"name": "Night"}) is None
    ok = await admin.api("PATCH", f"/teams/{sales}", json={"add_member_ids": [bob]})
    assert ok.status_code == 200
    assert sales in (await core.store.users.find_one({"_id": bob}))["team_ids"]


# ---- bots and the knowledge base -----------------------------------------------------------


async def test_an_admin_creates_edits_disables_and_deletes_a_bot(
    cast: Cast, browser, core: Core
) -> None:
    admin = await browser("admin")
    listed = (await admin.api("GET", "/bot-examples")).json()["items"]
    assert listed == [{"id": "shop_assistant", "name": "Shop assistant"}]  # faq.json is articles
    example = (await admin.api("GET", "/bot-examples/shop_assistant")).json()
    created = await admin.api("POST", "/bots", json={**example, "channel_ids": [cast.shop.id]})
    assert created.status_code == 201, created.text
    bot_id = created.json()["id"]
    stored = created.json()
    assert len(stored["webhook_secret"]) >= 40  # the signing key, shown in this answer only
    shown_once = ("id", "workspace_id", "created_at", "webhook_secret")
    definition = {k: v for k, v in stored.items() if k not in shown_once}
    assert "webhook_secret" not in (await admin.api("GET", f"/bots/{bot_id}")).json()
    off = await admin.api("PUT", f"/bots/{bot_id}", json={**definition, "enabled": False})
    assert off.status_code == 200 and off.json()["enabled"] is False
    assert (await admin.api("GET", f"/bots/{bot_id}")).json()["enabled"] is False
    assert await core.store.events.count_documents({"type": "bot.saved"}) == 2
    assert (await admin.api("DELETE", f"/bots/{bot_id}")).json() == {"deleted": True}
    assert (await admin.api("GET", f"/bots/{bot_id}")).status_code == 404
    assert (await admin.api("DELETE", f"/bots/{bot_id}")).status_code == 404
    assert (await admin.api("GET", "/bot-examples/faq")).status_code == 404


async def test_a_broken_bot_is_refused_naming_the_field(cast: Cast, browser, core: Core) -> None:
    admin = await browser("admin")
    unknown_step = bot()
    unknown_step["flows"][1]["steps"][2]["type"] = "dance"
    dangling = bot()
    dangling["flows"][0]["steps"].append({"id": "jump", "type": "goto", "target": "nowhere"})
    for body, field in (
        ({"flows": []}, "name"),
        (bot(flows=[{"id": "x", "trigger": {"kind": "sometimes"}, "steps": [{}]}]), None),
        (unknown_step, "flows.1.steps.2.type"),
        (dangling, "flows.0.steps.1"),
        (bot(channel_ids=["nope"]), "channel_ids.0"),
        (bot(kb_threshold=3), "kb_threshold"),
    ):
        answer = await admin.api("POST", "/bots", json=body)
        assert answer.status_code == 422, answer.text
        assert field is None or error_of(answer)["field"] == field, answer.text
        assert error_of(answer)["field"]
    malformed = await admin.api(
        "POST", "/bots", content=b'{"name": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400 and error_of(malformed)["code"] == "malformed_json"
    assert await core.store.collection("bots").count_documents({}) == 0
    missing = await admin.api("PUT", "/bots/nope", json=bot())
    assert missing.status_code == 404 and error_of(missing)["field"] == "bot_id"


async def test_an_admin_adds_and_removes_faq_articles(cast: Cast, browser) -> None:
    admin = await browser("admin")
    created = await admin.api("POST", "/knowledge", json=ARTICLE)
    assert created.status_code == 201, created.text
    listed = (await admin.api("GET", "/knowledge")).json()["items"]
    assert [a["title"] for a in listed] == ["Returns"]
    empty = await admin.api("POST", "/knowledge", json={**ARTICLE, "answer": {}})
    assert empty.status_code == 422 and error_of(empty)["field"] == "answer"
    no_questions = await admin.api("POST", "/knowledge", json={**ARTICLE, "questions": []})
    assert no_questions.status_code == 422 and error_of(no_questions)["field"] == "questions"
    article = created.json()["id"]
    assert (await admin.api("DELETE", f"/knowledge/{article}")).json() == {"deleted": True}
    assert (await admin.api("GET", "/knowledge")).json()["items"] == []
