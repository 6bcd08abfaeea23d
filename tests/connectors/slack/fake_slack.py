"""A stand-in for Slack's Web API on a loopback port, reached by slack_sdk's real client.

AsyncWebClient talks aiohttp, so this is a real HTTP server (aiohttp's own, on a socket we
bind first, so start and stop need no waiting). It records each call and answers like
Slack: `{"ok": true, ...}` by default, or the next scripted answer.
"""

from __future__ import annotations

import itertools
import json
import socket
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Call:
    method: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.script: list[Answer] = []
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.url = ""

    def answer_next(self, status: int, body: dict[str, Any], **headers: str) -> None:
        self.script.append(
            Answer(status, body, {k.replace("_", "-"): v for k, v in headers.items()})
        )

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if request.content_type == "application/json":
            body = json.loads(raw or b"{}")
        else:
            body = dict((await request.post()).items())
        method = request.match_info["method"]
        self.calls.append(Call(method, dict(request.headers), body))
        if self.script:
            answer = self.script.pop(0)
            return web.json_response(answer.body, status=answer.status, headers=answer.headers)
        ts = f"1767225600.{next(self._ts):06d}"
        return web.json_response(
            {"ok": True, "channel": body.get("channel"), "ts": ts, "message": {"ts": ts}}
        )

    async def start(self) -> str:
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/api/"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
