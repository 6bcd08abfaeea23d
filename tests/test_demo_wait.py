"""`kith demo`'s widget shows the wait line: the seed has answered web chats on "Shop website",
so a visitor who asks for a person hears how long the team usually takes (QA 6, M4: the demo
seeded none, and its clock, an hour a second, would have aged any out of a 7-day window)."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from kith.core.settings import Settings
from kith.web.app import build_core, create_app
from kith.web.demo import seed
from tests.support.consumers import drain


async def test_the_demos_widget_says_how_long_the_team_usually_takes() -> None:
    settings = Settings(demo_token="demo-token-for-tests", demo_password="pw-for-tests-1")
    core = build_core(settings)
    await core.start()
    logins = await seed(core, settings)
    assert logins.webchat_id is not None
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
            widget = f"/widget/{logins.webchat_id}"
            started = await http.post(f"{widget}/session", json={})
            assert started.status_code == 200, started.text
            headers = {"X-Kith-Visitor": started.json()["token"]}
            said = await http.post(
                f"{widget}/messages",
                json={"client_id": "client-000001", "text": "人工"},
                headers=headers,
            )
            assert said.status_code == 200, said.text
            await drain(core)  # the demo's bot hands the visitor to a person
            wait = await http.get(f"{widget}/wait", headers=headers)
    await core.close()
    assert wait.status_code == 200, wait.text
    assert wait.json()["waiting"] is True
    assert wait.json()["reply_minutes"] == 4  # the seeded chats' median: 3, 4, 4 and 7 minutes
