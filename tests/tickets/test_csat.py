"""The satisfaction survey: asked once per resolution (retries, two workers), in the
customer's language, with star buttons where the channel has them and a 1–5 reply elsewhere,
a reason after a low score, the answer on the ticket and in the report, and no bot fallback
on an answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from kith.bots.engine import BotEngine
from kith.bots.flows import BotDefinition
from kith.bots.knowledge import KnowledgeBase
from kith.bots.store import save_bot
from kith.core.auth import create_api_token, create_user
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock, aware, utcnow
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel, Event, GroupRef, InboundMessage, InboundUser, Message
from kith.core.pipeline import ingest
from kith.core.received import Received
from kith.core.teams import add_member, create_team
from kith.nlp.feature import SentimentWorker
from kith.tickets.actions import do_create_ticket, do_move_ticket
from kith.tickets.csat import is_survey_answer, parse_score
from kith.tickets.csat_feature import feature as csat_feature
from kith.tickets.csat_feature import on_message, on_ticket_moved
from kith.tickets.csat_models import CsatSettings, CsatTexts
from kith.tickets.csat_store import save_settings
from kith.tickets.feature import feature as tickets_feature
from kith.tickets.models import Status, Ticket, TicketIn
from kith.web.app import create_app
from tests.support.consumers import drain
from tests.support.sentiment import NegativeOn
from tests.web.conftest import (
    PASSWORD,
    cheap_password_hashing,  # noqa: F401 (autouse fixture)
    sign_in,
)

CONFIGS: dict[str, dict[str, Any]] = {
    "api": {},
    "webchat": {},
    "telegram": {"bot_token": "123456:ABCdef"},
    "wechat": {"app_id": "wx0123456789abcdef", "app_secret": "s" * 16, "token": "tok123"},
}


@pytest.fixture
def clock() -> ManualClock:
    """At the real time: the embedded engine expires rate-limit windows by the wall clock."""
    return ManualClock(start=utcnow())


@dataclass
class Desk:
    """A channel of each kind, customers who write on them, tickets an agent solves."""

    core: Core
    clock: ManualClock
    workspace_id: str
    http: httpx.AsyncClient
    token: str
    app: Any
    channels: dict[str, Channel] = field(default_factory=dict)
    n: int = 0

    async def says(
        self,
        text: str,
        user: str = "ada",
        on: str = "api",
        payload: str | None = None,
        locale: str | None = None,
    ) -> Received:
        """A customer writes (a minute after whatever came before); the consumers run."""
        self.n += 1
        self.clock.advance(60)
        channel = self.channels[on]
        received = await ingest(
            self.core,
            channel,
            InboundMessage.on(
                channel,
                channel_message_id=f"m-{self.n}",
                user=InboundUser(id=user, name=user, locale=locale),
                text=text,
                payload=payload,
            ),
        )
        await drain(self.core)
        return received

    async def ticket(self, received: Received, **fields: Any) -> Ticket:
        body = TicketIn(subject="Order late", conversation_id=received.conversation.id, **fields)
        return await do_create_ticket(self.core, self.workspace_id, body)

    async def move(self, ticket: Ticket, to: Status) -> Ticket:
        self.clock.advance(60)
        moved = await do_move_ticket(self.core, self.workspace_id, ticket.id, to)
        await drain(self.core)
        return moved

    async def kiths(self, conversation_id: str) -> list[Message]:
        """What Kith itself said on the conversation (the survey's messages), in order."""
        docs = (
            await self.core.store.messages.find(
                {"conversation_id": conversation_id, "direction": "out", "author.name": "Kith"}
            )
            .sort("created_at", 1)
            .to_list(None)
        )
        return [Message.from_doc(d) for d in docs]

    async def csat(self, ticket: Ticket) -> dict[str, Any]:
        answer = await self.http.get(
            f"/api/v1/tickets/{ticket.id}", headers={"Authorization": f"Bearer {self.token}"}
        )
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["csat"] or {})

    async def events(self, type_: str) -> list[Event]:
        docs = await self.core.store.events.find({"type": type_}).to_list(None)
        return [Event.from_doc(d) for d in docs]


@contextlib.asynccontextmanager
async def open_desk(core: Core, clock: ManualClock, workspace_id: str) -> AsyncIterator[Desk]:
    """The tickets and the survey installed, the app, and one channel of each kind."""
    install(core, [tickets_feature(core), csat_feature(core)])
    token = await create_api_token(core, workspace_id, "tests")
    app = create_app(core=core, run_workers=False)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
            desk = Desk(core, clock, workspace_id, http, token, manager.app)
            for type_name, config in CONFIGS.items():
                channel, _ = await create_channel(core, workspace_id, type_name, type_name, config)
                desk.channels[type_name] = channel
            yield desk


