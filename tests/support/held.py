"""A page's writes to one API path, held in the browser's network layer until the test lets them
go: the first press's request is surely still in flight when the second press comes, however
fast the server answers (no sleeping, no race)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse


class Held:
    """Requests (POSTs unless told) to `/app/api{path}` wait in the browser until `release()`;
    `sent` counts them."""

    def __init__(self, path: str, method: str = "POST") -> None:
        self.path = "/app/api" + path
        self.method = method
        self.sent = 0
        self._arrived = asyncio.Event()
        self._released = asyncio.Event()

    async def install(self, page: Any) -> None:
        await page.route(lambda url: urlparse(url).path == self.path, self._handle)

    async def _handle(self, route: Any) -> None:
        if route.request.method != self.method:
            await route.continue_()
            return
        self.sent += 1
        self._arrived.set()
        await self._released.wait()
        await route.continue_()

    async def first(self) -> None:
        """Until the first request is held (the page has sent it, the server has not seen it)."""
        await asyncio.wait_for(self._arrived.wait(), 15)

    def release(self) -> None:
        self._released.set()


class HeldFirst(Held):
    """Only the first such request waits until `release()`; later ones go straight on, so the
    page's first answer surely lands after the answers it asked for later."""

    async def _handle(self, route: Any) -> None:
        if route.request.method == self.method and self.sent:
            await route.continue_()
            return
        await super()._handle(route)
