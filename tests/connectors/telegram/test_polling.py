"""Long polling: offsets that survive restarts, and one poller per channel across processes."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import pytest

from kith.connectors.telegram import channel_type
from kith.connectors.telegram.polling import TelegramPoller
from kith.core import leases
from kith.core.channel_records import get_channel
from kith.core.channels import ChannelRegistry
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.dead_letters import list_dead_letters
from kith.core.pollers import PollerSupervisor, PollFailed
from tests.connectors.telegram.conftest import (
    ALLOWED_FOR_COMMUNITIES,
    TelegramSetup,
    make_bot_channel,
    update,
)
from tests.connectors.telegram.fake_bot_api import FakeBotApi


@pytest.fixture
async def polled(core: Core, client: httpx.AsyncClient, workspace_id: str) -> TelegramSetup:
    return await make_bot_channel(core, client, workspace_id, mode="polling")


async def test_offset_is_stored_and_used_after_a_restart(
    polled: TelegramSetup, bot_api: FakeBotApi, core: Core
) -> None:
    channel = await get_channel(core, None, polled.channel_id)
    bot_api.queue_update(update("private_text"))
    bot_api.queue_update(update("group_text"))

    assert await TelegramPoller(timeout=0).poll_once(core, channel) == 0
    assert [m["text"] for m in await polled.messages()] == [
        "Hi! Is the blue kettle back in stock?",
        "Does anyone know how to descale it?",
    ]
    bot_api.queue_update(update("edited_text"))
    await TelegramPoller(timeout=0).poll_once(core, channel)  # a new process: state is in the db

    first, second = bot_api.called("getUpdates")
    assert "offset" not in first
    assert first["timeout"] == 0
    assert first["allowed_updates"] == ALLOWED_FOR_COMMUNITIES
    assert second["offset"] == 815000004  # the last stored update + 1
    [edited, _] = await polled.messages()
    assert edited["text"] == "Hi! Is the red kettle back in stock?"


async def test_an_update_seen_by_webhook_and_poll_is_stored_once(
    polled: TelegramSetup, bot_api: FakeBotApi, core: Core
) -> None:
    channel = await get_channel(core, None, polled.channel_id)
    await polled.deliver(update("photo_caption"))
    bot_api.queue_update(update("photo_caption"))
    await TelegramPoller(timeout=0).poll_once(core, channel)
    assert len(await polled.messages()) == 1


async def test_flood_control_on_get_updates_waits_as_told(
    polled: TelegramSetup, bot_api: FakeBotApi, core: Core
) -> None:
    channel = await get_channel(core, None, polled.channel_id)
    bot_api.fail_next(
        "getUpdates",
        (
            429,
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 3",
                "parameters": {"retry_after": 3},
            },
        ),
    )
    assert await TelegramPoller(timeout=0).poll_once(core, channel) == 3.0


async def test_a_webhook_left_active_is_reported_on_the_channel_and_waited_out(
    polled: TelegramSetup, bot_api: FakeBotApi, core: Core
) -> None:
    channel = await get_channel(core, None, polled.channel_id)
    bot_api.webhook = {"url": "https://elsewhere.example.com"}
    with pytest.raises(PollFailed) as failed:
        await TelegramPoller(timeout=0).poll_once(core, channel)
    assert failed.value.reason == "conflict"
    supervisor = PollerSupervisor(core, "w1", first_retry=5.0)
    assert await supervisor.poll(channel, TelegramPoller(timeout=0)) == 5.0
    assert await supervisor.poll(channel, TelegramPoller(timeout=0)) == 10.0  # backing off


async def test_a_rejected_token_shows_on_the_channel_until_polls_work_again(
    polled: TelegramSetup, bot_api: FakeBotApi, core: Core
) -> None:
    """Settings → Channels says why a polled bot hears nothing (the REST API's `poll`)."""
    channel = await get_channel(core, None, polled.channel_id)
    bot_api.fail_next("getUpdates", (401, {"ok": False, "error_code": 401, "description": "x"}))
    supervisor = PollerSupervisor(core, "w1", first_retry=5.0)
    assert await supervisor.poll(channel, TelegramPoller(timeout=0)) == 5.0
    failing = (await get_channel(core, None, channel.id)).poll
    assert failing is not None and failing.failing_since is not None
    assert (failing.reason, failing.failures) == ("auth_failed", 1)
    assert await supervisor.poll(channel, TelegramPoller(timeout=0)) == 0.0
    working = (await get_channel(core, None, channel.id)).poll
    assert working is not None and working.failing_since is None and working.reason is None
    assert working.last_ok_at is not None


async def stop(supervisor: PollerSupervisor) -> None:
    for task in supervisor.tasks.values():
        task.cancel()
    await asyncio.gather(*supervisor.tasks.values(), return_exceptions=True)


async def test_two_supervisors_one_polls_and_the_other_takes_over_from_the_offset(
    polled: TelegramSetup, bot_api: FakeBotApi, core: Core, clock: ManualClock
) -> None:
    registry = ChannelRegistry([replace(channel_type, poller=TelegramPoller(timeout=5))])
    one = PollerSupervisor(replace(core, channels=registry), owner="process-one")
    two = PollerSupervisor(replace(core, channels=registry), owner="process-two")
    bot_api.queue_update(update("private_text"))
    bot_api.queue_update(update("group_text"))

    assert await one.claim_round() == [polled.channel_id]
    assert await two.claim_round() == []
    # Both stored, offset advanced: process one is long-polling for what comes next.
    await asyncio.wait_for(bot_api.wait_for_call("getUpdates", offset=815000004), 10)
    assert len(await polled.messages()) == 2

    await stop(one)  # process one stops (releasing its lease); pretend it died holding it:
    assert await leases.acquire(core, "poll:" + polled.channel_id, "process-one", 60)
    assert await two.claim_round() == []
    clock.advance(61)
    bot_api.queue_update(update("start_payload", update_id=815000100))
    polls_before = len(bot_api.called("getUpdates"))
    assert await two.claim_round() == [polled.channel_id]
    await asyncio.wait_for(bot_api.wait_for_call("getUpdates", offset=815000101), 10)
    await stop(two)

    assert bot_api.called("getUpdates")[polls_before]["offset"] == 815000004
    assert [m["text"] for m in await polled.messages()] == [
        "Hi! Is the blue kettle back in stock?",
        "Does anyone know how to descale it?",
        "/start spring-promo",
    ]


async def test_a_polled_update_kith_cannot_store_is_kept_and_polling_goes_on(
    polled: TelegramSetup, bot_api: FakeBotApi, core: Core, workspace_id: str
) -> None:
    channel = await get_channel(core, None, polled.channel_id)
    unusable = update("private_text")
    unusable["message"]["from"]["first_name"] = "x" * 300  # over Kith's 256 for a name
    bot_api.queue_update(unusable)
    bot_api.queue_update(update("group_text"))
    await TelegramPoller(timeout=0).poll_once(core, channel)
    assert [m["text"] for m in await polled.messages()] == ["Does anyone know how to descale it?"]
    [kept] = await list_dead_letters(core, workspace_id)
    assert kept.channel_id == polled.channel_id and kept.preview is not None
    assert '"from":' in kept.preview  # Telegram's field names, as the webhook would get them
