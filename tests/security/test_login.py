"""Login cannot be used to lock agents out, nor to stall the server.

Lock-outs are timed on Kith's injected `ManualClock` (moved by the tests, no sleeping).
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import Awaitable
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI

from kith.core import login_throttle
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.login_throttle import (
    FAILURE_WINDOW,
    FREE_FAILURES,
    FREE_FAILURES_PER_ACCOUNT,
    FREE_FAILURES_PER_ADDRESS,
    KNOWN_FOR,
    TooManyAttempts,
)
from tests.web.conftest import PASSWORD, Cast, sign_in

WRONG = "guess-guess-guess"
_ports = itertools.count(50000)


def from_address(app: FastAPI, address: str, forwarded_for: str | None = None) -> httpx.AsyncClient:
    """A browser whose connection comes from `address` (optionally through a proxy header)."""
    transport = httpx.ASGITransport(app=app, client=(address, next(_ports)))
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return httpx.AsyncClient(transport=transport, base_url="http://kith.test", headers=headers)


async def test_a_guesser_cannot_lock_the_owner_out_from_elsewhere(
    cast: Cast, app: FastAPI, clock: ManualClock
) -> None:
    async with (
        from_address(app, "203.0.113.66") as attacker,
        from_address(app, "198.51.100.10") as alice,
    ):
        for _ in range(FREE_FAILURES + 3):
            await sign_in(attacker, "alice@kith.test", WRONG)
        locked = await sign_in(attacker, "alice@kith.test", PASSWORD)
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) > 0
        assert (await sign_in(alice, "alice@kith.test", PASSWORD)).status_code == 303


async def test_the_guessers_lock_grows_and_lapses(cast: Cast, app: FastAPI, clock: ManualClock):
    async with from_address(app, "203.0.113.66") as attacker:
        waits = []
        for _ in range(3):
            for _ in range(FREE_FAILURES if not waits else 1):
                await sign_in(attacker, "bob@kith.test", WRONG)
            locked = await sign_in(attacker, "bob@kith.test", PASSWORD)
            waits.append(int(locked.headers["retry-after"]))
            clock.advance(waits[-1] + 1)
        assert waits[0] < waits[1] < waits[2]
        assert (await sign_in(attacker, "bob@kith.test", PASSWORD)).status_code == 303


async def test_guesses_sent_at_once_are_checked_no_more_than_one_at_a_time(
    cast: Cast, app: FastAPI, clock: ManualClock
) -> None:
    """A burst of guesses in parallel gets no more password checks than the same guesses one
    after another: each attempt is counted before its password is checked."""
    async with from_address(app, "203.0.113.66") as attacker:
        answers = await asyncio.gather(
            *(sign_in(attacker, "alice@kith.test", WRONG) for _ in range(4 * FREE_FAILURES))
        )
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [401] * FREE_FAILURES + [429] * 3 * FREE_FAILURES

        clock.advance(max(int(a.headers["retry-after"]) for a in answers if a.status_code == 429))
        answers = await asyncio.gather(
            *(sign_in(attacker, "alice@kith.test", WRONG) for _ in range(FREE_FAILURES))
        )  # the lock lapsed: one more guess, as one at a time would get
        assert sorted(a.status_code for a in answers) == [401] + [429] * (FREE_FAILURES - 1)


async def test_first_attempts_in_parallel_share_one_counter(core: Core) -> None:
    """Attempts on a key nobody has tried yet all count on one counter, each its own number:
    the free ones are checked, the rest refused."""
    keys = login_throttle.throttle_keys("carol@kith.test", "203.0.113.7")
    outcomes = await asyncio.gather(
        *(login_throttle.begin(core, keys) for _ in range(3 * FREE_FAILURES)),
        return_exceptions=True,
    )
    admitted = [o for o in outcomes if isinstance(o, login_throttle.Attempt)]
    refused = [o for o in outcomes if isinstance(o, TooManyAttempts)]
    assert sorted(a.counts[0] for a in admitted) == list(range(1, FREE_FAILURES + 1))
    assert len(refused) == 2 * FREE_FAILURES


async def test_attempts_that_never_finished_are_forgotten_after_the_window(
    core: Core, clock: ManualClock
) -> None:
    """Attempts counted by a process that died while checking their passwords (no failure,
    no lock) hold the key only until the window passes, however often one tries meanwhile."""
    keys = login_throttle.throttle_keys("dave@kith.test", "203.0.113.8")
    for _ in range(FREE_FAILURES):
        await login_throttle.begin(core, keys)  # and never failed() nor succeeded()
    for _ in range(3):
        with pytest.raises(TooManyAttempts):
            await login_throttle.begin(core, keys)
        clock.advance(FAILURE_WINDOW.total_seconds() / 3)
    clock.advance(1)
    await login_throttle.begin(core, keys)


async def test_one_address_spraying_many_accounts_is_stopped(cast: Cast, app: FastAPI) -> None:
    async with (
        from_address(app, "203.0.113.66") as sprayer,
        from_address(app, "198.51.100.10") as bob,
    ):
        for n in range(FREE_FAILURES_PER_ADDRESS):
            await sign_in(sprayer, f"user-{n}@kith.test", WRONG)
        assert (await sign_in(sprayer, "alice@kith.test", PASSWORD)).status_code == 429
        assert (await sign_in(bob, "bob@kith.test", PASSWORD)).status_code == 303


async def test_guessers_spread_over_many_addresses_are_slowed_but_not_the_owner_at_home(
    cast: Cast, app: FastAPI, clock: ManualClock
) -> None:
    """One guess from each of many addresses: past the account's free failures, addresses it
    has not logged in from wait; the owner, at the address they logged in from, does not."""
    async with from_address(app, "198.51.100.10") as home:
        assert (await sign_in(home, "alice@kith.test", PASSWORD)).status_code == 303
    guesses = []
    for n in range(FREE_FAILURES_PER_ACCOUNT + 1):
        async with from_address(app, f"203.0.{n // 250}.{n % 250 + 1}") as guesser:
            guesses.append((await sign_in(guesser, "alice@kith.test", WRONG)).status_code)
    assert guesses == [401] * FREE_FAILURES_PER_ACCOUNT + [429]
    async with from_address(app, "192.0.2.77") as elsewhere:
        refused = await sign_in(elsewhere, "alice@kith.test", PASSWORD)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    async with from_address(app, "198.51.100.10") as home:
        assert (await sign_in(home, "alice@kith.test", PASSWORD)).status_code == 303
    async with from_address(app, "198.51.100.10") as home:
        assert (await sign_in(home, "bob@kith.test", PASSWORD)).status_code == 303  # not Bob's
    clock.advance(int(refused.headers["retry-after"]) + 1)
    async with from_address(app, "192.0.2.77") as elsewhere:
        assert (await sign_in(elsewhere, "alice@kith.test", PASSWORD)).status_code == 303


async def test_an_address_is_the_accounts_for_a_while_after_a_login(
    core: Core, clock: ManualClock
) -> None:
    """Within `KNOWN_FOR` of a login an address skips the account's key; after, it counts."""
    assert await login_throttle.keys_for(core, "Erin@kith.test", "203.0.113.9") == (
        "pair:erin@kith.test|203.0.113.9",
        "ip:203.0.113.9",
        "account:erin@kith.test",
    )
    keys = await login_throttle.keys_for(core, "erin@kith.test", "203.0.113.9")
    await login_throttle.succeeded(core, await login_throttle.begin(core, keys))
    known = await login_throttle.keys_for(core, "erin@kith.test", "203.0.113.9")
    assert known == keys[:2]
    assert len(await login_throttle.keys_for(core, "erin@kith.test", "203.0.113.10")) == 3
    clock.advance(KNOWN_FOR.total_seconds() + 1)
    assert await login_throttle.keys_for(core, "erin@kith.test", "203.0.113.9") == keys


