"""Channel records read by the outbox, kept for a few seconds: a busy channel's every reply
needs its record, and it changes rarely (a channel disabled now stops sending within
`TTL_SECONDS`)."""

from __future__ import annotations

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

    async def get(self, channel_id: str) -> Channel | None:
        now = time.monotonic()
        entry = self._entries.get(channel_id)
        if entry is not None and now - entry[0] < self.ttl:
            return entry[1]
        doc = await self.core.store.channels.find_one({"_id": channel_id})
        channel = load(self.core, doc) if doc is not None else None
        self._entries[channel_id] = (now, channel)
        return channel