@pytest.fixture
async def desk(core: Core, clock: ManualClock, workspace_id: str) -> AsyncIterator[Desk]:
    async with open_desk(core, clock, workspace_id) as desk:
        yield desk


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("5", 5),
        (" 4 ", 4),
        ("３", 3),
        ("五", 5),
        ("五星", 5),
        ("2分", 2),
        ("★★★★", 4),
        ("1 star", 1),
        ("5!", 5),
        ("6", None),
        ("0", None),
        ("5 days late", None),
        ("十", None),
        ("", None),
    ],
)
def test_a_score_is_a_whole_message(text: str, score: int | None) -> None:
    assert parse_score(text) == score


async def test_solving_asks_once_per_resolution_despite_retries_and_two_workers(
    desk: Desk, second_process: Core
) -> None:
    received = await desk.says("My order is late")
    ticket = await desk.ticket(received)
    await desk.move(ticket, Status.solved)  # the consumer asks
    [moved] = await desk.events("ticket.status_changed")
    await asyncio.gather(  # the same event again, on two workers at once
        on_ticket_moved(desk.core, moved), on_ticket_moved(second_process, moved)
    )
    await on_ticket_moved(desk.core, moved)  # and a retry after them
    [question] = await desk.kiths(received.conversation.id)
    assert "#1" in question.text
    assert len(await desk.events("ticket.csat_requested")) == 1
    assert (await desk.csat(ticket))["resolution"] == 1
    await desk.move(ticket, Status.open)  # reopened and solved again: a new resolution
    await desk.move(ticket, Status.solved)
    asked = await desk.kiths(received.conversation.id)
    assert len(asked) == 2
    assert (await desk.csat(ticket))["resolution"] == 2


async def test_the_question_is_in_the_customers_language(desk: Desk) -> None:
    by_locale = await desk.says("hello", user="li", locale="zh-CN")
    by_words = await desk.says("我的订单还没到", user="wang")
    by_default = await desk.says("Where is my parcel?", user="ada")
    for received in (by_locale, by_words, by_default):
        await desk.move(await desk.ticket(received), Status.solved)
    [zh_locale] = await desk.kiths(by_locale.conversation.id)
    [zh_words] = await desk.kiths(by_words.conversation.id)
    [en] = await desk.kiths(by_default.conversation.id)
    assert "请为我们的服务打分" in zh_locale.text
    assert "请为我们的服务打分" in zh_words.text
    assert en.text.startswith("Your ticket #3 is solved")
    own = CsatTexts(question="Ticket {number} done. Score us 1-5?")
    await save_settings(desk.core, desk.workspace_id, CsatSettings(texts={"en": own}))
    again = await desk.says("One more thing", user="grace")
    await desk.move(await desk.ticket(again), Status.solved)
    [overridden] = await desk.kiths(again.conversation.id)
    assert overridden.text == "Ticket 4 done. Score us 1-5?"


async def test_stars_where_the_channel_has_buttons_a_number_elsewhere(desk: Desk) -> None:
    on_telegram = await desk.says("hi", on="telegram")
    on_wechat = await desk.says("hi", on="wechat")
    for received in (on_telegram, on_wechat):
        await desk.move(await desk.ticket(received), Status.solved)
    [stars] = await desk.kiths(on_telegram.conversation.id)
    [plain] = await desk.kiths(on_wechat.conversation.id)
    assert [b.label for b in stars.buttons] == ["★", "★★", "★★★", "★★★★", "★★★★★"]
    assert plain.buttons == [] and "reply with a number" in plain.text
    pressed = stars.buttons[3].payload
    assert pressed is not None and len(pressed) <= 64  # the widget's and Slack's limit
    await desk.says("★★★★", on="telegram", payload=pressed)  # a press carries its label
    await desk.says("５", on="wechat")
    telegram_ticket, wechat_ticket = await _tickets(desk)
    assert (await desk.csat(telegram_ticket))["score"] == 4
    assert (await desk.csat(wechat_ticket))["score"] == 5
    thanks = await desk.kiths(on_wechat.conversation.id)
    assert [m.text for m in thanks][1:] == ["Thank you for your feedback!"]


async def _tickets(desk: Desk) -> list[Ticket]:
    docs = await desk.core.store.collection("tickets").find().sort("number", 1).to_list(None)
    return [Ticket.from_doc(d) for d in docs]


