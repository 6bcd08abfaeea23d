"""Fixtures shared by the ticket tests: an API client holding a workspace token."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core
from tests.web.conftest import Cast, app, cast  # noqa: F401 (fixtures, found by name)


@pytest.fixture
async def http(core: Core, cast: Cast, app: Any) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    """The ticket API as an integration calls it: a bearer token, no session."""
    token = await create_api_token(core, cast.workspace_id, "test")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://kith.test",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        yield client
