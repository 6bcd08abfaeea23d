"""A fake Telegram Bot API for `bench/broadcast.py`, in its own process: `POST
/bot<token>/sendMessage` answers a sent message at once and counts it per (bot, chat, text);
`GET /stats` answers those counts, so the benchmark sees duplicates as the platform would.

    python -m bench.servers.telegram PORT
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
from collections import Counter

RECEIVED: Counter[str] = Counter()


def answer(status: str, body: dict[str, object]) -> bytes:
    raw = json.dumps(body).encode()
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(raw)}"
    return head.encode() + b"\r\n\r\n" + raw


async def read_request(reader: asyncio.StreamReader) -> tuple[str, bytes] | None:
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


def respond(path: str, body: bytes) -> bytes:
    if path == "/stats":
        return answer("200 OK", {"received": sum(RECEIVED.values()), "by_chat": RECEIVED})
    bot, _, method = path.strip("/").partition("/")
    if method != "sendMessage":
        return answer("200 OK", {"ok": True, "result": True})
    sent = json.loads(body or b"{}")
    # One chat may get a broadcast and a service reply: a duplicate is the same text twice.
    text = str(sent.get("text", ""))
    key = f"{bot.split(':')[0]}:{sent.get('chat_id')}:{hash(text)}"
    RECEIVED[key] += 1
    chat = {"id": int(sent.get("chat_id", 0)), "type": "private"}
    result = {"message_id": RECEIVED[key], "date": 1_700_000_000, "chat": chat, "text": "."}
    return answer("200 OK", {"ok": True, "result": result})


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
        while request := await read_request(reader):
            writer.write(respond(*request))
            await writer.drain()
    writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    args = parser.parse_args()
    server = await asyncio.start_server(handle, "127.0.0.1", args.port, backlog=1024)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
