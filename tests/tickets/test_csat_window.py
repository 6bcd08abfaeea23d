"""The survey and the channels' reply windows (WeChat: 48 hours after the customer's last
message), and its delay, on the durable timers with an injected clock: asked inside the
window, held for the customer's next message outside it and sent right after, skipped with
its reason once the wait runs out; a delayed survey checks the window when it is due."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from kith.core.timers import TimerWorker
from kith.tickets.csat import is_survey_answer
from kith.tickets.csat_models import CsatSettings
from kith.tickets.csat_store import save_settings
from kith.tickets.models import Status
from tests.support.consumers import drain
from tests.tickets.test_csat import Desk, open_desk

HOUR = 3600


@pytest.fixture
def clock() -> ManualClock:
    """At the real time: the embedded engine expires rate-limit windows by the wall clock."""
    return ManualClock(start=utcnow())


@pytest.fixture
async def desk(core: Core, clock: ManualClock, workspace_id: str) -> AsyncIterator[Desk]:
    async with open_desk(core, clock, workspace_id) as desk:
        yield desk


async def fire_timers(desk: Desk) -> None:
    await TimerWorker(desk.core).run_once()
    await drain(desk.core)


async def test_inside_the_window_the_question_goes_out_at_once(desk: Desk) -> None:
    received = await desk.says("订单没到", user="wx-1", on="wechat")
    ticket = await desk.ticket(received)
    desk.clock.advance(47 * HOUR)
    await desk.move(ticket, Status.solved)
    [question] = await desk.kiths(received.conversation.id)
    assert "请为我们的服务打分" in question.text


async def test_outside_the_window_it_waits_for_the_next_message_and_follows_it(
    desk: Desk,
) -> None:
    received = await desk.says("Where is my order?", user="wx-2", on="wechat")
    ticket = await desk.ticket(received)
    desk.clock.advance(49 * HOUR)
    await desk.move(ticket, Status.solved)
    assert await desk.kiths(received.conversation.id) == []  # WeChat would refuse it
    back = await desk.says("Thanks, it came today", user="wx-2", on="wechat")
    [question] = await desk.kiths(received.conversation.id)
    assert question.created_at >= back.message.created_at
    assert not await is_survey_answer(desk.core, back.message)  # it opened the window
    assert (await desk.csat(ticket))["asked_at"] is not None
    await desk.says("4", user="wx-2", on="wechat")
    assert (await desk.csat(ticket))["score"] == 4


async def test_a_window_that_stays_shut_skips_the_survey_with_its_reason(desk: Desk) -> None:
    received = await desk.says("Where is my order?", user="wx-3", on="wechat")
    ticket = await desk.ticket(received)
    desk.clock.advance(49 * HOUR)
    await desk.move(ticket, Status.solved)
    desk.clock.advance(167 * HOUR)
    await fire_timers(desk)
    assert (await desk.csat(ticket)).get("skipped") is None  # still waiting, a day short
    desk.clock.advance(2 * HOUR)
    await fire_timers(desk)
    csat = await desk.csat(ticket)
    assert (csat["skipped"], csat["asked_at"], csat["resolution"]) == ("outside_window", None, 1)
    [skipped] = await desk.events("ticket.csat_skipped")
    assert skipped.data["skipped"] == "outside_window"
    await desk.says("hello?", user="wx-3", on="wechat")  # too late: nothing is asked
    assert await desk.kiths(received.conversation.id) == []


async def test_a_delayed_survey_waits_on_a_timer_and_checks_the_window_when_due(
    desk: Desk,
) -> None:
    await save_settings(desk.core, desk.workspace_id, CsatSettings(delay_minutes=120))
    on_api = await desk.says("My order is late")
    on_wechat = await desk.says("我的订单晚了", user="wx-4", on="wechat")
    desk.clock.advance(46 * HOUR + 30 * 60)  # WeChat's window closes at 48 hours
    api_ticket, wechat_ticket = await desk.ticket(on_api), await desk.ticket(on_wechat)
    await desk.move(api_ticket, Status.solved)
    await desk.move(wechat_ticket, Status.solved)
    desk.clock.advance(118 * 60)  # the API ticket was solved a minute before the other
    await fire_timers(desk)
    assert await desk.kiths(on_api.conversation.id) == []  # a minute early
    desk.clock.advance(2 * 60)
    await fire_timers(desk)
    assert len(await desk.kiths(on_api.conversation.id)) == 1
    assert await desk.kiths(on_wechat.conversation.id) == []  # due after the window shut
    await desk.says("在吗", user="wx-4", on="wechat")
    assert len(await desk.kiths(on_wechat.conversation.id)) == 1


async def test_a_ticket_reopened_before_its_delayed_survey_is_not_asked(desk: Desk) -> None:
    await save_settings(desk.core, desk.workspace_id, CsatSettings(delay_minutes=60))
    received = await desk.says("Broken again")
    ticket = await desk.ticket(received)
    await desk.move(ticket, Status.solved)
    await desk.move(ticket, Status.open)
    desk.clock.advance(2 * HOUR)
    await fire_timers(desk)
    assert await desk.kiths(received.conversation.id) == []
    assert (await desk.csat(ticket))["skipped"] == "reopened"
