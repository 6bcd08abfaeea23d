"""Accounts: API tokens (list, revoke, expiry, read-only scope, last use kept to the minute),
channel token rotation, and passwords (a change or a reset ends the user's other sessions)."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.sessions import WRONG_PASSWORDS_PER_SESSION
from tests.api.conftest import ApiSetup
from tests.conftest import REAL_URI
from tests.web.conftest import PASSWORD, Browser, Cast, sign_in

KITH = Path(sys.executable).with_name("kith")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def new_token(api: ApiSetup, **body: object) -> dict[str, object]:
    made = await api.http.post("/api/v1/tokens", json={"name": "ci", **body}, headers=api.auth)
    assert made.status_code == 201, made.text
    return dict(made.json())


async def listed(api: ApiSetup) -> dict[str, dict[str, object]]:
    answer = await api.http.get("/api/v1/tokens", headers=api.auth)
    assert answer.status_code == 200, answer.text
    return {t["name"]: t for t in answer.json()["items"]}


# ---- API tokens ----------------------------------------------------------------------------


async def test_tokens_are_listed_with_their_dates_and_never_their_secret(api: ApiSetup) -> None:
    made = await new_token(api, name="reporting", scope="read", expires_in_days=30)
    assert str(made["token"]).startswith("kith_")
    found = (await listed(api))["reporting"]
    assert found["scope"] == "read" and found["last_used_at"] is None
    assert found["created_at"] and found["expires_at"]
    assert "token" not in found and "token_hash" not in found
    assert made["token"] not in (await api.http.get("/api/v1/tokens", headers=api.auth)).text


async def test_a_read_only_token_reads_and_every_write_is_refused_naming_the_scope(
    api: ApiSetup,
) -> None:
    token = str((await new_token(api, scope="read"))["token"])
    assert (await api.http.get("/api/v1/customers", headers=bearer(token))).status_code == 200
    assert (await api.http.head("/api/v1/channels", headers=bearer(token))).status_code != 403
    for method, path, body in (
        ("POST", "/api/v1/channels", {"type": "api", "name": "x", "config": {}}),
        ("POST", "/api/v1/tokens", {"name": "escalate"}),
        ("DELETE", f"/api/v1/channels/{api.channel_id}", None),
        ("PATCH", f"/api/v1/channels/{api.channel_id}", {"name": "renamed"}),
    ):
        refused = await api.http.request(method, path, json=body, headers=bearer(token))
        assert refused.status_code == 403, (method, path, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "read_only_token" and error["field"] == "scope"
        assert "read" in error["message"]
    channel = await api.http.get(f"/api/v1/channels/{api.channel_id}", headers=api.auth)
    assert channel.json()["name"] == "Website" and channel.json()["enabled"] is True


async def test_last_use_is_recorded_at_most_once_a_minute(
    api: ApiSetup, clock: ManualClock, core: Core
) -> None:
    token = str((await new_token(api, name="poller"))["token"])
    await api.http.get("/api/v1/customers", headers=bearer(token))
    used = (await listed(api))["poller"]["last_used_at"]
    assert used is not None
    clock.advance(30)
    writes_before = await core.store.api_tokens.find_one({"name": "poller"})
    for _ in range(5):
        assert (await api.http.get("/api/v1/customers", headers=bearer(token))).status_code == 200
    assert await core.store.api_tokens.find_one({"name": "poller"}) == writes_before
    assert (await listed(api))["poller"]["last_used_at"] == used
    clock.advance(31)
    await api.http.get("/api/v1/customers", headers=bearer(token))
    later = (await listed(api))["poller"]["last_used_at"]
    assert later is not None and str(later) > str(used)


async def test_an_expired_token_is_refused(api: ApiSetup, clock: ManualClock) -> None:
    token = str((await new_token(api, expires_in_days=1))["token"])
    assert (await api.http.get("/api/v1/customers", headers=bearer(token))).status_code == 200
    clock.advance(24 * 3600)
    expired = await api.http.get("/api/v1/customers", headers=bearer(token))
    assert expired.status_code == 401 and expired.json()["error"]["code"] == "token_expired"


async def test_a_bad_expiry_is_a_4xx_naming_the_field(api: ApiSetup) -> None:
    for days in (0, -3, 99999, "soon"):
        answer = await api.http.post(
            "/api/v1/tokens", json={"name": "x", "expires_in_days": days}, headers=api.auth
        )
        assert answer.status_code == 422 and "expires_in_days" in answer.json()["error"]["field"]


async def test_a_revoked_token_stops_at_once_and_only_its_workspace_may_revoke_it(
    api: ApiSetup, other_api: ApiSetup
) -> None:
    made = await new_token(api, name="leaked")
    token, token_id = str(made["token"]), str(made["id"])
    foreign = await other_api.http.delete(f"/api/v1/tokens/{token_id}", headers=other_api.auth)
    assert foreign.status_code == 404
    assert "leaked" not in await listed(other_api)
    assert (await api.http.get("/api/v1/customers", headers=bearer(token))).status_code == 200
    gone = await api.http.delete(f"/api/v1/tokens/{token_id}", headers=api.auth)
    assert gone.status_code == 200
    assert (await api.http.get("/api/v1/customers", headers=bearer(token))).status_code == 401
    assert "leaked" not in await listed(api)


async def test_a_channel_token_can_be_rotated(api: ApiSetup, other_api: ApiSetup) -> None:
    assert (await api.say("u-1", "before")).status_code == 200
    foreign = await other_api.http.post(
        f"/api/v1/channels/{api.channel_id}/token", headers=other_api.auth
    )
    assert foreign.status_code == 404
    rotated = await api.http.post(f"/api/v1/channels/{api.channel_id}/token", headers=api.auth)
    assert rotated.status_code == 200
    old, api.channel_token = api.channel_token, rotated.json()["token"]
    assert api.channel_token != old
    assert (await api.say("u-1", "after")).status_code == 200
    api.channel_token = old
    assert (await api.say("u-1", "with the old one")).status_code == 401


async def test_an_admin_rotates_a_channel_token_in_the_web_app(
    cast: Cast, browser, core: Core
) -> None:
    admin: Browser = await browser("admin")
    alice: Browser = await browser("alice")
    path = f"/admin/channels/{cast.shop.id}/token"
    assert (await alice.api("POST", path)).status_code == 403
    before = await core.store.channels.find_one({"_id": cast.shop.id})
    rotated = await admin.api("POST", path)
    assert rotated.status_code == 200
    after = await core.store.channels.find_one({"_id": cast.shop.id})
    assert before and after and after["token_hash"] != before["token_hash"]
    said = await admin.http.post(
        f"/webhooks/api/{cast.shop.id}",
        json={"message_id": "rot-1", "user": {"id": "u-9"}, "text": "new token"},
        headers=bearer(rotated.json()["token"]),
    )
    assert said.status_code == 200, said.text
    assert (await admin.api("POST", "/admin/channels/nothing/token")).status_code == 404


# ---- passwords -----------------------------------------------------------------------------


async def test_changing_ones_password_ends_the_other_sessions(cast: Cast, browser) -> None:
    here: Browser = await browser("alice")
    elsewhere: Browser = await browser("alice")
    wrong = await here.api(
        "PUT", "/me/password", json={"current_password": "guess", "new_password": "n3w-secret!"}
    )
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "current_password"
    short = await here.api(
        "PUT", "/me/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 422 and short.json()["error"]["field"] == "new_password"
    assert (await elsewhere.api("GET", "/me")).status_code == 200
    changed = await here.api(
        "PUT", "/me/password", json={"current_password": PASSWORD, "new_password": "n3w-secret!"}
    )
    assert changed.status_code == 200 and changed.json() == {"sessions_ended": 1}
    assert (await here.api("GET", "/me")).status_code == 200
    assert (await elsewhere.api("GET", "/me")).status_code == 401
    fresh: Browser = await browser()
    assert (await sign_in(fresh.http, "alice@kith.test", PASSWORD)).status_code == 401
    assert (await sign_in(fresh.http, "alice@kith.test", "n3w-secret!")).status_code == 303


async def test_guessing_the_current_password_ends_the_session(cast: Cast, browser) -> None:
    """A stolen session cookie is no way to guess the account's password."""
    thief: Browser = await browser("alice")
    answers = [
        await thief.api(
            "PUT", "/me/password", json={"current_password": f"guess-{n}", "new_password": "x" * 9}
        )
        for n in range(WRONG_PASSWORDS_PER_SESSION)
    ]
    assert [a.status_code for a in answers] == [422] * (WRONG_PASSWORDS_PER_SESSION - 1) + [401]
    assert (await thief.api("GET", "/me")).status_code == 401
    fresh: Browser = await browser()
    assert (await sign_in(fresh.http, "alice@kith.test", PASSWORD)).status_code == 303


