"""Signing in to the inbox: sessions, cookies, CSRF, lock-out and expiry."""

from __future__ import annotations

import logging
from datetime import UTC, timedelta

import pytest

from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from kith.core.login_throttle import (
    FAILURE_WINDOW,
    FREE_FAILURES,
    FREE_FAILURES_PER_ADDRESS,
    KNOWN_FOR,
)
from kith.core.sessions import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT
from tests.web.conftest import PASSWORD, Cast, sign_in


async def test_login_sets_a_locked_down_session_cookie(cast: Cast, browser) -> None:
    session = await browser()
    answer = await sign_in(session.http, "alice@kith.test")
    assert answer.status_code == 303 and answer.headers["location"] == "/app"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "kith_session=" in c)
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; https gets Secure (next test)
    page = await session.http.get("/app")
    assert page.status_code == 200 and "Alice" in page.text


async def test_the_cookie_is_secure_behind_tls(cast: Cast, app) -> None:
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://kith.test"
    ) as http:
        answer = await sign_in(http, "alice@kith.test")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if "kith_session=" in c)
    assert "Secure" in cookie


async def test_the_login_form_labels_email_and_password(cast: Cast, browser) -> None:
    page = (await (await browser()).http.get("/app/login")).text
    assert '<label for="email">Email</label>' in page
    assert '<label for="password">Password</label>' in page


