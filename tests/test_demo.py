"""`kith demo`'s seed: logins work, sample data is there, and the bot answers newcomers."""

from __future__ import annotations

from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from kith.consent.links import public_base
from kith.core.settings import Settings
from kith.sequences.links import track
from kith.web.app import build_core, create_app
from kith.web.demo import DEMO_EMAIL, SUPPORT_EMAIL, banner, demo_base, seed
from tests.support.consumers import drain
from tests.web.conftest import sign_in


async def test_demo_seed_gives_working_logins_and_a_bot() -> None:
    settings = Settings(demo_token="demo-token-for-tests", demo_password="pw-for-tests-1")
    core = build_core(settings)
    await core.start()
    logins = await seed(core, settings)
    assert logins.api_token == "demo-token-for-tests" and logins.password == "pw-for-tests-1"
    text = banner("http://127.0.0.1:8000", logins)
    assert DEMO_EMAIL in text and SUPPORT_EMAIL in text and logins.channel_token in text
    assert "/app/sequences" in text  # how to try the seeded welcome sequence
    seeded = await core.store.collection("sequences").find_one({})
    assert seeded is not None and (seeded["name"], seeded["status"]) == ("Welcome · 欢迎", "draft")
    orders = await core.store.collection("orders").find({}).sort("number", 1).to_list(None)
    assert [(o["number"], o["status"]) for o in orders] == [(1, "delivered"), (2, "paid")]

    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
            auth = {"Authorization": f"Bearer {logins.api_token}"}
            listed = (await http.get("/api/v1/conversations", headers=auth)).json()["items"]
            assert len(listed) >= 4
            segments = (await http.get("/api/v1/segments", headers=auth)).json()["items"]
            assert [(s["name"], s["size"]) for s in segments] == [("VIP in 上海", 1)]
            said = await http.post(
                f"/webhooks/api/{logins.channel_id}",
                json={"message_id": "t-1", "user": {"id": "newcomer"}, "text": "hello"},
                headers={"Authorization": f"Bearer {logins.channel_token}"},
            )
            conversation_id = said.json()["conversation_id"]
            await drain(core)  # the bot answers after the webhook did, as the worker would
            messages = await http.get(
                f"/api/v1/conversations/{conversation_id}/messages", headers=auth
            )
            bot_replies = [m for m in messages.json()["items"] if m["author"]["kind"] == "bot"]
            assert bot_replies and "shop assistant" in bot_replies[0]["text"]
            tickets = (await http.get("/api/v1/tickets", headers=auth)).json()["items"]
            assert any(t["source"] == "rule" and "退货" in t["subject"] for t in tickets)
            await _one_team_sees_its_channels(transport, logins.password)
    await core.close()


async def _one_team_sees_its_channels(transport: httpx.ASGITransport, password: str) -> None:
    """The demo's team-bound agent: the website's conversations, and no Telegram group,
    which the admin (`DEMO_EMAIL`) sees."""
    seen: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
    for email in (DEMO_EMAIL, SUPPORT_EMAIL):
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
            assert (await sign_in(http, email, password)).status_code == 303
            groups = (await http.get("/app/api/communities")).json()["items"]
            listed = (await http.get("/app/api/conversations?status=any")).json()["items"]
            seen[email] = groups, listed
            if email == SUPPORT_EMAIL:
                other = seen[DEMO_EMAIL][0][0]["id"]
                assert (await http.get(f"/app/api/communities/{other}")).status_code == 403
    groups, everything = seen[DEMO_EMAIL]
    assert groups and "telegram" in {c["channel_type"] for c in everything}
    groups, mine = seen[SUPPORT_EMAIL]
    assert groups == [] and mine and {c["channel_type"] for c in mine} <= {"api", "webchat"}


async def test_the_demos_links_follow_its_host_and_port() -> None:
    """Regression (QA sequences #5): under `kith demo --port 8302` tracked and unsubscribe
    links pointed at port 8000."""
    core = build_core(demo_base("127.0.0.1", 8302))
    tracked = await track(core, "See https://example.com/offer.", "run-1", "w-1")
    assert tracked.startswith("See http://127.0.0.1:8302/l/") and tracked.endswith(".")
    everywhere = build_core(demo_base("0.0.0.0", 8303))  # noqa: S104 (what a user may type)
    assert public_base(everywhere) == "http://127.0.0.1:8303"
