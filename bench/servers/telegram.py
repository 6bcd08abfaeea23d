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

from bench.servers.wire import read_request, serve

RECEIVED: Counter[str] = Counter()


def answer(status: str, body: dict[str, object]) -> bytes:
    raw = json.dumps(body).encode()
    head = f"HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {len(raw)}"
    return head.encode() + b"\r\n\r\n" + raw


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
    await serve(handle, parser.parse_args().port)


if __name__ == "__main__":
    asyncio.run(main())
