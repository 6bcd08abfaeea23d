"""Callback endpoints on a real loopback socket, for what an in-process ASGI fake cannot show:
an answer that trickles in a byte at a time, one too large to read, requests held open.

Each `Endpoint` is a minimal HTTP/1.1 server (keep-alive, Content-Length bodies) that records
the JSON bodies it receives and answers in its `mode`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["ok", "trickle", "hold", "big", "big_undeclared"]
OK = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


@dataclass
class Endpoint:
    """`ok` answers at once; `trickle` sends its answer a byte every `trickle_seconds`;
    `hold` answers when `release` is set; `big` sends `big_bytes` of body (declared, or
    until it closes the connection)."""

    mode: Mode = "ok"
    trickle_seconds: float = 3.0
    big_bytes: int = 1_000_000
    received: list[dict[str, Any]] = field(default_factory=list)
    in_flight: int = 0
    overlaps: int = 0  # requests that came while one of the same conversation was open
    _open: set[str] = field(default_factory=set)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def wait_for(self, requests: int = 0, in_flight: int = 0) -> None:
        """Until at least `requests` arrived and `in_flight` are open at once."""
        while len(self.received) < requests or self.in_flight < in_flight:
            self.changed.clear()
            await self.changed.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while body := await _read_request(reader):
                payload = json.loads(body)
                conversation = payload.get("conversation_id", "")
                self.overlaps += conversation in self._open
                self._open.add(conversation)
                self.received.append(payload)
                self.in_flight += 1
                self.changed.set()
                try:
                    keep = await self._answer(writer)
                finally:
                    self._open.discard(conversation)
                    self.in_flight -= 1
                    self.changed.set()
                if not keep:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            self._handlers.discard(task)

    async def _answer(self, writer: asyncio.StreamWriter) -> bool:
        if self.mode == "trickle":
            for i in range(len(OK)):
                writer.write(OK[i : i + 1])
                await writer.drain()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.release.wait(), self.trickle_seconds)
                if self.release.is_set():
                    return False
            return True
        if self.mode == "hold":
            await self.release.wait()
        if self.mode in ("big", "big_undeclared"):
            length = f"content-length: {self.big_bytes}\r\n" if self.mode == "big" else ""
            writer.write(f"HTTP/1.1 200 OK\r\n{length}\r\n".encode())
            for _ in range(self.big_bytes // 65_536 + 1):
                writer.write(b"x" * 65_536)
                await writer.drain()
            return False
        writer.write(OK)
        await writer.drain()
        return True


async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return await reader.readexactly(length)


@contextlib.asynccontextmanager
async def serving(endpoint: Endpoint) -> AsyncIterator[Endpoint]:
    """Listen on a free loopback port; `endpoint.url` is where to POST."""
    server = await asyncio.start_server(endpoint._handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    endpoint.url = f"http://127.0.0.1:{port}/kith"
    try:
        yield endpoint
    finally:
        endpoint.release.set()
        server.close()
        for task in list(endpoint._handlers):
            task.cancel()
        await asyncio.gather(*endpoint._handlers, return_exceptions=True)
        await server.wait_closed()
