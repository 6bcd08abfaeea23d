"""The slow-down that guards the login form, keyed so that nobody can lock another out.

Failures are counted per (account, client address): a guesser at one address is slowed
down more and more, while the account's owner, logging in from elsewhere, is not refused
(a lock per account alone let anyone lock any agent out with five bad passwords). Each
address also has a cap on its failures across all accounts, so one address cannot spray
guesses over many accounts; and each account a larger cap on its failures from addresses it
has not logged in from lately, so guessers spread over many addresses are slowed down too,
while its owner, at an address they logged in from, is not. Counters live in MongoDB, so
every process serving the login form sees the same ones; the address comes from
`kith.core.client_address`.

An attempt is counted before its password is checked (one atomic increment per key), so
guesses sent in parallel get no more checks than the same guesses one after another: past
the free ones, only the first attempt after a lock lapses is checked, and a success gives
its count back.

A lock names its end (`TooManyAttempts.retry_after`, the page's "try again in N minutes");
an admin can lift an account's locks at once (`unlock`, Settings → Users), which forgets its
failures at every address (the address caps stay: they are about the address, not the
account). A right password never skips a lock: past the free failures, nobody can tell the
owner from a guesser who found the password at the same address.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kith.core.clock import aware, utcnow, wall
from kith.core.context import Core
from kith.core.counters import increment
from kith.core.errors import KithError

FREE_FAILURES = 5  # failures of one account from one address before its lock starts
FREE_FAILURES_PER_ADDRESS = 20  # over all accounts: an office behind one NAT shares it
FREE_FAILURES_PER_ACCOUNT = 30  # from all the addresses the account has not logged in from
KNOWN_FOR = timedelta(days=30)  # an address is the account's for this long after a login
FAILURE_WINDOW = timedelta(minutes=15)
FIRST_LOCK = timedelta(seconds=30)
LONGEST_LOCK = timedelta(minutes=30)
PURGE_MARGIN = timedelta(hours=1)  # TTL indexes delete a while after expiry, never before


class TooManyAttempts(KithError):
    """Login refused without checking the password, until `retry_after` seconds pass."""

    code = "too_many_attempts"
    status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many failed logins; try again later")
        self.retry_after = retry_after


def minutes_to_wait(retry_after: float) -> int:
    """Whole minutes, rounded up (at least one), for the sign-in page to name."""
    return max(1, math.ceil(retry_after / 60))


def _account(email: str) -> str:
    return email.strip().lower()


def _account_keys(email: str) -> dict[str, Any]:
    """A query for the keys of `email` (each address's, and the account's own), by range on
    `_id` (no regex: an address may hold any character but `|`)."""
    pairs = {"_id": {"$gte": f"pair:{email}|", "$lt": f"pair:{email}}}"}}  # '}' follows '|'
    return {"$or": [pairs, {"_id": f"account:{email}"}]}


async def locked_until(core: Core, emails: list[str]) -> dict[str, datetime]:
    """When each locked account among `emails` may sign in again (at the address, or from
    addresses it has not used, its latest lock); an account that is not locked is left out."""
    now = wall(core.clock).now()
    wanted = {_account(e) for e in emails}
    found: dict[str, datetime] = {}
    async for doc in core.store.login_failures.find({"locked_until": {"$gt": now}}):
        kind, _, rest = str(doc["_id"]).partition(":")
        email = {"pair": rest.rpartition("|")[0], "account": rest}.get(kind)
        until = aware(doc["locked_until"])
        if email is not None and email in wanted and (email not in found or until > found[email]):
            found[email] = until
    return found


async def unlock(core: Core, email: str) -> int:
    """Forget the account's failures and locks at every address (an admin vouched for the
    owner); answers how many locks were still running."""
    query = _account_keys(_account(email))
    now = wall(core.clock).now()
    running = await core.store.login_failures.count_documents(
        {**query, "locked_until": {"$gt": now}}
    )
    await core.store.login_failures.delete_many(query)
    return int(running)


def throttle_keys(email: str, address: str | None) -> tuple[str, str]:
    """The (account, address) key and the address key a login attempt counts against."""
    where = address or "unknown"
    return f"pair:{email.strip().lower()}|{where}", f"ip:{where}"


async def keys_for(core: Core, email: str, address: str | None) -> tuple[str, ...]:
    """The keys an attempt counts against: `throttle_keys`, and the account's key unless the
    account logged in from this address within `KNOWN_FOR`."""
    keys = throttle_keys(email, address)
    known = await core.store.login_addresses.find_one({"_id": _known_id(keys)})
    if known is not None and aware(known["until"]) > wall(core.clock).now():
        return keys
    return (*keys, f"account:{email.strip().lower()}")


def free_failures(key: str) -> int:
    if key.startswith("pair:"):
        return FREE_FAILURES
    return FREE_FAILURES_PER_ADDRESS if key.startswith("ip:") else FREE_FAILURES_PER_ACCOUNT


@dataclass(frozen=True)
class Attempt:
    """A login attempt counted against its keys: `counts[i]` is `keys[i]`'s count with it."""

    keys: tuple[str, ...]
    counts: tuple[int, ...]


