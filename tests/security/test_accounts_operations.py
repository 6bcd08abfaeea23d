"""Operations: `/metrics` only for its bearer, security headers on every answer, `kith serve`
refusing a real database without `KITH_SECRET_KEY`; and what agents may see of customers and
of other workspaces."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.customers import do_merge_customers
from kith.core.pipeline import ingest
from kith.core.workspaces import create_workspace
from tests.api.conftest import ApiSetup
from tests.support.cast import inbound
from tests.web.conftest import Browser, Cast

KITH = Path(sys.executable).with_name("kith")


# ---- /metrics and headers ------------------------------------------------------------------


async def test_metrics_answer_only_their_bearer(api: ApiSetup, core: Core) -> None:
    assert (await api.http.get("/metrics")).status_code == 404  # no KITH_METRICS_TOKEN
    assert (await api.http.get("/metrics", headers=api.auth)).status_code == 404
    core.settings.metrics_token = "scrape-me-0123456789"
    for headers in ({}, api.auth, {"Authorization": "Bearer scrape-me"}):
        assert (await api.http.get("/metrics", headers=headers)).status_code == 401
    good = {"Authorization": "Bearer scrape-me-0123456789"}
    answer = await api.http.get("/metrics", headers=good)
    assert answer.status_code == 200 and "kith_http_request_seconds" in answer.text


async def test_every_answer_carries_nosniff_and_api_answers_no_store(
    api: ApiSetup, cast: Cast, browser
) -> None:
    agent: Browser = await browser("alice")
    answers = [
        await api.http.get("/api/v1/customers", headers=api.auth),
        await api.http.get("/api/v1/customers"),  # 401
        await api.http.get("/api/v1/nothing-here"),  # 404
        await api.http.get("/healthz"),
        await api.http.get(f"/webhooks/api/{api.channel_id}/messages?user_id=u-1"),
        await agent.api("GET", "/me"),
        await agent.api("GET", "/tokens"),  # 403
    ]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff", answer.url
        assert answer.headers["cache-control"] == "no-store", answer.url
    script = await agent.http.get("/app/static/admin.js")
    assert script.headers["x-content-type-options"] == "nosniff"
    assert script.headers["cache-control"] == "no-cache"  # its own, kept


async def test_kith_serve_refuses_a_real_database_without_a_secret_key() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITH_")}
    env["KITH_MONGO_URI"] = "mongodb://127.0.0.1:9/"  # never reached: it stops before
    served = await asyncio.create_subprocess_exec(
        str(KITH),
        "serve",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(served.communicate(), 60)
    assert served.returncode == 2
    message = err.decode()
    assert "KITH_SECRET_KEY is not set" in message and "export KITH_SECRET_KEY=" in message


# ---- what agents see -----------------------------------------------------------------------


async def _ada_on_both_channels(core: Core, cast: Cast) -> str:
    """Ada wrote to the shop (Sales) and to the help desk (Support): one customer, merged."""
    shop = await core.store.conversations.find_one({"_id": cast.conversations["shop"]})
    assert shop is not None
    again = await ingest(core, cast.help, inbound(cast.help, "ada", "Also, the app crashes"))
    if again.conversation.customer_id != shop["customer_id"]:
        await do_merge_customers(
            core, cast.workspace_id, shop["customer_id"], again.conversation.customer_id
        )
    return str(shop["customer_id"])


async def test_agents_see_only_the_identities_on_their_teams_channels(
    core: Core, cast: Cast, browser
) -> None:
    ada = await _ada_on_both_channels(core, cast)

    async def identities(name: str) -> set[str]:
        user: Browser = await browser(name)
        answer = await user.api("GET", f"/customers/{ada}")
        assert answer.status_code == 200, answer.text
        return {i["channel_id"] for i in answer.json()["identities"]}

    assert await identities("admin") == {cast.shop.id, cast.help.id}
    assert await identities("alice") == {cast.shop.id}  # Sales
    assert await identities("bob") == {cast.help.id}  # Support


async def test_another_workspaces_conversation_answers_404_on_every_route(
    core: Core, cast: Cast, browser
) -> None:
    other = await create_workspace(core, "Other Co")
    channel, _ = await create_channel(core, other.id, "api", "Theirs", {})
    theirs = (await ingest(core, channel, inbound(channel, "grace", "secret"))).conversation.id
    for name in ("admin", "alice"):
        user: Browser = await browser(name)
        for method, path, body in (
            ("GET", f"/conversations/{theirs}", None),
            ("PATCH", f"/conversations/{theirs}", {"status": "resolved"}),
            ("POST", f"/conversations/{theirs}/messages", {"text": "hi"}),
            ("POST", f"/conversations/{theirs}/read", None),
            ("GET", f"/conversations/{theirs}/presence", None),
            ("POST", f"/conversations/{theirs}/presence", {"state": "viewing"}),
        ):
            answer = await user.api(method, path, json=body)
            assert answer.status_code == 404, (name, method, path, answer.text)
            assert answer.json()["error"]["code"] == "not_found"
    # Another team's conversation of one's own workspace stays a 403.
    alice: Browser = await browser("alice")
    help_desk = await alice.api("GET", f"/conversations/{cast.conversations['help']}")
    assert help_desk.status_code == 403
