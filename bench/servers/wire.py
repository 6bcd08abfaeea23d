"""The bit of HTTP/1.1 the benchmarks' fake platforms speak: read one request off a kept-alive
connection, and serve a handler on loopback. Small on purpose: no framework's work may weigh
on the figures of what they fake."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> tuple[str, bytes] | None:
    """The request's path and body; None when the client hung up."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.split(b"\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return lines[0].split(b" ")[1].decode(), await reader.readexactly(length)


async def serve(handle: Handler, port: int) -> None:
    """Serve `handle` on 127.0.0.1:`port` until the process is stopped."""
    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()