async def test_behind_a_trusted_proxy_users_do_not_share_its_address(
    cast: Cast, app: FastAPI, core: Core
) -> None:
    core.settings.trusted_proxies = "10.1.0.0/16"
    proxy = "10.1.2.3"
    async with (
        from_address(app, proxy, "203.0.113.66") as attacker,
        from_address(app, proxy, "198.51.100.10, 10.1.9.9") as alice,  # two proxies in a row
    ):
        for _ in range(FREE_FAILURES_PER_ADDRESS + 1):
            await sign_in(attacker, "alice@kith.test", WRONG)
        assert (await sign_in(attacker, "alice@kith.test", PASSWORD)).status_code == 429
        assert (await sign_in(alice, "alice@kith.test", PASSWORD)).status_code == 303


async def test_an_untrusted_peer_cannot_choose_its_address(cast: Cast, app: FastAPI) -> None:
    """Without KITH_TRUSTED_PROXIES, X-Forwarded-For is ignored: a new made-up address per
    attempt does not escape the lock."""
    for n in range(FREE_FAILURES):
        async with from_address(app, "203.0.113.66", f"192.0.2.{n}") as attempt:
            await sign_in(attempt, "alice@kith.test", WRONG)
    async with from_address(app, "203.0.113.66", "192.0.2.200") as attempt:
        assert (await sign_in(attempt, "alice@kith.test", PASSWORD)).status_code == 429


class GatedHasher(PasswordHasher):
    """argon2 that works only once the test opens the gate, which the test can do only if
    the event loop is free meanwhile (the hash or check runs in a thread)."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.entered, self.gate = threading.Event(), threading.Event()

    def _wait(self) -> None:
        self.entered.set()
        assert self.gate.wait(10), "argon2 ran on the event loop: nothing else ran meanwhile"

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self._wait()
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self._wait()
        return super().verify(hash, password)


def gate_argon2(monkeypatch: pytest.MonkeyPatch) -> GatedHasher:
    """From now on, every argon2 call waits for the test (sign in before calling this)."""
    hasher = GatedHasher()
    monkeypatch.setattr("kith.core.auth._hasher", hasher)
    return hasher


async def served_while_argon2_runs(
    app: FastAPI, hasher: GatedHasher, request: Awaitable[httpx.Response]
) -> httpx.Response:
    """`request`'s answer, after another request was answered while its argon2 call ran."""
    pending = asyncio.ensure_future(request)
    async with from_address(app, "192.0.2.1") as other:
        assert await asyncio.to_thread(hasher.entered.wait, 10)  # the loop ran meanwhile
        assert (await other.get("/healthz")).status_code == 200
    hasher.gate.set()
    return await pending


async def test_password_checks_do_not_stall_other_requests(
    cast: Cast, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    gated_hasher = gate_argon2(monkeypatch)
    async with from_address(app, "198.51.100.10") as alice:
        form = await alice.get("/app/login")
        csrf = form.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        data = {"csrf": csrf, "email": "x@kith.test", "password": WRONG}
        login = await served_while_argon2_runs(
            app, gated_hasher, alice.post("/app/login", data=data)
        )
        assert login.status_code == 401


async def test_creating_a_user_does_not_stall_other_requests(
    cast: Cast, app: FastAPI, browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new password is hashed off the event loop, as a login's is checked."""
    admin = await browser("admin")
    gated_hasher = gate_argon2(monkeypatch)
    body = {"email": "new@kith.test", "password": WRONG}
    made = await served_while_argon2_runs(app, gated_hasher, admin.api("POST", "/users", json=body))
    assert made.status_code == 201
