"""Polling state in MongoDB: UIDs survive restarts, UIDVALIDITY changes rescan safely, a
conversation deleted in Kith stays deleted, and one supervisor polls a channel at a time."""

from __future__ import annotations

import asyncio

import httpx

from kith.connectors.email.poller import EmailPoller, mailbox_state_id
from kith.core import leases
from kith.core.auth import create_api_token
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Channel
from kith.core.pollers import PollerSupervisor
from tests.connectors.email.conftest import Mailbox, poll, stored_texts


async def state(core: Core, channel: Channel, mailbox: Mailbox) -> dict:
    doc = await core.store.collection("email_mailboxes").find_one(
        {"_id": mailbox_state_id(channel.id, mailbox.name)}
    )
    assert doc is not None
    return doc


async def test_each_mail_is_ingested_once_and_a_restart_continues_from_the_stored_uid(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver_fixture("plain_first_contact.eml", "gbk_body.eml")
    assert await poll(core, email_channel) == 60.0  # the default poll interval
    await poll(core, email_channel)
    assert len(await stored_texts(core)) == 2
    first = await state(core, email_channel, mailbox)
    assert first["last_uid"] == 2

    await mailbox.deliver_fixture("html_only.eml")
    restarted = EmailPoller()  # a new process: nothing in memory
    seen: list[bytes] = []

    class Spy(EmailPoller):
        async def handle(self, core: Core, channel: Channel, raw: bytes) -> str:
            seen.append(raw)
            return await super().handle(core, channel, raw)

    await Spy().poll_once(core, email_channel)
    assert len(seen) == 1  # only UID 3 was fetched: the watermark survived
    await restarted.poll_once(core, email_channel)
    assert len(await stored_texts(core)) == 3
    assert (await state(core, email_channel, mailbox))["uidvalidity"] == first["uidvalidity"]


async def test_a_new_uidvalidity_rescans_without_importing_anything_twice(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver_fixture("plain_first_contact.eml", "gbk_body.eml")
    await poll(core, email_channel)
    before = await state(core, email_channel, mailbox)

    await mailbox.recreate()  # the server renumbers: same mail, new UIDs, new UIDVALIDITY
    await mailbox.deliver_fixture("plain_first_contact.eml", "gbk_body.eml", "html_only.eml")
    await poll(core, email_channel)

    after = await state(core, email_channel, mailbox)
    assert after["uidvalidity"] != before["uidvalidity"]
    assert after["last_uid"] == 3
    assert len(await stored_texts(core)) == 3
    assert await core.store.events.count_documents({"type": "message.received"}) == 3


async def test_a_conversation_deleted_in_kith_is_not_reimported_from_the_server(
    core: Core,
    client: httpx.AsyncClient,
    workspace_id: str,
    email_channel: Channel,
    mailbox: Mailbox,
) -> None:
    await mailbox.deliver_fixture("plain_first_contact.eml", "reply_en.eml")
    await poll(core, email_channel)
    [message, _] = await core.store.messages.find({}).to_list(None)
    token = await create_api_token(core, workspace_id, "t")
    erased = await client.delete(
        f"/api/v1/customers/{message['customer_id']}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert erased.status_code == 200, erased.text
    assert await core.store.conversations.count_documents({}) == 0

    await poll(core, email_channel)
    await mailbox.recreate()  # even a full rescan of the mail still on the server
    await mailbox.deliver_fixture("plain_first_contact.eml", "reply_en.eml")
    await poll(core, email_channel)
    assert await core.store.conversations.count_documents({}) == 0
    assert await stored_texts(core) == []


async def wait_for_messages(
    core: Core, count: int, supervisor: PollerSupervisor, channel: Channel
) -> None:
    """Wait for a background poll to land (an event, not a timing assumption); if it does
    not, say what the channel's last poll recorded and how the supervisor's poll ended."""
    try:
        async with asyncio.timeout(45):
            while True:
                if await core.store.messages.count_documents({}) >= count:
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        doc = await core.store.channels.find_one({"_id": channel.id}, {"poll": 1})
        task = supervisor.tasks.get(channel.id)
        ended = task.exception() if task and task.done() and not task.cancelled() else None
        raise AssertionError(
            f"no {count} messages after 45 s; poll: {doc}; polling ended with: {ended!r}"
        ) from None


async def stop(*supervisors: PollerSupervisor) -> None:
    """End their polls as `kith serve` does; one that does not end within 30 s fails here, not
    at the suite's timeout (whose report shows threads, not the awaiting task)."""
    for supervisor in supervisors:
        async with asyncio.timeout(30):
            await supervisor.stop()


async def test_two_supervisors_one_polls_and_the_other_takes_over_when_it_stops(
    core: Core, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver_fixture("plain_first_contact.eml")
    first = PollerSupervisor(core, owner="kith-a", lease_seconds=60)
    second = PollerSupervisor(core, owner="kith-b", lease_seconds=60)
    try:
        assert await first.claim_round() == [email_channel.id]
        assert await second.claim_round() == []
        await wait_for_messages(core, 1, first, email_channel)
        assert await second.claim_round() == []

        await stop(first)  # a clean shutdown releases the lease
        await mailbox.deliver_fixture("gbk_body.eml")
        assert await second.claim_round() == [email_channel.id]
        await wait_for_messages(core, 2, second, email_channel)
        assert len(await stored_texts(core)) == 2
    finally:
        await stop(first, second)


async def test_a_crashed_pollers_lease_expires_and_another_process_takes_over(
    core: Core, clock: ManualClock, email_channel: Channel, mailbox: Mailbox
) -> None:
    await mailbox.deliver_fixture("plain_first_contact.eml")
    lease = PollerSupervisor.lease_name(email_channel)
    assert await leases.acquire(core, lease, "kith-crashed", 60)  # held, never renewed
    survivor = PollerSupervisor(core, owner="kith-b", lease_seconds=60)
    try:
        assert await survivor.claim_round() == []
        clock.advance(59)
        assert await survivor.claim_round() == []
        clock.advance(2)
        assert await survivor.claim_round() == [email_channel.id]
        await wait_for_messages(core, 1, survivor, email_channel)
        assert await leases.holder(core, lease) == "kith-b"
    finally:
        await stop(survivor)
