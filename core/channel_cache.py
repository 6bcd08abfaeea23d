"""Channel records read by the outbox, kept for a few seconds: a busy channel's every reply
needs its record, and it changes rarely (a channel disabled now stops sending within
`TTL_SECONDS`). One read per channel at a time: the sends that find the record missing or
expired wait for the same read (before, each of a channel's sends in flight read it)."""

from __future__ import annotations

import asyncio
import time

from kith.core.channel_records import load
from kith.core.context import Core
from kith.core.models import Channel

TTL_SECONDS = 5.0


class ChannelCache:
    def __init__(self, core: Core, ttl: float = TTL_SECONDS) -> None:
        self.core = core
        self.ttl = ttl
        self._entries: dict[str, tuple[float, Channel | None]] = {}
        self._reads: dict[str, asyncio.Future[Channel | None]] = {}

    async def get(self, channel_id: str) -> Channel | None:
        entry = self._entries.get(channel_id)
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return entry[1]
        read = self._reads.get(channel_id)
        if read is None:
            read = self._reads[channel_id] = asyncio.ensure_future(self._read(channel_id))
            read.add_done_callback(lambda _: self._reads.pop(channel_id, None))
        # Shielded: one waiter cancelled (its send's deadline) does not cancel the others'.
        return await asyncio.shield(read)

    async def _read(self, channel_id: str) -> Channel | None:
        started = time.monotonic()
        doc = await self.core.store.channels.find_one({"_id": channel_id})
        channel = load(self.core, doc) if doc is not None else None
        self._entries[channel_id] = (started, channel)
        return channel
