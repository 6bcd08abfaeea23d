"""Fixtures shared by the ticket tests: API clients holding a workspace token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core
from tests.web.conftest import Cast, app, cast  # noqa: F401 (fixtures, found by name)


async def _token_client(core: Core, workspace: Cast, asgi: Any, base_url: str) -> httpx.AsyncClient:
    token = await create_api_token(core, workspace.workspace_id, "test")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=asgi),
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
    )


@pytest.fixture
async def http(core: Core, cast: Cast, app: Any) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    """The ticket API as an integration calls it: a bearer token, no session."""
    async with await _token_client(core, cast, app, "http://kith.test") as client:
        yield client


@pytest.fixture
async def token_api(core: Core, cast: Cast, app: Any) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    """`http` with paths relative to `/api/v1`."""
    async with await _token_client(core, cast, app, "http://kith.test/api/v1") as client:
        yield client
