"""API fixtures: a workspace token and an API channel created through the API itself."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core
from kith.core.workspaces import create_workspace


@dataclass
class ApiSetup:
    http: httpx.AsyncClient
    token: str
    channel_id: str
    channel_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def channel_auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.channel_token}"}

    async def say(self, user_id: str = "u-1", text: str = "hi", **extra: object) -> httpx.Response:
        body = {"message_id": extra.pop("message_id", f"{user_id}-{text}"), "user": {"id": user_id}}
        body.update(text=text, **extra)
        return await self.http.post(
            f"/webhooks/api/{self.channel_id}", json=body, headers=self.channel_auth
        )


async def make_setup(core: Core, http: httpx.AsyncClient, workspace_id: str) -> ApiSetup:
    token = await create_api_token(core, workspace_id, "tests")
    response = await http.post(
        "/api/v1/channels",
        json={"type": "api", "name": "Website", "config": {"callback_url": "http://cb.test/x"}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    return ApiSetup(http, token, created["id"], created["token"])


@pytest.fixture
async def api(core: Core, client: httpx.AsyncClient, workspace_id: str) -> ApiSetup:
    return await make_setup(core, client, workspace_id)


@pytest.fixture
async def other_api(core: Core, client: httpx.AsyncClient) -> ApiSetup:
    """A second, unrelated workspace on the same server."""
    workspace = await create_workspace(core, "Other Co")
    return await make_setup(core, client, workspace.id)