async def begin(core: Core, keys: tuple[str, ...]) -> Attempt:
    """Count an attempt against each key, or raise `TooManyAttempts` (counting nothing) if
    any key is locked or already has as many attempts under way as it may."""
    now = wall(core.clock).now()
    await _refuse_if_locked(core, keys, now)
    counts: list[int] = []
    for key in keys:
        doc = await _count(core, key, now)
        counts.append(int(doc["count"]))
        refusal = _refusal(doc, free_failures(key), now)
        if refusal is not None:
            await _uncount(core, keys[: len(counts)])
            raise TooManyAttempts(refusal)
    return Attempt(keys, tuple(counts))


async def failed(core: Core, attempt: Attempt) -> None:
    """The password was wrong: past a key's free failures, a lock that doubles each time."""
    now = wall(core.clock).now()
    for key, count in zip(attempt.keys, attempt.counts, strict=True):
        update: dict[str, object] = {"last_at": now}
        free = free_failures(key)
        if count >= free:
            lock = min(FIRST_LOCK * 2 ** (count - free), LONGEST_LOCK)
            update.update(locked_until=now + lock, locked_count=count)
        await core.store.login_failures.update_one({"_id": key}, {"$set": update})


async def succeeded(core: Core, attempt: Attempt) -> None:
    """A success forgets the (account, address) failures, gives the address (an office
    behind one address logs in all day) and the account their counts back, and makes the
    address the account's for `KNOWN_FOR`."""
    pair, *others = attempt.keys
    await core.store.login_failures.delete_one({"_id": pair})
    await _uncount(core, tuple(others))
    until = wall(core.clock).now() + KNOWN_FOR
    await core.store.login_addresses.update_one(
        {"_id": _known_id(attempt.keys)},
        {"$set": {"until": until, "purge_at": utcnow() + KNOWN_FOR + PURGE_MARGIN}},
        upsert=True,
    )


def _known_id(keys: tuple[str, ...]) -> str:
    return keys[0].removeprefix("pair:")


async def _refuse_if_locked(core: Core, keys: tuple[str, ...], now: datetime) -> None:
    async for doc in core.store.login_failures.find({"_id": {"$in": list(keys)}}):
        locked = doc.get("locked_until")
        if locked is not None and aware(locked) > now:
            raise TooManyAttempts((aware(locked) - now).total_seconds())


async def _count(core: Core, key: str, now: datetime) -> dict[str, Any]:
    """One more attempt on `key`, atomically (parallel first attempts each get their own
    number); a count whose last failure is older than the window starts again (a refused
    attempt does not move it: a count left behind by an attempt that never finished is
    forgotten in time however often one tries)."""
    await core.store.login_failures.update_one(
        {"_id": key, "last_at": {"$lt": now - FAILURE_WINDOW}},
        {"$set": {"count": 0, "locked_until": None, "locked_count": 0}},
    )
    return await increment(
        core.store.login_failures,
        key,
        "count",
        also_set={"purge_at": utcnow() + FAILURE_WINDOW + LONGEST_LOCK + PURGE_MARGIN},
        on_insert={"last_at": now},
    )


def _refusal(doc: dict[str, Any], free: int, now: datetime) -> float | None:
    """Seconds to wait if this attempt may not be checked, else None: within the free
    failures, or the first attempt after a lock lapsed."""
    locked = doc.get("locked_until")
    if locked is not None and aware(locked) > now:
        return (aware(locked) - now).total_seconds()
    count = int(doc["count"])
    if count <= free or (locked is not None and count == int(doc.get("locked_count", 0)) + 1):
        return None
    return FIRST_LOCK.total_seconds()  # earlier attempts are still being checked


async def _uncount(core: Core, keys: tuple[str, ...]) -> None:
    for key in keys:
        await core.store.login_failures.update_one({"_id": key}, {"$inc": {"count": -1}})