async def test_a_low_score_asks_for_a_reason_once_and_keeps_the_next_text(desk: Desk) -> None:
    received = await desk.says("The app crashes", user="li", locale="zh-CN")
    ticket = await desk.ticket(received)
    await desk.move(ticket, Status.solved)
    await desk.says("二", user="li")
    await desk.says("二", user="li")  # the same again is the reason, not a second score
    await desk.says("修了三次才好", user="li")  # after the reason: just a message
    for event in await desk.events("message.received"):
        await on_message(desk.core, event)  # every answer handled again: a consumer retry
    csat = await desk.csat(ticket)
    assert (csat["score"], csat["reason"]) == (2, "二")
    assert csat["answered_at"] is not None and csat["asked_at"] is not None
    texts = [m.text for m in await desk.kiths(received.conversation.id)]
    assert texts[1:] == ["很抱歉没能让您满意。请告诉我们哪里可以做得更好？", "感谢您的反馈！"]
    received_events = await desk.events("ticket.csat_received")
    answers = [(e.data["score"], e.data["reason"]) for e in received_events]
    assert sorted(answers, key=repr) == [(2, "二"), (2, None)]  # one instant: any order


async def test_an_angry_reason_for_a_low_score_opens_no_second_ticket(desk: Desk) -> None:
    sentiment = SentimentWorker(desk.core, NegativeOn("nobody"))
    received = await desk.says("The kettle leaks")
    ticket = await desk.ticket(received)
    await desk.move(ticket, Status.solved)
    await desk.says("2")
    await desk.says("Still leaking and nobody called me")
    await sentiment.drain()
    await drain(desk.core)
    assert await desk.events("conversation.escalated")  # the reason did tip the sentiment
    assert [t.id for t in await _tickets(desk)] == [ticket.id]
    assert (await desk.csat(ticket))["reason"] == "Still leaking and nobody called me"


async def test_only_replies_within_the_answer_window_count(desk: Desk) -> None:
    received = await desk.says("Refund please")
    ticket = await desk.ticket(received)
    await desk.move(ticket, Status.solved)
    desk.clock.advance(73 * 3600)  # past the default 72 hours
    late = await desk.says("5")
    assert not await is_survey_answer(desk.core, late.message)
    assert (await desk.csat(ticket))["score"] is None


async def test_the_answer_is_not_the_bots_to_answer(desk: Desk) -> None:
    install(desk.core, [BotEngine(KnowledgeBase()).feature()])
    api = desk.channels["api"]
    bot = {"name": "Kithy", "channel_ids": [api.id], "knowledge_base": False, "flows": []}
    await save_bot(desk.core, desk.workspace_id, BotDefinition.model_validate(bot))
    received = await desk.says("My parcel is lost")
    conversation = received.conversation.id
    ticket = await desk.ticket(received)
    await desk.move(ticket, Status.solved)
    score = await desk.says("1")
    reason = await desk.says("It took a week")
    assert await is_survey_answer(desk.core, score.message)
    assert await is_survey_answer(desk.core, reason.message)
    other = await desk.says("what are your opening hours?")  # anything else: the bot answers
    assert not await is_survey_answer(desk.core, other.message)
    docs = (
        await desk.core.store.messages.find({"conversation_id": conversation, "direction": "out"})
        .sort("created_at", 1)
        .to_list(None)
    )
    said = sorted((m.message.created_at, m.message.text) for m in (received, score, reason, other))

    def answered(when: datetime) -> str:  # each message comes a minute after the one before
        return max((at, text) for at, text in said if at < aware(when))[1]

    bots = {answered(d["created_at"]) for d in docs if d["author"]["kind"] == "bot"}
    # The bot answered the first message and the last (a miss, and a second miss hands
    # over), never the score or the reason.
    assert bots == {"My parcel is lost", "what are your opening hours?"}


