"""Pollers: channels that Kith must fetch from (Telegram long polling, IMAP).

Each polled channel is worked by exactly one process at a time: the supervisor in every
`kith serve` tries to take the channel's lease, and the holder renews it between polls.
When the holder dies, its lease expires and another process takes over within one lease.

Each poll's outcome is kept on the channel (`Channel.poll`, a `PollStatus`), so that Settings
→ Channels shows a mailbox that cannot connect whichever process tried: why, since when, or
when it was last checked. The log gets a traceback when a channel starts failing (or fails
for a new reason), then one line per failed poll, and the wait between failed polls grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Iterable
from typing import Any, Protocol

from kith.core import leases
from kith.core.channel_records import ChannelConfigInvalid, load
from kith.core.context import Core
from kith.core.egress import EgressRefused
from kith.core.models import Channel, PollStatus

log = logging.getLogger(__name__)

FIRST_RETRY = 5.0  # seconds after a first failed poll; doubled after each next one
LAST_RETRY = 60.0  # at most one failed poll a minute (a server locks out repeated logins)


class PollFailed(Exception):
    """A poll failed for a reason the poller knows (`reason`, a code such as `auth_failed`,
    and `words`, short English words that hold no secret), raised from the original error."""

    def __init__(self, reason: str, words: str) -> None:
        super().__init__(words)
        self.reason = reason
        self.words = words


def why(exc: BaseException) -> PollFailed:
    """What the admin is told about a failed poll. Only words Kith chose: an exception's own
    message can hold a server's reply or a command with its password."""
    if isinstance(exc, PollFailed):
        return exc
    if isinstance(exc, ChannelConfigInvalid):
        return PollFailed("config_invalid", exc.message)
    if isinstance(exc, EgressRefused):
        return PollFailed("host_not_allowed", "the host is not an allowed destination")
    if isinstance(exc, socket.gaierror):
        return PollFailed("host_not_found", "host not found")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PollFailed("tls_error", "TLS error: the server's certificate is not trusted")
    if isinstance(exc, ssl.SSLError):
        return PollFailed("tls_error", "TLS error")
    if isinstance(exc, ConnectionRefusedError):
        return PollFailed("connection_refused", "the server refused the connection")
    if isinstance(exc, TimeoutError):
        return PollFailed("timeout", "the server did not answer in time")
    if isinstance(exc, OSError):
        return PollFailed("host_unreachable", "host unreachable")
    return PollFailed("error", f"unexpected error ({type(exc).__name__})")


async def record_success(core: Core, channel_id: str) -> PollStatus | None:
    """The channel polled fine: its failure is cleared. Returns the status before."""
    now = core.clock.now()
    status = PollStatus(last_poll_at=now, last_ok_at=now)
    return await _record(core, channel_id, status)


async def record_failure(
    core: Core, channel_id: str, failed: PollFailed
) -> tuple[PollStatus | None, PollStatus]:
    """The channel's poll failed: kept with its reason, since when it fails and how many times
    in a row. Returns the status before and after."""
    before = await _status(core, channel_id)
    now = core.clock.now()
    failing = before is not None and before.failing_since is not None
    after = PollStatus(
        last_poll_at=now,
        last_ok_at=before.last_ok_at if before else None,
        failing_since=before.failing_since if failing and before else now,
        failures=(before.failures if failing and before else 0) + 1,
        reason=failed.reason,
        error=failed.words[:300],
    )
    await _record(core, channel_id, after)
    return before, after


async def _status(core: Core, channel_id: str) -> PollStatus | None:
    doc = await core.store.channels.find_one({"_id": channel_id}, {"poll": 1})
    found = doc.get("poll") if doc else None
    return PollStatus.model_validate(found) if found else None


async def _record(core: Core, channel_id: str, status: PollStatus) -> PollStatus | None:
    doc = await core.store.channels.find_one_and_update(
        {"_id": channel_id}, {"$set": {"poll": status.model_dump()}}, projection={"poll": 1}
    )
    found = doc.get("poll") if doc else None
    return PollStatus.model_validate(found) if found else None


class Poller(Protocol):
    """Part of a `ChannelType` whose channels can be polled."""

    def wants_polling(self, channel: Channel) -> bool:
        """Whether this channel is configured for polling (e.g. Telegram mode=polling)."""
        ...

    async def poll_once(self, core: Core, channel: Channel) -> float:
        """Fetch and ingest what is new (may long-poll); returns seconds to wait before the
        next call. Must be safe to run again after a crash: state lives in the database."""
        ...


