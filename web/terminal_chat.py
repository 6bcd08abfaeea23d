"""`kith chat`: be a customer of an API channel from the terminal (lines in, replies out)."""

from __future__ import annotations

import asyncio
import sys
import uuid

import httpx


async def _print_replies(
    http: httpx.AsyncClient, base: str, user_id: str, stop: asyncio.Event
) -> None:
    """Polls the channel's read-back endpoint and prints what agents and bots say."""
    cursor: str | None = None
    seen: set[str] = set()
    while not stop.is_set():
        params = {"user_id": user_id, **({"cursor": cursor} if cursor else {})}
        try:
            answer = await http.get(f"{base}/messages", params=params)
            answer.raise_for_status()
            page = answer.json()
        except httpx.HTTPError as exc:
            print(f"  (cannot reach Kith: {exc})", file=sys.stderr)
        else:
            for item in page["items"]:
                if item["id"] not in seen and item["direction"] == "out":
                    who = item["author"].get("name") or item["author"]["kind"]
                    print(f"\r{who}: {item['text']}\n> ", end="", flush=True)
                seen.add(item["id"])
            cursor = page["next_cursor"] or cursor
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass


async def run_chat(url: str, channel_id: str, token: str, user_id: str, name: str) -> None:
    base = f"{url.rstrip('/')}/webhooks/api/{channel_id}"
    headers = {"Authorization": f"Bearer {token}"}
    stop = asyncio.Event()
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        poller = asyncio.create_task(_print_replies(http, base, user_id, stop))
        print(f"Chatting as {name} ({user_id}). Type a message and press Enter; Ctrl-D to quit.")
        loop = asyncio.get_running_loop()
        try:
            while True:
                print("> ", end="", flush=True)
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    break
                if not line.strip():
                    continue
                body = {
                    "message_id": uuid.uuid4().hex,
                    "user": {"id": user_id, "name": name},
                    "text": line.strip(),
                }
                answer = await http.post(base, json=body)
                if answer.status_code != 200:
                    print(f"  (not sent: {answer.json().get('error', answer.text)})")
        finally:
            stop.set()
            await poller
