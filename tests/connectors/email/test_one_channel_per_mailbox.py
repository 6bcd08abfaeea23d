"""One mailbox, one channel (M4): a second email channel with the same address, or reading
the same IMAP user's folder on the same host, is refused naming the field and the other
channel, created or edited into it. No mail server needed: creating a channel connects to
nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.context import Core
from tests.connectors.email.conftest import ImapServer, email_config

SERVER = ImapServer("imap.shop.test", 993, "support@shop.test", "app-password")


@pytest.fixture
async def api(core: Core, workspace_id: str, client: httpx.AsyncClient) -> httpx.AsyncClient:
    client.headers["Authorization"] = f"Bearer {await create_api_token(core, workspace_id, 't')}"
    return client


async def create(
    api: httpx.AsyncClient, name: str, mailbox: str = "INBOX", **over: Any
) -> httpx.Response:
    config = email_config(SERVER, mailbox, 465, **over)
    return await api.post(
        "/api/v1/channels", json={"type": "email", "name": name, "config": config}
    )


async def test_a_second_channel_with_the_same_address_is_refused(
    core: Core, api: httpx.AsyncClient
) -> None:
    first = await create(api, "Support")
    assert first.status_code == 201, first.text
    again = await create(api, "Support 2", address="SUPPORT@shop.test")
    assert again.status_code == 409, again.text
    error = again.json()["error"]
    assert error["code"] == "mailbox_taken" and error["field"] == "config.address"
    assert error["limits"] == {"channel_id": first.json()["id"], "channel_name": "Support"}
    assert "'Support'" in error["message"] and "app-password" not in again.text
    assert await core.store.channels.count_documents({"type": "email"}) == 1  # nothing left


async def test_the_same_imap_user_and_folder_under_another_address_is_refused(
    core: Core, api: httpx.AsyncClient
) -> None:
    first = await create(api, "Support")
    twin = await create(api, "Sales", address="sales@shop.test", imap_host="IMAP.shop.test")
    assert twin.status_code == 409, twin.text
    assert twin.json()["error"]["field"] == "config.username"
    assert twin.json()["error"]["limits"]["channel_id"] == first.json()["id"]
    # Another folder of the same account (a Gmail label) is another mailbox.
    sales = await create(api, "Sales", address="sales@shop.test", mailbox="Sales")
    assert sales.status_code == 201, sales.text
    assert await core.store.channels.count_documents({"type": "email"}) == 2


async def test_editing_a_channel_into_another_ones_mailbox_is_refused_and_changes_nothing(
    core: Core, api: httpx.AsyncClient
) -> None:
    first = await create(api, "Support")
    sales = await create(api, "Sales", address="sales@shop.test", mailbox="Sales")
    path = f"/api/v1/channels/{sales.json()['id']}"
    moved = await api.patch(path, json={"config": {"mailbox": "inbox"}})
    assert moved.status_code == 409, moved.text
    assert moved.json()["error"]["field"] == "config.username"
    assert moved.json()["error"]["limits"]["channel_name"] == "Support"
    assert (await api.get(path)).json()["config"]["mailbox"] == "Sales"
    renamed = await api.patch(path, json={"name": "Sales team", "config": {"mailbox": "Sales"}})
    assert renamed.status_code == 200, renamed.text  # itself is no twin
    assert first.status_code == 201
