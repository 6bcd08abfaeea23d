"""Fake platform endpoints for `bench/outbox.py`, in their own process so that their work does
not share the outbox's event loop: `POST /ok/...` answers `{}` after `--delay` seconds (50 ms),
`POST /trickle/...` answers a byte every `--trickle` seconds (2 s).

    python -m bench.servers.endpoints PORT [--delay 0.05] [--trickle 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from bench.servers.wire import Handler, read_request, serve

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


def handler(delay: float, trickle: float) -> Handler:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while request := await read_request(reader):
                path, _ = request
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
    await serve(handler(args.delay, args.trickle), args.port)


if __name__ == "__main__":
    asyncio.run(main())
