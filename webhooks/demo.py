"""The demo's webhook subscriber: a route inside the demo app, on loopback, subscribed to
every event, that verifies each delivery with the standardwebhooks library as any receiver
would, and lists the last ones it got at `/demo/webhook-receiver` (the payloads themselves
are in the Webhooks page's delivery log, for admins)."""

from __future__ import annotations

import html
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from standardwebhooks import Webhook, WebhookVerificationError

from kith.core.context import Core
from kith.core.sealing import sealer_for
from kith.webhooks.actions import do_create_endpoint
from kith.webhooks.models import ALL, EndpointIn
from kith.webhooks.signing import SECRET_FIELDS, signing_secrets
from kith.webhooks.store import endpoints

PATH = "/demo/webhook-receiver"
KEPT = 50


@dataclass(frozen=True)
class Arrival:
    webhook_id: str
    type: str
    verified: bool
    at: datetime


@dataclass
class DemoReceiver:
    """Verifies with the endpoint's secrets as stored, read on each delivery as the sender
    reads them, so that "Rotate secret" on the Webhooks page keeps it verifying (a receiver
    elsewhere would be given the new secret; this one lives in the same process)."""

    core: Core | None = None
    endpoint_id: str | None = None
    arrivals: deque[Arrival] = field(default_factory=lambda: deque(maxlen=KEPT))

    async def subscribe(self, core: Core, workspace_id: str, url: str) -> None:
        body = EndpointIn(url=url, events=[ALL], description="Demo receiver (verifies signatures)")
        self.core = core
        self.endpoint_id = (await do_create_endpoint(core, workspace_id, body)).endpoint.id

    async def secrets(self) -> list[str]:
        """The endpoint's current secret, and the previous one during its grace."""
        if self.core is None:
            return []
        doc = await endpoints(self.core).find_one({"_id": self.endpoint_id}, SECRET_FIELDS)
        now = self.core.clock.now()
        return signing_secrets(sealer_for(self.core), doc, now) if doc else []

    async def receive(self, body: bytes, headers: dict[str, str]) -> bool:
        """Verify and keep one delivery; False (answered 400) when the signature fails."""
        kind, verified = "?", False
        for secret in await self.secrets():
            try:
                payload = Webhook(secret).verify(body, headers)
            except (WebhookVerificationError, ValueError):
                continue
            kind, verified = str(payload.get("type")), True
            break
        arrival = Arrival(headers.get("webhook-id", ""), kind, verified, datetime.now(UTC))
        self.arrivals.appendleft(arrival)
        return verified

    def page(self) -> str:
        rows = "".join(
            f"<tr><td>{a.at:%H:%M:%S}</td><td><code>{html.escape(a.type)}</code></td>"
            f"<td><code>{html.escape(a.webhook_id)}</code></td>"
            f"<td>{'✓ verified 已验证' if a.verified else '✗ bad signature 签名无效'}</td></tr>"
            for a in self.arrivals
        )
        return (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="refresh" content="3">'
            "<title>Demo webhook receiver · 演示接收端</title></head><body>"
            "<h1>Demo webhook receiver · 演示接收端</h1>"
            "<p>Signed events Kith sent here, newest first (this page reloads every 3 s). "
            "Kith 发到这里的签名事件，最新在前。</p>"
            '<table><thead><tr><th scope="col">Time 时间</th><th scope="col">Event 事件</th>'
            '<th scope="col">webhook-id</th><th scope="col">Signature 签名</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></body></html>"
        )

    def router(self) -> APIRouter:
        router = APIRouter(include_in_schema=False)

        @router.post(PATH)
        async def receive(request: Request) -> Response:
            ok = await self.receive(await request.body(), dict(request.headers))
            return Response(status_code=204 if ok else 400)

        @router.get(PATH)
        async def page() -> HTMLResponse:
            return HTMLResponse(self.page())

        return router
