"""The slow-down that guards the login form, keyed so that nobody can lock another out.

Failures are counted per (account, client address): a guesser at one address is slowed
down more and more, while the account's owner, logging in from elsewhere, is not refused
(a lock per account alone let anyone lock any agent out with five bad passwords). Each
address also has a cap on its failures across all accounts, so one address cannot spray
guesses over many accounts. Counters live in MongoDB, so every process serving the login
form sees the same ones; the address comes from `kith.core.client_address`.
"""

from __future__ import annotations

from datetime import timedelta

from kith.core.clock import aware, utcnow, wall
from kith.core.context import Core
from kith.core.errors import KithError

FREE_FAILURES = 5  # failures of one account from one address before its lock starts
FREE_FAILURES_PER_ADDRESS = 20  # over all accounts: an office behind one NAT shares it
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


def throttle_keys(email: str, address: str | None) -> tuple[str, str]:
    """The (account, address) key and the address key a login attempt counts against."""
    where = address or "unknown"
    return f"pair:{email.strip().lower()}|{where}", f"ip:{where}"


async def check(core: Core, keys: tuple[str, str]) -> None:
    """Raise `TooManyAttempts` while any of `keys` is locked."""
    now = wall(core.clock).now()
    async for doc in core.store.login_failures.find({"_id": {"$in": list(keys)}}):
        locked = doc.get("locked_until")
        if locked is not None and aware(locked) > now:
            raise TooManyAttempts((aware(locked) - now).total_seconds())


async def count_failure(core: Core, keys: tuple[str, str]) -> None:
    """One more failure per key; past its free failures, a lock that doubles each time."""
    now = wall(core.clock).now()
    for key in keys:
        free = FREE_FAILURES if key.startswith("pair:") else FREE_FAILURES_PER_ADDRESS
        doc = await core.store.login_failures.find_one({"_id": key})
        fresh = doc is None or aware(doc["last_at"]) < now - FAILURE_WINDOW
        count = 1 if doc is None or fresh else int(doc["count"]) + 1
        update: dict[str, object] = {
            "count": count,
            "last_at": now,
            "locked_until": None,
            "purge_at": utcnow() + FAILURE_WINDOW + LONGEST_LOCK + PURGE_MARGIN,
        }
        if count >= free:
            update["locked_until"] = now + min(FIRST_LOCK * 2 ** (count - free), LONGEST_LOCK)
        await core.store.login_failures.update_one({"_id": key}, {"$set": update}, upsert=True)


async def clear(core: Core, keys: tuple[str, str]) -> None:
    """A success forgets the (account, address) failures; the address's own count stays."""
    await core.store.login_failures.delete_one({"_id": keys[0]})
