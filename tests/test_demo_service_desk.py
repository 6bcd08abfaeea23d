"""The service desk as a user walks it in `kith demo` (issue 17's "done when"), through the
public API on the demo's seed: an angry message escalates into a ticket under the demo's SLA
policy; pending pauses its clock; the customer's answer reopens it; solving it asks the
customer for a rating on their own channel, and their answer is stored; an order made from the
conversation tells the customer when it ships."""

from __future__ import annotations

from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from kith.core.settings import Settings
from kith.web.app import build_core, create_app
from kith.web.demo import seed
from tests.support.consumers import drain


async def test_an_angry_message_becomes_a_ticket_that_pauses_reopens_and_is_rated() -> None:
    settings = Settings(demo_token="demo-token-for-tests", demo_password="pw-for-tests-1")
    core = build_core(settings)
    await core.start()
    logins = await seed(core, settings)
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
            auth = {"Authorization": f"Bearer {logins.api_token}"}
            channel = {"Authorization": f"Bearer {logins.channel_token}"}
            n = 0

            async def say(text: str) -> str:
                nonlocal n
                n += 1
                said = await http.post(
                    f"/webhooks/api/{logins.channel_id}",
                    json={"message_id": f"angry-{n}", "user": {"id": "mei"}, "text": text},
                    headers=channel,
                )
                assert said.status_code in (200, 201), said.text
                await drain(core)
                return str(said.json()["conversation_id"])

            async def ticket_of(conversation_id: str) -> dict[str, Any]:
                params = {"conversation_id": conversation_id}
                found = await http.get("/api/v1/tickets", params=params, headers=auth)
                [ticket] = found.json()["items"]
                return dict(ticket)

            async def change(ticket_id: str, **body: Any) -> dict[str, Any]:
                changed = await http.patch(f"/api/v1/tickets/{ticket_id}", json=body, headers=auth)
                assert changed.status_code == 200, changed.text
                await drain(core)
                return dict(changed.json())

            async def kith_said(conversation_id: str) -> list[str]:
                url = f"/api/v1/conversations/{conversation_id}/messages"
                items = (await http.get(url, headers=auth)).json()["items"]
                return [m["text"] for m in items if m["direction"] == "out"]

            conversation_id = await say("我要退款，东西坏了！")
            ticket = await ticket_of(conversation_id)
            assert (ticket["source"], ticket["status"]) == ("rule", "new")
            assert ticket["sla"]["policy"] and ticket["sla"]["resolution_due_at"]
            pending = await change(ticket["id"], status="pending")
            assert pending["sla"]["paused"] is True
            await say("照片已经发给你们了")
            reopened = await ticket_of(conversation_id)
            assert (reopened["status"], reopened["sla"]["paused"]) == ("open", False)
            await change(ticket["id"], status="solved")
            asked = await kith_said(conversation_id)
            assert any("请为我们的服务打分" in text for text in asked), asked
            await say("五星")
            rated = await ticket_of(conversation_id)
            assert (rated["status"], rated["csat"]["score"]) == ("solved", 5)

            order = await http.post(
                "/api/v1/orders",
                json={
                    "conversation_id": conversation_id,
                    "currency": "CNY",
                    "items": [{"sku": "mug", "name": "马克杯", "quantity": 2, "unit_price": 3900}],
                    "status": "paid",
                },
                headers=auth,
            )
            assert order.status_code == 201, order.text
            assert order.json()["total"] == 7800
            shipped = await http.patch(
                f"/api/v1/orders/{order.json()['id']}",
                json={"status": "shipped", "shipping": {"tracking_number": "SF1234567890"}},
                headers=auth,
            )
            assert shipped.status_code == 200, shipped.text
            await drain(core)
            assert any("SF1234567890" in text for text in await kith_said(conversation_id))
    await core.close()
