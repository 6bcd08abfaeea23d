"""`kith demo` shows this part: a marketer login, and a merge suggestion waiting for them."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from kith.core.settings import Settings
from kith.web.app import build_core, create_app
from kith.web.demo import MARKETER_EMAIL, banner, seed


async def test_the_demo_has_a_marketer_and_a_merge_suggestion() -> None:
    settings = Settings(demo_token="demo-token-for-tests", demo_password="pw-for-tests-1")
    core = build_core(settings)
    await core.start()
    logins = await seed(core, settings)
    assert MARKETER_EMAIL in banner("http://127.0.0.1:8000", logins)
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
            auth = {"Authorization": f"Bearer {logins.api_token}"}
            found = await http.get("/api/v1/customers/merge-suggestions", headers=auth)
            [suggestion] = found.json()["items"]
            assert suggestion["value"] == "ada@example.com"
            assert len({tuple(c["channels"]) for c in suggestion["customers"]}) == 2
            login = await http.get("/app/login")
            csrf = login.cookies["kith_login_csrf"]
            signed_in = await http.post(
                "/app/login",
                data={"email": MARKETER_EMAIL, "password": "pw-for-tests-1", "csrf": csrf},
            )
            assert signed_in.headers["location"] == "/app"
            landed = await http.get("/app")
            assert landed.headers["location"] == "/app/contacts"
    await core.close()
