"""A stand-in for an integrator's callback endpoint: records requests, answers as scripted.

It is a real ASGI app reached through httpx's transport, i.e. at the network boundary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.types import Receive, Scope, Send


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CallbackServer:
    """Answers each request with the next scripted (status, headers); 200 when none is left."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)

    def fail_next(self, *answers: int | tuple[int, dict[str, str]]) -> None:
        for answer in answers:
            self.script.append(answer if isinstance(answer, tuple) else (answer, {}))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.requests.append(Recorded(scope["path"], headers, body))
        status, extra = self.script.pop(0) if self.script else (200, {})
        raw_headers = [(k.encode(), v.encode()) for k, v in extra.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": b"{}"})