async def cancel_all(tasks: Iterable[asyncio.Task[Any]], grace: float = 10.0) -> None:
    """Cancel `tasks` and wait until they have ended. One still running after `grace` seconds
    (its cleanup: IDLE's DONE, the lease's release) is cancelled again every second: on Python
    3.11 `asyncio.wait_for` can swallow a cancellation that lands as its inner await completes
    (gh-86296), and a poll that lost its cancellation polls on (CI saw a shutdown hang so)."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    _, pending = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1.0)
    await asyncio.gather(*tasks, return_exceptions=True)  # their outcomes, read


class PollerSupervisor:
    """Runs in every `kith serve`: claims polled channels and polls those it holds."""

    def __init__(
        self,
        core: Core,
        owner: str | None = None,
        lease_seconds: float = 60.0,
        first_retry: float = FIRST_RETRY,
    ) -> None:
        self.core = core
        self.owner = leases.worker_owner(owner)
        self.lease_seconds = lease_seconds
        self.first_retry = first_retry  # after a first failed poll; doubled up to LAST_RETRY
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def polled_channels(self) -> list[tuple[Channel, Poller]]:
        found = []
        for channel_type in self.core.channels:
            poller = getattr(channel_type, "poller", None)
            if poller is None:
                continue
            cursor = self.core.store.channels.find({"type": channel_type.name, "enabled": True})
            for doc in await cursor.to_list(None):
                # A channel whose config does not parse is claimed too: its polls fail and
                # say why on the channel (Settings → Channels) instead of one log line a round.
                channel = load(self.core, doc, strict=False)
                if self._wanted(channel, poller):
                    found.append((channel, poller))
        return found

    async def claim_round(self) -> list[str]:
        """One pass: start polling every channel whose lease this process can take."""
        started = []
        for channel, poller in await self.polled_channels():
            task = self.tasks.get(channel.id)
            if task is not None and not task.done():
                continue
            if await leases.acquire(
                self.core, self.lease_name(channel), self.owner, self.lease_seconds
            ):
                self.tasks[channel.id] = asyncio.create_task(self._work(channel, poller))
                started.append(channel.id)
        return started

    @staticmethod
    def lease_name(channel: Channel) -> str:
        return f"poll:{channel.id}"

    async def poll(self, channel: Channel, poller: Poller) -> float:
        """One poll of `channel`, its outcome kept on the channel; returns the seconds to
        wait before the next one."""
        try:
            channel.check_settings()
            wait = await poller.poll_once(self.core, channel)
        except Exception as exc:
            return await self._failed(channel, exc)
        before = await record_success(self.core, channel.id)
        if before is not None and before.failing_since is not None:
            log.info("poll works again", extra={"channel_id": channel.id})
        return wait

    async def _failed(self, channel: Channel, exc: Exception) -> float:
        failed = why(exc)
        before, after = await record_failure(self.core, channel.id, failed)
        context = {"channel_id": channel.id, "reason": failed.reason, "failures": after.failures}
        if before is None or before.failing_since is None or before.reason != failed.reason:
            log.exception("poll failed: %s", failed.words, extra=context)  # once, with its cause
        else:
            log.warning("poll still failing: %s", failed.words, extra=context)
        return min(self.first_retry * 2.0 ** min(after.failures - 1, 16), LAST_RETRY)

    async def _current(self, channel_id: str) -> Channel | None:
        """The channel as stored now (an admin may have fixed its password), or None once it
        is disabled or gone: its polling stops."""
        doc = await self.core.store.channels.find_one({"_id": channel_id, "enabled": True})
        return None if doc is None else load(self.core, doc, strict=False)

    @staticmethod
    def _wanted(channel: Channel, poller: Poller) -> bool:
        try:
            return poller.wants_polling(channel)
        except ChannelConfigInvalid:
            return True  # polled, to fail and say so on the channel until it is fixed

    async def _work(self, channel: Channel, poller: Poller) -> None:
        name = self.lease_name(channel)
        try:
            while await leases.acquire(self.core, name, self.owner, self.lease_seconds):
                current = await self._current(channel.id)
                if current is None or not self._wanted(current, poller):
                    break
                await asyncio.sleep(await self.poll(current, poller))
        except Exception:  # the database failed us: the lease goes, a next round polls again
            log.exception("polling stopped", extra={"channel_id": channel.id})
            raise
        finally:
            with contextlib.suppress(Exception):
                await leases.release(self.core, name, self.owner)

    async def run_forever(self, stop: asyncio.Event, every: float = 10.0) -> None:
        while not stop.is_set():
            try:
                await self.claim_round()
            except Exception:
                log.exception("poller supervisor pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=every)
        await self.stop()

    async def stop(self) -> None:
        """End every poll this process runs (each releases its lease as it ends)."""
        await cancel_all(self.tasks.values())
