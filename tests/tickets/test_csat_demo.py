"""`kith demo`'s survey: the agent solves Ada's seeded ticket through the API, Ada reads
the question on the API channel, scores it low and says why, and the agent sees it."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from kith.core.settings import Settings
from kith.web.app import build_core, create_app
from kith.web.demo import banner, seed
from tests.support.consumers import drain


async def test_solving_adas_ticket_asks_her_and_her_answer_reaches_the_agent() -> None:
    settings = Settings(demo_token="demo-token-for-tests", demo_password="pw-for-tests-1")
    core = build_core(settings)
    await core.start()
    logins = await seed(core, settings)
    ticket_id = logins.csat_ticket_id
    assert ticket_id is not None and f"/api/v1/tickets/{ticket_id}" in banner("http://x", logins)
    app = create_app(core=core, run_workers=False)
    auth = {"Authorization": f"Bearer {logins.api_token}"}
    channel = {"Authorization": f"Bearer {logins.channel_token}"}
    webhook = f"/webhooks/api/{logins.channel_id}"
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
            await drain(core)  # what the seed left for the consumers
            solved = await http.patch(
                f"/api/v1/tickets/{ticket_id}", json={"status": "solved"}, headers=auth
            )
            assert solved.status_code == 200, solved.text
            await drain(core)
            said = await http.get(f"{webhook}/messages", params={"user_id": "ada"}, headers=channel)
            question = said.json()["items"][-1]
            assert "How did we do?" in question["text"]
            for n, text in enumerate(("2", "The courier lost it twice")):
                body = {"message_id": f"csat-{n}", "user": {"id": "ada"}, "text": text}
                assert (await http.post(webhook, json=body, headers=channel)).status_code == 200
                await drain(core)
            ticket = (await http.get(f"/api/v1/tickets/{ticket_id}", headers=auth)).json()
            assert (ticket["csat"]["score"], ticket["csat"]["reason"]) == (
                2,
                "The courier lost it twice",
            )
            said = await http.get(f"{webhook}/messages", params={"user_id": "ada"}, headers=channel)
            kinds = [m["author"]["kind"] for m in said.json()["items"]]
            # The question, her score, why, her reason, thanks: no bot fallback among them.
            assert kinds[-5:] == ["system", "customer", "system", "customer", "system"]
    await core.close()