async def test_changing_the_password_needs_the_csrf_token(cast: Cast, browser) -> None:
    alice: Browser = await browser("alice")
    body = {"current_password": PASSWORD, "new_password": "n3w-secret!"}
    forged = await alice.http.put("/app/api/me/password", json=body)
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"


async def test_an_admin_resets_a_users_password_and_signs_them_out(cast: Cast, browser) -> None:
    admin: Browser = await browser("admin")
    bob: Browser = await browser("bob")
    alice: Browser = await browser("alice")
    bob_id = cast.users["bob"].id
    refused = await alice.api("PUT", f"/users/{bob_id}/password", json={"password": "took-over!"})
    assert refused.status_code == 403
    assert (await bob.api("GET", "/me")).status_code == 200
    reset = await admin.api("PUT", f"/users/{bob_id}/password", json={"password": "reset-by-admin"})
    assert reset.status_code == 200 and reset.json() == {"sessions_ended": 1}
    assert (await bob.api("GET", "/me")).status_code == 401
    assert (await admin.api("GET", "/me")).status_code == 200
    fresh: Browser = await browser()
    assert (await sign_in(fresh.http, "bob@kith.test", "reset-by-admin")).status_code == 303
    unknown = await admin.api("PUT", "/users/nobody/password", json={"password": "whatever-1"})
    assert unknown.status_code == 404


