"""`kith demo`'s sample conversations are searchable and show their previews."""

from __future__ import annotations

import httpx
from asgi_lifespan import LifespanManager

from kith.core.settings import Settings
from kith.web.app import build_core, create_app
from kith.web.demo import seed
from tests.support.consumers import indexed


async def test_the_demo_data_is_searchable_in_chinese_and_english() -> None:
    settings = Settings(demo_token="demo-token-for-tests", demo_password="pw-for-tests-1")
    core = build_core(settings)
    await core.start()
    logins = await seed(core, settings)
    await indexed(core)  # as the demo's workers do a moment after seeding
    app = create_app(core=core, run_workers=False)
    try:
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://demo") as http:
                auth = {"Authorization": f"Bearer {logins.api_token}"}

                async def search(q: str) -> list[dict]:
                    params = {"q": q}
                    answer = await http.get("/api/v1/conversations", params=params, headers=auth)
                    assert answer.status_code == 200, answer.text
                    return answer.json()["items"]

                [lilei] = await search("退货")  # "你好，我想退货，衣服尺码不合适。"
                assert lilei["external_user_id"] == "lilei"
                assert lilei["preview"]["text"] == "你好，我想退货，衣服尺码不合适。"
                assert [c["id"] for c in await search("李雷")] == [lilei["id"]]
                [ada] = await search("courier")  # the agent's reply
                assert ada["external_user_id"] == "ada"
                assert ada["preview"]["author_kind"] == "agent"
    finally:
        await core.close()