async def test_the_report_counts_answers_per_agent_and_team(desk: Desk) -> None:
    bob = await create_user(desk.core, desk.workspace_id, "bob@kith.test", PASSWORD, name="Bob")
    team = await create_team(desk.core, desk.workspace_id, "Support", [desk.channels["api"].id])
    for user, answer, assignee in (("ada", "5", bob.id), ("grace", "4", None), ("li", None, None)):
        received = await desk.says("help", user=user)
        ticket = await desk.ticket(received, assignee_id=assignee, team_id=team.id)
        await desk.move(ticket, Status.solved)
        if answer:
            await desk.says(answer, user=user)
    desk.clock.advance(60)
    headers = {"Authorization": f"Bearer {desk.token}"}
    start = (desk.clock.now() - timedelta(days=1)).isoformat()
    report = await desk.http.get("/api/v1/tickets/csat", params={"from": start}, headers=headers)
    assert report.status_code == 200, report.text
    total = report.json()["total"]
    assert (total["asked"], total["answered"], total["average"]) == (3, 2, 4.5)
    assert total["response_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert total["distribution"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1}
    agents = {row["name"]: (row["asked"], row["average"]) for row in report.json()["agents"]}
    assert agents == {"Bob": (1, 5.0), None: (2, 4.0)}
    [support] = report.json()["teams"]
    assert (support["name"], support["answered"]) == ("Support", 2)
    backwards = await desk.http.get(
        "/api/v1/tickets/csat",
        params={"from": desk.clock.now().isoformat(), "to": start},
        headers=headers,
    )
    assert (backwards.status_code, backwards.json()["error"]["field"]) == (422, "from")


async def test_agents_see_the_report_of_their_teams_tickets_only(desk: Desk) -> None:
    api = desk.channels["api"]
    support = await create_team(desk.core, desk.workspace_id, "Support", [api.id])
    other = await create_team(desk.core, desk.workspace_id, "Other", [desk.channels["wechat"].id])
    for name, team in (("bob", support), ("carol", other)):
        user = await create_user(desk.core, desk.workspace_id, f"{name}@kith.test", PASSWORD)
        await add_member(desk.core, desk.workspace_id, team.id, user.id)
    received = await desk.says("help")
    await desk.move(await desk.ticket(received, team_id=support.id), Status.solved)
    await desk.says("5")
    desk.clock.advance(60)
    seen = {}
    for name in ("bob", "carol"):
        transport = httpx.ASGITransport(app=desk.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
            assert (await sign_in(http, f"{name}@kith.test")).status_code == 303
            report = await http.get("/app/api/tickets/csat")
            assert report.status_code == 200, report.text
            seen[name] = report.json()["total"]["answered"]
    assert seen == {"bob": 1, "carol": 0}


async def test_an_agents_report_counts_the_tickets_of_no_team_on_their_channels(
    desk: Desk,
) -> None:
    """As the demo's support agent: the ticket they see (no team, on their team's channel)
    and its rating are in their report; another team's agent sees neither."""
    support = await create_team(desk.core, desk.workspace_id, "Support", [desk.channels["api"].id])
    other = await create_team(desk.core, desk.workspace_id, "Other", [desk.channels["wechat"].id])
    for name, team in (("bob", support), ("carol", other)):
        user = await create_user(desk.core, desk.workspace_id, f"{name}@kith.test", PASSWORD)
        await add_member(desk.core, desk.workspace_id, team.id, user.id)
    ticket = await desk.ticket(await desk.says("help"))
    assert ticket.team_id is None
    await desk.move(ticket, Status.solved)
    await desk.says("4")
    desk.clock.advance(60)
    seen = {}
    for name in ("bob", "carol"):
        transport = httpx.ASGITransport(app=desk.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kith.test") as http:
            assert (await sign_in(http, f"{name}@kith.test")).status_code == 303
            sees = (await http.get(f"/app/api/tickets/{ticket.id}")).status_code
            report = await http.get("/app/api/tickets/csat")
            assert report.status_code == 200, report.text
            total = report.json()["total"]
            seen[name] = (sees, total["answered"], total["average"])
    assert seen == {"bob": (200, 1, 4.0), "carol": (404, 0, None)}


async def test_survey_settings_are_checked_and_kept(desk: Desk) -> None:
    headers = {"Authorization": f"Bearer {desk.token}"}
    url = "/api/v1/tickets/csat/settings"
    assert (await desk.http.get(url, headers=headers)).json()["delay_minutes"] == 0
    bad = await desk.http.put(url, json={"delay_minutes": -1}, headers=headers)
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "delay_minutes")
    unknown = await desk.http.put(url, json={"texts": {"EN!": {}}}, headers=headers)
    assert unknown.status_code == 422
    own = {"delay_minutes": 30, "texts": {"ja": {"question": "評価してください (1-5)"}}}
    assert (await desk.http.put(url, json=own, headers=headers)).status_code == 200
    kept = (await desk.http.get(url, headers=headers)).json()
    assert (kept["delay_minutes"], kept["texts"]["ja"]["question"]) == (
        30,
        "評価してください (1-5)",
    )


async def test_a_ticket_on_a_group_is_solved_without_asking_the_group(desk: Desk) -> None:
    """An agent opened it by hand on the group's conversation: the survey would go to all."""
    channel = desk.channels["api"]
    group = GroupRef(id="-100777", title="Kettle Club", kind="supergroup")
    message = InboundMessage.on(
        channel,
        channel_message_id="in-group",
        user=InboundUser(id="ada", name="Ada"),
        thread_key=group.id,
        group=group,
        text="The club's kettle leaks",
    )
    received = await ingest(desk.core, channel, message)
    ticket = await desk.ticket(received)
    await desk.move(ticket, Status.solved)
    assert await desk.kiths(received.conversation.id) == []
    assert (await desk.csat(ticket))["skipped"] == "group_conversation"