async def test_wrong_password_and_unknown_user_look_the_same(cast: Cast, browser) -> None:
    session = await browser()
    wrong = await sign_in(session.http, "alice@kith.test", "nope-nope-nope")
    unknown = await sign_in(session.http, "nobody@kith.test", "nope-nope-nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password" in wrong.text and "Wrong email or password" in unknown.text


async def test_login_without_its_csrf_token_is_refused(cast: Cast, browser) -> None:
    session = await browser()
    answer = await session.http.post(
        "/app/login", data={"csrf": "forged", "email": "alice@kith.test", "password": PASSWORD}
    )
    assert answer.status_code == 403


async def test_state_changes_need_the_csrf_token(cast: Cast, browser) -> None:
    alice = await browser("alice")
    conv = cast.conversations["shop"]
    forged = await alice.http.patch(f"/app/api/conversations/{conv}", json={"priority": "high"})
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
    wrong = await alice.api(
        "PATCH", f"/conversations/{conv}", json={"priority": "high"}, headers={"X-CSRF-Token": "x"}
    )
    assert wrong.status_code == 403
    ok = await alice.api("PATCH", f"/conversations/{conv}", json={"priority": "high"})
    assert ok.status_code == 200 and ok.json()["priority"] == "high"


async def test_repeated_failures_lock_the_account_at_that_address_even_for_the_right_password(
    cast: Cast, browser, clock: ManualClock, core: Core
) -> None:
    session = await browser()
    for _ in range(FREE_FAILURES):
        await sign_in(session.http, "alice@kith.test", "guess-guess-guess")
    locked = await sign_in(session.http, "alice@kith.test", PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
    assert await core.store.login_failures.count_documents({}) >= 1  # shared by processes
    clock.advance(int(locked.headers["retry-after"]) + 1)
    assert (await sign_in(session.http, "alice@kith.test", PASSWORD)).status_code == 303


async def test_the_lock_grows_with_further_failures(cast: Cast, browser, clock: ManualClock):
    session = await browser()
    waits = []
    for _ in range(3):
        for _ in range(FREE_FAILURES if not waits else 1):
            answer = await sign_in(session.http, "bob@kith.test", "guess-guess-guess")
        locked = await sign_in(session.http, "bob@kith.test", PASSWORD)
        waits.append(int(locked.headers["retry-after"]))
        clock.advance(waits[-1] + 1)
    assert answer.status_code in (401, 429)
    assert waits[0] < waits[1] < waits[2]


async def test_logout_ends_the_session_on_the_server(cast: Cast, browser) -> None:
    alice = await browser("alice")
    cookie = alice.http.cookies.get("kith_session")
    out = await alice.http.post("/app/logout", data={"csrf": alice.csrf})
    assert out.status_code == 303
    replay = await (await browser()).http.get(
        "/app/api/me", headers={"Cookie": f"kith_session={cookie}"}
    )
    assert replay.status_code == 401


async def test_logout_without_csrf_is_refused(cast: Cast, browser) -> None:
    alice = await browser("alice")
    assert (await alice.http.post("/app/logout", data={"csrf": "forged"})).status_code == 403
    assert (await alice.api("GET", "/me")).status_code == 200


async def test_sessions_expire_when_idle(cast: Cast, browser, clock: ManualClock) -> None:
    alice = await browser("alice")
    clock.advance(IDLE_TIMEOUT.total_seconds() - 60)
    assert (await alice.api("GET", "/me")).status_code == 200  # activity slides the expiry
    clock.advance(IDLE_TIMEOUT.total_seconds() - 60)
    assert (await alice.api("GET", "/me")).status_code == 200
    clock.advance(IDLE_TIMEOUT.total_seconds() + 1)
    assert (await alice.api("GET", "/me")).status_code == 401
    page = await alice.http.get("/app")
    assert page.status_code == 303 and page.headers["location"] == "/app/login"


async def test_sessions_expire_after_a_week_however_active(
    cast: Cast, browser, clock: ManualClock
) -> None:
    alice = await browser("alice")
    for _ in range(15):  # 165 hours, never idle for 12
        clock.advance(11 * 3600)
        await alice.api("GET", "/me")
    clock.advance(11 * 3600)
    assert (await alice.api("GET", "/me")).status_code == 401


async def test_passwords_never_reach_the_log(
    cast: Cast, browser, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    session = await browser()
    await sign_in(session.http, "alice@kith.test", "wrong-secret-123")
    await sign_in(session.http, "alice@kith.test", PASSWORD)
    assert "wrong-secret-123" not in caplog.text and PASSWORD not in caplog.text


async def test_the_api_needs_a_session(cast: Cast, browser) -> None:
    anonymous = await browser()
    assert (await anonymous.api("GET", "/conversations")).status_code == 401
    assert (await anonymous.http.get("/app")).headers["location"] == "/app/login"


async def test_one_address_guessing_many_accounts_is_slowed_too(cast: Cast, browser) -> None:
    session = await browser()
    for i in range(FREE_FAILURES_PER_ADDRESS):
        await sign_in(session.http, f"guess-{i}@kith.test", "guess-guess-guess")
    locked = await sign_in(session.http, "alice@kith.test", PASSWORD)
    assert locked.status_code == 429


async def test_stale_sessions_and_counters_are_purged_by_wall_clock_ttl(
    cast: Cast, browser, core: Core, clock: ManualClock
) -> None:
    """Expiry is decided on Kith's clock when read; the TTL monitor, which deletes the
    leftovers, runs on the server's wall clock, so `purge_at` is stamped in wall time."""
    clock.advance(-86400 * 365)  # Kith's clock far from the wall clock: purge_at ignores it
    await browser("alice")
    await sign_in((await browser()).http, "bob@kith.test", "not his password")
    wall = utcnow()
    session = await core.store.sessions.find_one({"user_id": cast.users["alice"].id})
    failure = await core.store.login_failures.find_one({"_id": "pair:bob@kith.test|127.0.0.1"})
    purge_session = session["purge_at"].replace(tzinfo=UTC)
    purge_failure = failure["purge_at"].replace(tzinfo=UTC)
    assert wall + ABSOLUTE_TIMEOUT < purge_session < wall + timedelta(days=8)
    assert wall + FAILURE_WINDOW < purge_failure < wall + timedelta(hours=3)
    known = await core.store.login_addresses.find_one({"_id": "alice@kith.test|127.0.0.1"})
    purge_known = known["purge_at"].replace(tzinfo=UTC)
    assert wall + KNOWN_FOR < purge_known < wall + KNOWN_FOR + timedelta(hours=2)
    for name in ("sessions", "login_failures", "login_addresses"):
        indexes = await core.store.collection(name).index_information()
        ttl = [i for i in indexes.values() if i.get("expireAfterSeconds") == 0]
        assert [i["key"] for i in ttl] == [[("purge_at", 1)]]
