"""A locked sign-in says how long to wait, and an admin can lift it (qa8 minor 9).

The lock itself is unchanged: a right password from the locked address is still refused,
until the lock lapses or an admin lifts it. Timed on the injected `ManualClock`, no sleeping.
"""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.login_throttle import FREE_FAILURES, FREE_FAILURES_PER_ADDRESS
from tests.security.test_login import WRONG, from_address
from tests.web.conftest import PASSWORD, Cast, sign_in

ATTACKER = "203.0.113.66"


def said(page: httpx.Response) -> str:
    found = re.search(r'<p class="error" role="alert">([^<]*)</p>', page.text)
    assert found, page.text
    return found.group(1)


async def lock_out(http: httpx.AsyncClient, email: str = "alice@kith.test") -> httpx.Response:
    """Five wrong passwords, then the right one: refused all the same."""
    for _ in range(FREE_FAILURES):
        assert (await sign_in(http, email, WRONG)).status_code == 401
    return await sign_in(http, email, PASSWORD)


async def test_the_lock_names_its_wait_in_minutes_in_english_and_chinese(
    cast: Cast, app: FastAPI, clock: ManualClock
) -> None:
    async with from_address(app, ATTACKER) as attacker:
        locked = await lock_out(attacker)
        assert locked.status_code == 429
        assert 0 < int(locked.headers["retry-after"]) <= 60
        assert said(locked) == "Too many failed attempts. Try again in 1 minute."
        attacker.headers["Accept-Language"] = "zh-CN,zh;q=0.9"
        again = await sign_in(attacker, "alice@kith.test", PASSWORD)
        assert again.status_code == 429
        assert said(again) == "失败次数过多，请 1 分钟后再试。"

        waits = []
        while not waits or waits[-1] <= 120:  # each lock doubles: 30 s, 60 s, 120 s, 240 s
            clock.advance(int(again.headers["retry-after"]) + 1)
            assert (await sign_in(attacker, "alice@kith.test", WRONG)).status_code == 401
            again = await sign_in(attacker, "alice@kith.test", PASSWORD)
            assert again.status_code == 429  # the right password never skips the lock
            waits.append(int(again.headers["retry-after"]))
        minutes = -(-waits[-1] // 60)
        assert said(again) == f"失败次数过多，请 {minutes} 分钟后再试。"
        del attacker.headers["Accept-Language"]
        english = await sign_in(attacker, "alice@kith.test", PASSWORD)
        assert said(english) == f"Too many failed attempts. Try again in {minutes} minutes."


async def test_an_admin_sees_the_lock_and_lifts_it(
    cast: Cast, app: FastAPI, browser, core: Core
) -> None:
    alice = cast.users["alice"].id
    admin = await browser("admin")
    assert (await admin.api("GET", "/users/login-locks")).json() == {"items": []}
    async with from_address(app, ATTACKER) as there:
        assert (await lock_out(there)).status_code == 429

        locks = (await admin.api("GET", "/users/login-locks")).json()["items"]
        assert [lock["user_id"] for lock in locks] == [alice]
        assert locks[0]["locked_until"]

        lifted = await admin.api("POST", f"/users/{alice}/unlock")
        assert lifted.status_code == 200 and lifted.json() == {"locks_lifted": 1}
        event = await core.store.events.find_one({"type": "user.login_unlocked"})
        assert event is not None
        assert event["data"] == {"user_id": alice, "locks_lifted": 1}
        assert event["actor"]["id"] == cast.users["admin"].id
        assert (await admin.api("GET", "/users/login-locks")).json() == {"items": []}

        assert (await sign_in(there, "alice@kith.test", PASSWORD)).status_code == 303


async def test_lifting_keeps_the_guessers_full_slow_down_after(cast: Cast, app: FastAPI, browser):
    """An unlock forgets the failures; the next run of guesses is locked exactly as the first."""
    admin = await browser("admin")
    async with from_address(app, ATTACKER) as attacker:
        assert (await lock_out(attacker)).status_code == 429
        await admin.api("POST", f"/users/{cast.users['alice'].id}/unlock")
        assert (await lock_out(attacker)).status_code == 429


async def test_an_unlock_does_not_lift_the_addresss_own_cap(cast: Cast, app: FastAPI, browser):
    """A sprayer's address stays slowed down: its cap is about the address, not the account."""
    admin = await browser("admin")
    async with from_address(app, ATTACKER) as sprayer:
        for n in range(FREE_FAILURES_PER_ADDRESS):
            await sign_in(sprayer, f"user-{n}@kith.test", WRONG)
        assert (await sign_in(sprayer, "alice@kith.test", PASSWORD)).status_code == 429
        await admin.api("POST", f"/users/{cast.users['alice'].id}/unlock")
        assert (await sign_in(sprayer, "alice@kith.test", PASSWORD)).status_code == 429


async def test_only_admins_unlock_and_only_their_workspaces_users(
    cast: Cast, browser, core: Core
) -> None:
    alice = cast.users["alice"].id
    for name in ("alice", "mary"):
        agent = await browser(name)
        refused = await agent.api("POST", f"/users/{alice}/unlock")
        assert refused.status_code == 403
        assert (await agent.api("GET", "/users/login-locks")).status_code == 403
    admin = await browser("admin")
    missing = await admin.api("POST", "/users/nobody/unlock")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "user_id"
    assert await core.store.events.find_one({"type": "user.login_unlocked"}) is None
