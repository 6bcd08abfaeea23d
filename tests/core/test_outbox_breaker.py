"""The circuit breaker per destination host: opens after failures in a row, lets one probe
through after the cool-down, closes on its success; while open, that host's messages wait
without spending attempts and other hosts are not affected."""

from __future__ import annotations

from kith.core.breaker import Breakers, State, destination
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, InboundUser, OutboundContent
from kith.core.outbox import OutboxWorker, send
from kith.core.pipeline import ingest
from tests.support.callbacks import CallbackServer
from tests.support.cast import inbound

AGENT = Author(kind=AuthorKind.agent, id="agent-1", name="Sam")
HOST = "integrator.test"


def test_opens_after_failures_in_a_row_then_half_opens_and_closes() -> None:
    clock = ManualClock()
    breakers = Breakers(clock, failures=3, cooldown=30, probe_wait=1)

    breakers.failed(HOST)
    breakers.failed(HOST)
    assert breakers.state(HOST) == State.closed and breakers.admit(HOST) == 0
    breakers.failed(HOST)
    assert breakers.state(HOST) == State.open
    assert breakers.admit(HOST) == 30
    assert breakers.admit("elsewhere.test") == 0  # per host

    clock.advance(29)
    assert breakers.admit(HOST) == 1
    clock.advance(1)
    assert breakers.state(HOST) == State.half_open
    assert breakers.admit(HOST) == 0  # the probe
    assert breakers.admit(HOST) == 1  # everyone else waits for its verdict
    breakers.succeeded(HOST)
    assert breakers.state(HOST) == State.closed and breakers.admit(HOST) == 0


def test_a_failed_probe_opens_the_circuit_for_another_cool_down() -> None:
    clock = ManualClock()
    breakers = Breakers(clock, failures=1, cooldown=10)
    breakers.failed(HOST)
    clock.advance(10)
    assert breakers.admit(HOST) == 0
    breakers.failed(HOST)
    assert breakers.state(HOST) == State.open and breakers.admit(HOST) == 10


def test_a_success_resets_the_count_and_a_deferred_probe_frees_the_turn() -> None:
    clock = ManualClock()
    breakers = Breakers(clock, failures=2, cooldown=10)
    breakers.failed(HOST)
    breakers.succeeded(HOST)
    breakers.failed(HOST)
    assert breakers.state(HOST) == State.closed
    breakers.failed(HOST)
    clock.advance(10)
    assert breakers.admit(HOST) == 0
    breakers.released(HOST)  # the probe was rate-limited before it reached the host
    assert breakers.admit(HOST) == 0  # so the next send probes instead


async def _conversations(core: Core, workspace_id: str, url: str, count: int) -> list:
    channel, _ = await create_channel(core, workspace_id, "api", url, {"callback_url": url})
    assert destination(channel) == url.split("/")[2]
    users = [InboundUser(id=f"{url}-{i}") for i in range(count)]
    return [(await ingest(core, channel, inbound(channel, user=u))).conversation for u in users]


async def test_an_open_circuit_defers_its_hosts_messages_without_spending_attempts(
    core: Core, workspace_id: str, callbacks: CallbackServer, clock: ManualClock
) -> None:
    tuned = {"outbox_breaker_failures": 2, "outbox_breaker_cooldown_seconds": 60}
    core.settings = core.settings.model_copy(update={**tuned, "outbox_concurrency": 1})
    down = await _conversations(core, workspace_id, "http://down.test/kith", 3)
    [up] = await _conversations(core, workspace_id, "http://up.test/kith", 1)
    callbacks.fail_next(503, 503)
    queued = [await send(core, c, OutboundContent(text="hi"), AGENT) for c in down]
    one_at_a_time = OutboxWorker(core)

    assert await one_at_a_time.run_once() == 3
    attempts = [(await _delivery(core, m.id))["attempts"] for m in queued]
    assert attempts == [1, 1, 0]  # two failures opened it; the third waits, unspent
    assert len(callbacks.requests) == 2

    await send(core, up, OutboundContent(text="other host"), AGENT)
    assert await one_at_a_time.run_once() == 1
    assert callbacks.requests[-1].headers["host"] == "up.test"

    clock.advance(59)  # the two retries come due while it is open: put off again, unspent
    assert await one_at_a_time.run_once() == 2
    assert len(callbacks.requests) == 3
    assert [(await _delivery(core, m.id))["attempts"] for m in queued] == [1, 1, 0]
    clock.advance(1)  # half-open: the first send probes, its success closes the circuit
    assert await one_at_a_time.run_once() == 3
    assert [(await _delivery(core, m.id))["status"] for m in queued] == ["sent"] * 3
    assert [(await _delivery(core, m.id))["attempts"] for m in queued] == [1, 1, 0]
    assert len(callbacks.requests) == 6


async def _delivery(core: Core, message_id: str) -> dict:
    return (await core.store.messages.find_one({"_id": message_id}))["delivery"]
