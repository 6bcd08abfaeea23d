"""Fake platform endpoints for `bench/outbox.py`, in their own process so that their work does
not share the outbox's event loop: `POST /ok/...` answers `{}` after `--delay` seconds (50 ms),
`POST /trickle/...` answers a byte every `--trickle` seconds (2 s).

    python -m bench.servers.endpoints PORT [--delay 0.05] [--trickle 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Awaitable, Callable

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


async def read_request(reader: asyncio.StreamReader) -> str | None:
    """The request's path, with its body read; None when the client hung up."""
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
    await reader.readexactly(length)
    return lines[0].split(b" ")[1].decode()


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def handler(delay: float, trickle: float) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while path := await read_request(reader):
                if path.startswith("/trickle"):
                    for i in range(len(ANSWER)):
                        writer.write(ANSWER[i : i + 1])
                        await writer.drain()
                        await asyncio.sleep(trickle)
                    continue
                await asyncio.sleep(delay)
                writer.write(ANSWER)
                await writer.drain()
        writer.close()

    return handle


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--trickle", type=float, default=2.0)
    args = parser.parse_args()
    server = await asyncio.start_server(
        handler(args.delay, args.trickle), "127.0.0.1", args.port, backlog=1024
    )
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
