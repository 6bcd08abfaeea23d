"""`kith chat`: be a customer of an API channel from the terminal (lines in, replies out).

A reply's buttons are printed as numbered lines under it; typing a number or a button's title
sends that button (its title as the text, its payload as the pressed button's), as tapping it
in a messenger would.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Callable
from typing import Any

import httpx


def render(item: dict[str, Any]) -> str:
    """A reply as printed: who said it, what, and its buttons numbered under it."""
    who = item["author"].get("name") or item["author"]["kind"]
    lines = [f"{who}: {item['text']}"]
    for n, button in enumerate(item.get("buttons") or [], start=1):
        link = f" ({button['url']})" if button.get("url") else ""
        lines.append(f"  {n}. {button['label']}{link}")
    return "\n".join(lines)


def pressed(line: str, buttons: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The button a typed line names: its number in the last reply's list, or its title (in
    any case); None for anything else."""
    said = line.strip()
    if said.isdigit() and 1 <= int(said) <= len(buttons):
        return buttons[int(said) - 1]
    return next((b for b in buttons if b["label"].casefold() == said.casefold()), None)


class TerminalChat:
    """One customer's chat on an API channel: `send` a typed line, `poll` for the replies
    (each shown once, through `show`). `http` is a client for Kith."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        base: str,
        user_id: str,
        name: str,
        show: Callable[[str], None],
    ) -> None:
        self.http, self.base, self.user_id, self.name, self.show = http, base, user_id, name, show
        self.cursor: str | None = None
        self.seen: set[str] = set()
        self.buttons: list[dict[str, Any]] = []  # the latest reply's, which a number picks

    async def send(self, line: str) -> None:
        body: dict[str, Any] = {
            "message_id": uuid.uuid4().hex,
            "user": {"id": self.user_id, "name": self.name},
            "text": line.strip(),
        }
        button = pressed(line, self.buttons)
        if button is not None:
            body["text"] = button["label"]
            if button.get("payload"):
                body["payload"] = button["payload"]
        answer = await self.http.post(self.base, json=body)
        if answer.status_code != 200:
            self.show(f"  (not sent: {answer.json().get('error', answer.text)})")

    async def poll(self) -> None:
        """Show the replies not shown yet; an error reaching Kith is shown and tried again."""
        params = {"user_id": self.user_id, **({"cursor": self.cursor} if self.cursor else {})}
        try:
            answer = await self.http.get(f"{self.base}/messages", params=params)
            answer.raise_for_status()
            page = answer.json()
        except httpx.HTTPError as exc:
            self.show(f"  (cannot reach Kith: {exc})")
            return
        for item in page["items"]:
            if item["id"] not in self.seen and item["direction"] == "out":
                self.show(render(item))
                self.buttons = item.get("buttons") or []
            self.seen.add(item["id"])
        self.cursor = page["next_cursor"] or self.cursor


async def _keep_polling(chat: TerminalChat, stop: asyncio.Event) -> None:
    while not stop.is_set():
        await chat.poll()
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass


def _print(text: str) -> None:
    print(f"\r{text}\n> ", end="", flush=True)


async def run_chat(url: str, channel_id: str, token: str, user_id: str, name: str) -> None:
    base = f"{url.rstrip('/')}/webhooks/api/{channel_id}"
    headers = {"Authorization": f"Bearer {token}"}
    stop = asyncio.Event()
    async with httpx.AsyncClient(headers=headers, timeout=10) as http:
        chat = TerminalChat(http, base, user_id, name, _print)
        poller = asyncio.create_task(_keep_polling(chat, stop))
        print(f"Chatting as {name} ({user_id}). Type a message and press Enter; Ctrl-D to quit.")
        print("Under a reply with options, type an option's number or its title to choose it.")
        loop = asyncio.get_running_loop()
        try:
            while True:
                print("> ", end="", flush=True)
                line = await loop.run_in_executor(None, sys.stdin.readline)
                if not line:
                    break
                if not line.strip():
                    continue
                await chat.send(line)
        finally:
            stop.set()
            await poller
