"""Scheduled flows: saved through the API, kept in step with the bot, run where the bot may
speak up, once per fire, whatever the workers do."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from kith.bots import schedule
from kith.bots.engine import BotEngine
from kith.bots.knowledge import KnowledgeBase
from kith.bots.schedule import timer_key
from kith.core.auth import create_api_token, create_user
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.conversations import do_update_conversation
from kith.core.features import install
from kith.core.models import ConversationStatus, InboundUser
from kith.core.timers import TimerWorker, find_timers
from tests.bots.conftest import BotSetup
from tests.support.cast import api_channel

START = datetime(2026, 1, 1, tzinfo=UTC)  # ManualClock's start: a Thursday, 00:00 UTC
GREETING = {
    "id": "greet",
    "trigger": {"kind": "first_message"},
    "steps": [{"id": "hello", "type": "send_text", "text": "Hi!"}],
}


def morning(cron: str = "0 9 * * *", **trigger: Any) -> dict[str, Any]:
    return {
        "id": "morning",
        "trigger": {"kind": "schedule", "values": [cron], **trigger},
        "steps": [
            {
                "id": "say",
                "type": "send_text",
                "text": {"en": "Good morning {name}! Today's deals are up.", "zh": "早上好！"},
            }
        ],
    }


MORNING_TEXTS = {"Good morning Ada Lovelace! Today's deals are up.", "早上好！"}


async def scheduled_texts(bots: BotSetup, conversation_id: str) -> list[str]:
    return [t for t in await bots.bot_texts(conversation_id) if t in MORNING_TEXTS]


def _user(name: str) -> InboundUser:
    """Another customer; all are called Ada so the morning text reads the same."""
    return InboundUser(id=f"u-{name}", name="Ada Lovelace")


# -- saving ------------------------------------------------------------------------------


@pytest.fixture
async def auth(core: Core, workspace_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 't')}"}


@pytest.mark.parametrize(
    ("flow", "extra", "field"),
    [
        (morning("every day at nine"), {}, "flows.0.trigger.values"),
        (morning("0 9 * * 8"), {}, "flows.0.trigger.values"),
        (morning("0 9 30 2 *"), {}, "flows.0.trigger.values"),
        (
            {**morning(), "trigger": {"kind": "schedule", "values": []}},
            {},
            "flows.0.trigger.values",
        ),
        (morning(timezone="Europe/Atlantis"), {}, "flows.0.trigger.timezone"),
        (morning(reply_window_hours=72), {}, "flows.0.trigger.reply_window_hours"),
        (morning(), {"business_hours": {"timezone": "Nowhere/Land"}}, "business_hours.timezone"),
    ],
)
async def test_a_bad_schedule_is_refused_at_save_with_the_field(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    core: Core,
    flow: dict[str, Any],
    extra: dict[str, Any],
    field: str,
) -> None:
    body = {"name": "Deals", "flows": [flow], **extra}
    answer = await client.post("/api/v1/bots", json=body, headers=auth)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field
    assert await core.store.collection("bots").count_documents({}) == 0
    assert await core.store.timers.count_documents({}) == 0


async def test_the_timer_follows_the_bot_through_edits_disabling_and_deletion(
    client: httpx.AsyncClient, auth: dict[str, str], core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    body: dict[str, Any] = {
        "name": "Deals",
        "channel_ids": [channel.id],
        "flows": [morning(timezone="Asia/Shanghai")],
    }
    created = await client.post("/api/v1/bots", json=body, headers=auth)
    assert created.status_code == 201, created.text
    bot_id = created.json()["id"]

    async def timers() -> list[tuple[str, datetime | None]]:
        return [(t.key, t.due_at) for t in await find_timers(core, timer_key(bot_id))]

    key = timer_key(bot_id, "morning")
    assert await timers() == [(key, START + timedelta(hours=1))]  # 09:00 in Shanghai

    body["flows"] = [morning("30 18 * * *", timezone="Asia/Shanghai")]
    await client.put(f"/api/v1/bots/{bot_id}", json=body, headers=auth)
    assert await timers() == [(key, START + timedelta(hours=10, minutes=30))]

    await client.put(f"/api/v1/bots/{bot_id}", json={**body, "enabled": False}, headers=auth)
    assert await timers() == []
    await client.put(f"/api/v1/bots/{bot_id}", json=body, headers=auth)
    assert len(await timers()) == 1
    await client.put(f"/api/v1/bots/{bot_id}", json={**body, "flows": [GREETING]}, headers=auth)
    assert await timers() == []
    await client.put(f"/api/v1/bots/{bot_id}", json=body, headers=auth)
    assert (await client.delete(f"/api/v1/bots/{bot_id}", headers=auth)).status_code == 204
    assert await timers() == []


async def test_the_schedule_defaults_to_the_bots_business_hours_zone(bots: BotSetup) -> None:
    bot_id = await bots.install(
        flows=[morning()], business_hours={"timezone": "America/New_York"}, knowledge_base=False
    )
    [timer] = await find_timers(bots.core, timer_key(bot_id))
    assert timer.due_at == START + timedelta(hours=14)  # 09:00 in New York in winter


# -- running -----------------------------------------------------------------------------


async def test_a_scheduled_flow_speaks_only_where_the_bot_may(
    bots: BotSetup, core: Core, clock: ManualClock
) -> None:
    await bots.install(flows=[GREETING, morning()], knowledge_base=False)
    stale = await bots.say("anything new?", who="grace")  # Thursday 00:00
    clock.advance(30 * 3600)  # Friday 06:00: the fire of Thursday 09:00 was missed
    ada = await bots.say("hello")
    li = await bots.say("你好", who="li")
    owned = await bots.say("hi", user=_user("owned"))
    agent = await create_user(core, bots.workspace_id, "sam@shop.test", "password123")
    await do_update_conversation(core, owned.conversation, assignee_id=agent.id)
    handed_off = await bots.say("human", user=_user("handed-off"))
    resolved = await bots.say("thanks, bye", user=_user("resolved"))
    await do_update_conversation(core, resolved.conversation, status=ConversationStatus.resolved)
    clock.advance(3 * 3600)  # Friday 09:00

    assert await TimerWorker(core).run_once() == 1

    assert await scheduled_texts(bots, ada.conversation.id) == [
        "Good morning Ada Lovelace! Today's deals are up."
    ]
    assert await scheduled_texts(bots, li.conversation.id) == ["早上好！"]
    for skipped in (stale, owned, handed_off, resolved):
        assert await scheduled_texts(bots, skipped.conversation.id) == []
    assert await core.store.events.count_documents({"type": "bot.scheduled_flow"}) == 2


async def test_a_large_audience_is_read_page_by_page_and_each_hears_it_once(
    bots: BotSetup, core: Core, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedule, "CANDIDATE_PAGE", 2)  # five customers: three pages
    await bots.install(flows=[GREETING, morning()], knowledge_base=False)
    said = [await bots.say("hello", user=_user(f"c{i}")) for i in range(5)]
    clock.advance(9 * 3600)

    assert await TimerWorker(core).run_once() == 1

    for received in said:
        assert len(await scheduled_texts(bots, received.conversation.id)) == 1
    assert await core.store.events.count_documents({"type": "bot.scheduled_flow"}) == 5


async def test_a_scheduled_flow_waits_for_no_one_already_answering_a_question(
    bots: BotSetup, clock: ManualClock
) -> None:
    ask = {
        "id": "survey",
        "trigger": {"kind": "keyword", "values": ["survey"]},
        "steps": [{"id": "q", "type": "ask", "text": "Your email?", "attribute": "email"}],
    }
    await bots.install(flows=[ask, morning()], knowledge_base=False)
    asked = await bots.say("survey please")
    clock.advance(9 * 3600)

    await TimerWorker(bots.core).run_once()

    assert await bots.bot_texts(asked.conversation.id) == ["Your email?"]


async def test_missed_periods_fire_once_and_each_conversation_hears_it_once(
    bots: BotSetup, core: Core, clock: ManualClock
) -> None:
    await bots.install(flows=[GREETING, morning("*/10 * * * *")], knowledge_base=False)
    ada = await bots.say("hello")
    clock.advance(2 * 3600)  # twelve fire times pass with no worker running

    assert await TimerWorker(core).run_once() == 1
    assert await TimerWorker(core).run_once() == 0
    assert len(await scheduled_texts(bots, ada.conversation.id)) == 1
    clock.advance(600)
    assert await TimerWorker(core).run_once() == 1
    assert len(await scheduled_texts(bots, ada.conversation.id)) == 2


async def test_a_worker_that_dies_after_running_a_fire_does_not_make_it_run_twice(
    bots: BotSetup, core: Core, clock: ManualClock
) -> None:
    await bots.install(flows=[GREETING, morning()], knowledge_base=False)
    ada = await bots.say("hello")
    clock.advance(9 * 3600)
    dying = TimerWorker(core, owner="dying", lease_seconds=60)
    timer = await dying.claim()
    assert timer is not None
    await core.timer_handlers[timer.kind](
        core, timer
    )  # the flow ran; the process dies before settling

    clock.advance(60)
    assert await TimerWorker(core, owner="next").run_once() == 1

    assert len(await scheduled_texts(bots, ada.conversation.id)) == 1
    [moved] = await find_timers(core, "bot-schedule:")
    assert moved.due_at == START + timedelta(days=1, hours=9)


@pytest.fixture
def second_process(second_process: Core) -> Core:
    """Another Kith process (tests/conftest.py), with its own bot engine."""
    install(second_process, [BotEngine(KnowledgeBase()).feature()])
    return second_process


async def test_a_slow_worker_and_the_one_that_took_over_run_each_conversation_once(
    bots: BotSetup, core: Core, second_process: Core, clock: ManualClock
) -> None:
    await bots.install(flows=[GREETING, morning()], knowledge_base=False)
    conversations = [
        (await bots.say("hello", user=_user(f"customer-{n}"))).conversation.id for n in range(6)
    ]
    clock.advance(9 * 3600)
    slow = await TimerWorker(core, owner="slow", lease_seconds=60).claim()
    clock.advance(60)  # its lease ran out while it was still working
    took_over = await TimerWorker(second_process, owner="next").claim()
    assert slow is not None and took_over is not None and slow.fire_at == took_over.fire_at

    await asyncio.gather(
        core.timer_handlers[slow.kind](core, slow),
        second_process.timer_handlers[took_over.kind](second_process, took_over),
    )

    for conversation_id in conversations:
        assert len(await scheduled_texts(bots, conversation_id)) == 1
