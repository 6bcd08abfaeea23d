"""Inbox fixtures: one app, a small cast of users in two teams, and signed-in HTTP clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from argon2 import PasswordHasher
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.models import Channel, Role, User
from kith.core.pipeline import ingest
from kith.core.teams import add_member, create_team
from kith.web.app import create_app
from tests.support.cast import api_channel, inbound
from tests.support.consumers import indexed

PASSWORD = "correct horse battery"


@dataclass
class Cast:
    """Sales (channel `shop`) and Support (channel `help`), and who works where."""

    workspace_id: str
    shop: Channel
    help: Channel
    users: dict[str, User] = field(default_factory=dict)
    conversations: dict[str, str] = field(default_factory=dict)


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2, at the lowest cost: the suite hashes dozens of passwords."""
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr("kith.core.auth._hasher", cheap)
    monkeypatch.setattr("kith.core.auth._DUMMY_HASH", cheap.hash("kith-no-such-user"))


@pytest.fixture
async def app(core: Core) -> AsyncIterator[FastAPI]:
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        yield manager.app  # type: ignore[misc]


@pytest.fixture
async def cast(core: Core, workspace_id: str) -> Cast:
    shop, _ = await api_channel(core, workspace_id, "Shop")
    help_, _ = await api_channel(core, workspace_id, "Help desk")
    sales = await create_team(core, workspace_id, "Sales", [shop.id])
    support = await create_team(core, workspace_id, "Support", [help_.id])
    cast = Cast(workspace_id, shop, help_)
    for name, role, team in (
        ("admin", Role.admin, None),
        ("alice", Role.agent, sales.id),
        ("bob", Role.agent, support.id),
        ("mary", Role.marketer, None),
    ):
        user = await create_user(
            core, workspace_id, f"{name}@kith.test", PASSWORD, name=name.title(), role=role
        )
        if team:
            await add_member(core, workspace_id, team, user.id)
        cast.users[name] = user
    cast.users["sales"] = sales  # type: ignore[assignment]
    cast.users["support"] = support  # type: ignore[assignment]
    shop_conv = await ingest(core, shop, inbound(shop, "ada", "Where is my order?"))
    help_conv = await ingest(core, help_, inbound(help_, "grace", "The app crashes"))
    cast.conversations = {"shop": shop_conv.conversation.id, "help": help_conv.conversation.id}
    await indexed(core)  # searchable, as a moment after ingest in `kith serve`
    return cast


@dataclass
class Browser:
    """An HTTP client holding one user's session cookie and CSRF token."""

    http: httpx.AsyncClient
    csrf: str = ""

    async def api(self, method: str, path: str, **kw: object) -> httpx.Response:
        headers = {"X-CSRF-Token": self.csrf, **kw.pop("headers", {})}  # type: ignore[dict-item]
        return await self.http.request(method, "/app/api" + path, headers=headers, **kw)  # type: ignore[arg-type]


async def sign_in(http: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    form = await http.get("/app/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token, form.text
    return await http.post(
        "/app/login", data={"csrf": token.group(1), "email": email, "password": password}
    )


@pytest.fixture
async def browser(app: FastAPI) -> AsyncIterator[Callable[..., object]]:
    """`await browser("alice")`: a signed-in client (each call a separate cookie jar)."""
    clients: list[httpx.AsyncClient] = []

    async def open_as(name: str | None = None) -> Browser:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://kith.test"
        )
        clients.append(http)
        session = Browser(http)
        if name is not None:
            answer = await sign_in(http, f"{name}@kith.test")
            assert answer.status_code == 303, answer.text
            session.csrf = (await session.api("GET", "/me")).json()["csrf_token"]
        return session

    yield open_as
    for http in clients:
        await http.aclose()
