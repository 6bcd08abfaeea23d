"""Pollers: channels that Kith must fetch from (Telegram long polling, IMAP).

Each polled channel is worked by exactly one process at a time: the supervisor in every
`kith serve` tries to take the channel's lease, and the holder renews it between polls.
When the holder dies, its lease expires and another process takes over within one lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from kith.core import leases
from kith.core.channel_records import ChannelConfigInvalid, load
from kith.core.context import Core
from kith.core.models import Channel

log = logging.getLogger(__name__)


class Poller(Protocol):
    """Part of a `ChannelType` whose channels can be polled."""

    def wants_polling(self, channel: Channel) -> bool:
        """Whether this channel is configured for polling (e.g. Telegram mode=polling)."""
        ...

    async def poll_once(self, core: Core, channel: Channel) -> float:
        """Fetch and ingest what is new (may long-poll); returns seconds to wait before the
        next call. Must be safe to run again after a crash: state lives in the database."""
        ...


class PollerSupervisor:
    """Runs in every `kith serve`: claims polled channels and polls those it holds."""

    def __init__(self, core: Core, owner: str | None = None, lease_seconds: float = 60.0) -> None:
        self.core = core
        self.owner = leases.worker_owner(owner)
        self.lease_seconds = lease_seconds
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def polled_channels(self) -> list[tuple[Channel, Poller]]:
        found = []
        for channel_type in self.core.channels:
            poller = getattr(channel_type, "poller", None)
            if poller is None:
                continue
            cursor = self.core.store.channels.find({"type": channel_type.name, "enabled": True})
            for doc in await cursor.to_list(None):
                try:
                    channel = load(self.core, doc)
                except ChannelConfigInvalid as exc:
                    # One broken channel must not stop the others from being polled.
                    log.error(
                        "channel not polled", extra={"channel_id": doc["_id"], "error": exc.message}
                    )
                    continue
                if poller.wants_polling(channel):
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

    async def _work(self, channel: Channel, poller: Poller) -> None:
        name = self.lease_name(channel)
        try:
            while await leases.acquire(self.core, name, self.owner, self.lease_seconds):
                try:
                    wait = await poller.poll_once(self.core, channel)
                except Exception:
                    log.exception("poll failed", extra={"channel_id": channel.id})
                    wait = 5.0
                await asyncio.sleep(wait)
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
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
