"""A sequence's webhook key, as bots have one: made or replaced through the API (shown that
once), it signs the sequence's webhook steps as bots' webhook steps are signed."""

from __future__ import annotations

import httpx

from kith.core.clock import ManualClock, ScaledClock
from kith.core.context import Core
from kith.core.signatures import SIGNATURE_HEADER, sign
from kith.sequences.enrol import enrol
from kith.sequences.runner import SequenceWorker
from kith.sequences.webhook_keys import new_webhook_secret
from tests.sequences.conftest import Hook, MakeSequence, People
from tests.support.cast import api_token


async def _sequence(http: httpx.AsyncClient, auth: dict[str, str], url: str) -> tuple[str, str]:
    """A sequence with a webhook step, activated: its id and the key its creation showed."""
    steps = [{"id": "hook", "type": "webhook", "url": url}, {"id": "t", "type": "tag", "tag": "x"}]
    body = {"name": "hook", "channels": ["api"], "steps": steps}
    made = await http.post("/api/v1/sequences", json=body, headers=auth)
    assert made.status_code == 201, made.text
    sequence_id = str(made.json()["id"])
    moved = await http.post(f"/api/v1/sequences/{sequence_id}/activate", headers=auth)
    assert moved.status_code == 200, moved.text
    return sequence_id, str(made.json()["webhook_secret"])


async def _signed_with(
    score: Core, workspace_id: str, people: People, hook: Hook, sequence_id: str, secret: str
) -> None:
    """A customer enrolled now: the webhook step's POST carries `secret`'s signature."""
    (ada,) = await people(1)
    await enrol(score, workspace_id, sequence_id, ada.id, "api")
    await SequenceWorker(score).run_once()
    (request,) = hook.requests
    stamp = int(score.clock.now().timestamp())
    assert request.headers[SIGNATURE_HEADER.lower()] == sign(secret, stamp, request.body)


async def test_a_new_sequence_signs_with_the_key_its_creation_showed(
    score: Core, client: httpx.AsyncClient, workspace_id: str, people: People, hook: Hook
) -> None:
    auth = {"authorization": f"Bearer {await api_token(score, workspace_id)}"}
    sequence_id, secret = await _sequence(client, auth, hook.url)
    shown = (await client.get(f"/api/v1/sequences/{sequence_id}", headers=auth)).json()
    assert shown["webhook_secret"] is None  # shown that once
    await _signed_with(score, workspace_id, people, hook, sequence_id, secret)


async def test_a_sequence_webhook_step_is_signed_with_the_key_the_api_made(
    score: Core, client: httpx.AsyncClient, workspace_id: str, people: People, hook: Hook
) -> None:
    """Regression (QA sequences #1): no route made a key, so every webhook step went unsigned."""
    auth = {"authorization": f"Bearer {await api_token(score, workspace_id)}"}
    sequence_id, _ = await _sequence(client, auth, hook.url)
    route = f"/api/v1/sequences/{sequence_id}/webhook-secret"
    first = (await client.post(route, headers=auth)).json()["webhook_secret"]
    answer = await client.post(route, headers=auth)
    assert answer.status_code == 200, answer.text
    secret = answer.json()["webhook_secret"]
    assert secret != first  # a rotation replaces the key at once
    shown = (await client.get(f"/api/v1/sequences/{sequence_id}", headers=auth)).text
    assert secret not in shown and first not in shown
    await _signed_with(score, workspace_id, people, hook, sequence_id, secret)
    missing = await client.post("/api/v1/sequences/nope/webhook-secret", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "sequence_id"


async def test_the_signed_time_is_the_wall_clocks_when_kiths_runs_ahead(
    score: Core,
    workspace_id: str,
    people: People,
    make_sequence: MakeSequence,
    hook: Hook,
    clock: ManualClock,
) -> None:
    """Regression: under `kith demo` (an hour a second) the signature carried demo time, and a
    receiver checking its freshness against the real time refused every request."""
    ticks = [0.0]
    score.clock = ScaledClock(3600, base=clock, monotonic=lambda: ticks[0])
    ticks[0] = 10.0  # ten of Kith's hours on; the wall clock has not moved
    (ada,) = await people(1)
    steps = [{"id": "hook", "type": "webhook", "url": hook.url}]
    sequence = await make_sequence(steps=steps)
    secret = await new_webhook_secret(score, workspace_id, sequence.id)
    assert secret is not None
    await enrol(score, workspace_id, sequence.id, ada.id, "api")
    await SequenceWorker(score).run_once()
    (request,) = hook.requests
    wall = int(clock.now().timestamp())
    assert int(score.clock.now().timestamp()) - wall == 10 * 3600
    assert request.headers[SIGNATURE_HEADER.lower()] == sign(secret, wall, request.body)
