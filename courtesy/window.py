"""Room for marketing messages in the outbox, per channel: shared by broadcasts and sequences.

The outbox delivers oldest-due first, so a campaign that queued 20,000 messages at once would
put every service reply behind them, and a backlog of overdue sequence steps after downtime
would go out as one burst. Marketing senders keep at most `size` marketing messages pending
per channel and take a place before each send, so service replies wait behind that window at
most and a backlog drains at the pace the channel delivers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from kith.core.context import Core
from kith.core.models import DeliveryStatus, Purpose


class Window:
    """Room per channel for marketing messages in the outbox, read once per pass."""

    def __init__(self, core: Core, size: int) -> None:
        self.core = core
        self.size = size
        self._room: dict[str, int] = {}
        self._lock = asyncio.Lock()

    async def room(self, channel_ids: Sequence[str]) -> int:
        total = 0
        for channel_id in channel_ids:
            total += await self._read(channel_id)
        return total

    async def _read(self, channel_id: str) -> int:
        async with self._lock:
            if channel_id not in self._room:
                pending = await self.core.store.messages.count_documents(
                    {
                        "channel_id": channel_id,
                        "purpose": Purpose.marketing.value,
                        "delivery.status": DeliveryStatus.pending.value,
                    }
                )
                self._room[channel_id] = max(self.size - pending, 0)
            return self._room[channel_id]

    async def take(self, channel_id: str) -> bool:
        await self._read(channel_id)
        if self._room[channel_id] <= 0:
            return False
        self._room[channel_id] -= 1
        return True
