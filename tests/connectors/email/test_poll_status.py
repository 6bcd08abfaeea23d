"""A mailbox that cannot connect says so on its channel (M4): the reason and since when, kept
in MongoDB by whichever process polled it, cleared by the first poll that works; the log gets
one traceback when the failure starts, then one line per poll, and polls back off."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import datetime
from typing import Any

import httpx
import pytest

from kith.core.auth import create_api_token
from kith.core.channel_records import create_channel, get_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.pollers import PollerSupervisor
from tests.connectors.email.conftest import ImapServer, Mailbox, email_config, stored_texts

WRONG = "not-the-password"


@pytest.fixture
async def token(core: Core, workspace_id: str) -> str:
    return await create_api_token(core, workspace_id, "tests")


async def status(client: httpx.AsyncClient, token: str, channel_id: str) -> dict[str, Any]:
    """The channel's `poll` as the REST API answers it (Settings → Channels shows the same)."""
    answer = await client.get(
        f"/api/v1/channels/{channel_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    assert WRONG not in answer.text
    poll: dict[str, Any] = answer.json()["poll"]
    return poll


def at(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def same_moment(answered: str | None, when: datetime) -> bool:
    assert answered is not None
    return datetime.fromisoformat(answered.replace("Z", "+00:00")) == when


async def one_poll(core: Core, channel_id: str, owner: str = "kith-a") -> float:
    """What the supervisor does each round for a channel it holds: the stored channel, polled."""
    channel = await get_channel(core, None, channel_id)
    poller = core.channels.get("email").poller  # type: ignore[union-attr]
    return await PollerSupervisor(core, owner=owner).poll(channel, poller)


async def test_a_wrong_password_shows_on_the_channel_until_it_is_fixed(
    core: Core,
    second_process: Core,
    clock: ManualClock,
    client: httpx.AsyncClient,
    token: str,
    workspace_id: str,
    imap_server: ImapServer,
    mailbox: Mailbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = email_config(imap_server, mailbox.name, 25, password=WRONG)
    channel, _ = await create_channel(core, workspace_id, "email", "Mail", config)
    assert (await status(client, token, channel.id)) is None  # never polled yet
    await mailbox.deliver_fixture("plain_first_contact.eml")
    started = clock.now()

    caplog.set_level(logging.INFO, logger="kith.core.pollers")
    # Polled by another process (the lease holder): this one's API shows its result.
    assert await one_poll(second_process, channel.id, owner="kith-b") == 5.0
    failing = await status(client, token, channel.id)
    assert failing["reason"] == "auth_failed"
    assert failing["error"] == "authentication failed"
    assert failing["failures"] == 1 and failing["last_ok_at"] is None
    assert same_moment(failing["failing_since"], started)
    assert same_moment(failing["last_poll_at"], started)

    clock.advance(60)
    assert await one_poll(second_process, channel.id, owner="kith-b") == 10.0  # backing off
    again = await status(client, token, channel.id)
    assert again["failures"] == 2 and again["reason"] == "auth_failed"
    assert same_moment(again["failing_since"], started)  # since the first failure
    assert same_moment(again["last_poll_at"], clock.now())
    failed = [r for r in caplog.records if r.name == "kith.core.pollers"]
    assert [(r.levelname, r.exc_info is not None) for r in failed] == [
        ("ERROR", True),  # the traceback once, when it starts failing
        ("WARNING", False),  # then one line
    ]
    assert all(WRONG not in r.getMessage() and r.channel_id == channel.id for r in failed)  # type: ignore[attr-defined]

    fixed = await client.patch(
        f"/api/v1/channels/{channel.id}",
        json={"config": {"password": imap_server.password}},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert fixed.status_code == 200, fixed.text
    clock.advance(30)
    assert await one_poll(core, channel.id) == 60.0  # the channel's own interval again
    cleared = await status(client, token, channel.id)
    assert cleared == {
        "last_poll_at": at(clock.now()),
        "last_ok_at": at(clock.now()),
        "failing_since": None,
        "failures": 0,
        "reason": None,
        "error": None,
    }
    assert len(await stored_texts(core)) == 1  # and the mail came in
    assert caplog.records[-1].getMessage() == "poll works again"


async def test_a_host_that_refuses_connections_is_named(
    core: Core, client: httpx.AsyncClient, token: str, workspace_id: str
) -> None:
    """No mail server needed: a loopback port nothing listens on."""
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    nowhere = ImapServer("127.0.0.1", port, "support", "secret")
    config = email_config(nowhere, "INBOX", 25)
    channel, _ = await create_channel(core, workspace_id, "email", "Mail", config)
    await one_poll(core, channel.id)
    failing = await status(client, token, channel.id)
    assert failing["reason"] == "connection_refused"
    assert failing["error"] == "the server refused the connection"


async def wait_for(check: Any) -> None:
    """Until the background poll's outcome is stored (an event, not a timing assumption)."""
    for _ in range(600):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the background poll never got there")


async def test_the_running_poller_takes_a_fixed_password_and_stops_when_disabled(
    core: Core,
    client: httpx.AsyncClient,
    token: str,
    workspace_id: str,
    imap_server: ImapServer,
    mailbox: Mailbox,
) -> None:
    """The supervisor reads the channel again before each poll: a fixed password works without
    a restart, and a disabled channel is no longer polled."""
    config = email_config(imap_server, mailbox.name, 25, password=WRONG, poll_seconds=5)
    channel, _ = await create_channel(core, workspace_id, "email", "Mail", config)
    supervisor = PollerSupervisor(core, owner="kith-a", first_retry=0.5)
    headers = {"Authorization": f"Bearer {token}"}

    async def state() -> dict[str, Any] | None:
        doc = await core.store.channels.find_one({"_id": channel.id})
        assert doc is not None
        poll: dict[str, Any] | None = doc.get("poll")
        return poll

    try:
        assert await supervisor.claim_round() == [channel.id]
        await wait_for(lambda: _failing(state))
        path = f"/api/v1/channels/{channel.id}"
        fixed = await client.patch(
            path, json={"config": {"password": imap_server.password}}, headers=headers
        )
        assert fixed.status_code == 200, fixed.text
        await wait_for(lambda: _working(state))

        assert (await client.delete(path, headers=headers)).status_code == 200  # disabled
        task = supervisor.tasks[channel.id]
        await asyncio.wait_for(task, 30)  # it ends on its own: the channel is not polled
    finally:
        for task in supervisor.tasks.values():
            task.cancel()
        await asyncio.gather(*supervisor.tasks.values(), return_exceptions=True)


async def _failing(state: Any) -> bool:
    poll = await state()
    return bool(poll and poll.get("reason") == "auth_failed")


async def _working(state: Any) -> bool:
    poll = await state()
    return bool(poll and poll.get("last_ok_at") and poll.get("failing_since") is None)