async def test_tokens_in_the_web_app_are_for_admins(cast: Cast, browser) -> None:
    admin: Browser = await browser("admin")
    alice: Browser = await browser("alice")
    assert (await alice.api("GET", "/tokens")).status_code == 403
    assert (await alice.api("POST", "/tokens", json={"name": "mine"})).status_code == 403
    made = await admin.api("POST", "/tokens", json={"name": "zapier", "scope": "read"})
    assert made.status_code == 201 and made.json()["token"].startswith("kith_")
    items = (await admin.api("GET", "/tokens")).json()["items"]
    assert [t["name"] for t in items] == ["zapier"] and "token" not in items[0]
    assert (await alice.api("DELETE", f"/tokens/{made.json()['id']}")).status_code == 403
    assert (await admin.api("DELETE", f"/tokens/{made.json()['id']}")).status_code == 200
    assert (await admin.api("GET", "/tokens")).json()["items"] == []


async def test_ended_sessions_of_another_process_are_gone_too(
    cast: Cast, browser, second_process: Core
) -> None:
    """Sessions live in the database: a password changed on one process signs the user out
    on every other."""
    alice: Browser = await browser("alice")
    other = await browser("alice")
    await alice.api(
        "PUT", "/me/password", json={"current_password": PASSWORD, "new_password": "n3w-secret!"}
    )
    left = await second_process.store.sessions.count_documents({"user_id": cast.users["alice"].id})
    assert left == 1
    assert (await other.api("GET", "/me")).status_code == 401


# ---- the command line ----------------------------------------------------------------------


async def _kith(env: dict[str, str], *args: str) -> str:
    run = await asyncio.create_subprocess_exec(
        str(KITH), *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(run.communicate(), 180)
    assert run.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.realdb
@pytest.mark.timeout(600)  # each command starts Kith on the server (indexes included)
async def test_kith_token_create_list_and_revoke() -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KITH_")},
        "KITH_MONGO_URI": REAL_URI or "",
        "KITH_DB_NAME": f"kith_test_tokens_{uuid.uuid4().hex[:10]}",
        "KITH_SECRET_KEY": "token-cli-test-secret",
        "KITH_NLP_ENABLED": "false",
        "KITH_LOG_LEVEL": "WARNING",
    }
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(REAL_URI)
    try:
        token = (
            await _kith(env, "token", "create", "--name", "nightly export", "--read-only")
        ).strip()
        assert token.startswith("kith_")
        rows = (await _kith(env, "token", "list")).splitlines()
        assert rows[0].split("\t") == ["id", "name", "scope", "created", "last used", "expires"]
        token_id, name, scope, _, last_used, expires = rows[1].split("\t")
        assert (name, scope, last_used, expires) == ("nightly export", "read", "-", "-")
        assert token not in "\n".join(rows)
        assert f"revoked {token_id}" in await _kith(env, "token", "revoke", token_id)
        assert await client[env["KITH_DB_NAME"]].api_tokens.count_documents({}) == 0
    finally:
        await client.drop_database(env["KITH_DB_NAME"])
        await client.close()
