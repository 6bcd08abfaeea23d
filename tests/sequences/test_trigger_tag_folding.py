"""Tag triggers saved before tags were folded (`kith.sequences.tags`, both lanes): a stored
"tag added: Lead" never fired, as customers' tags are stored folded (`lead`) and triggers are
matched on the stored value. The start-up backfill folds them once (marked, idempotent, in
batches), and every save stores them folded, even a save that changes nothing else."""

from __future__ import annotations

import asyncio
import copy
import functools
from typing import Any

import httpx

from kith.core.backfills import BACKFILLS
from kith.core.context import Core
from kith.sequences.feature import feature
from kith.sequences.store import sequences, versions
from kith.sequences.tags import DONE_ID, backfill_trigger_tags, fold_old_trigger_tags
from tests.sequences.conftest import WELCOME, MakeSequence, People
from tests.sequences.test_triggers import enrolled, tag
from tests.support.cast import api_token
from tests.support.consumers import drain


async def stored_triggers(core: Core, sequence_id: str) -> list[dict[str, Any]]:
    doc = await sequences(core).find_one({"_id": sequence_id}, {"triggers": 1})
    assert doc is not None
    return list(doc["triggers"])


async def saved_before_folding(core: Core, sequence_id: str, *triggers: dict[str, Any]) -> None:
    """The sequence as a Kith before tag folding stored it (its trigger values as typed)."""
    await sequences(core).update_one({"_id": sequence_id}, {"$set": {"triggers": list(triggers)}})


async def test_an_old_mixed_case_tag_trigger_fires_once_folded_and_folding_twice_is_once(
    score: Core, people: People, make_sequence: MakeSequence
) -> None:
    sequence = await make_sequence(triggers=[{"kind": "tag_added", "value": "lead"}])
    scene = {"kind": "wechat_scene", "value": "Spring-QR"}  # not a tag: kept as it is
    await saved_before_folding(score, sequence.id, {"kind": "tag_added", "value": " Lead "}, scene)
    ada, grace = await people(2)
    await tag(score, ada, "LEAD")  # stored folded: `lead`
    await drain(score)
    assert await enrolled(score, sequence.id) == []  # the bug: the old trigger never fires

    assert await fold_old_trigger_tags(score) == 1
    assert await stored_triggers(score, sequence.id) == [
        {"kind": "tag_added", "value": "lead"},
        scene,
    ]
    await tag(score, grace, "Lead")
    await drain(score)
    [enrolment] = await enrolled(score, sequence.id)
    assert (enrolment.customer_id, enrolment.source) == (grace.id, "tag:lead")

    assert await fold_old_trigger_tags(score) == 0  # marked: the next start is one read
    mark = await score.store.collection(BACKFILLS).find_one({"_id": DONE_ID})
    assert mark is not None and mark["changed"] == 1
    await score.store.collection(BACKFILLS).delete_one({"_id": DONE_ID})
    assert await fold_old_trigger_tags(score) == 0  # and without the mark, nothing to change


async def test_the_backfill_goes_in_batches_and_runs_as_the_feature_starts(
    score: Core, make_sequence: MakeSequence
) -> None:
    made = [
        await make_sequence(active=n % 2 == 0, triggers=[{"kind": "tag_added", "value": "x"}])
        for n in range(5)
    ]
    for n, sequence in enumerate(made):
        await saved_before_folding(score, sequence.id, {"kind": "tag_added", "value": f"VIP-{n}"})
    folded = await make_sequence(triggers=[{"kind": "tag_added", "value": "vip"}])
    # Batches of two, as the feature's background task would do with its own batch.
    assert await fold_old_trigger_tags(score, batch=2) == 5
    for n, sequence in enumerate(made):
        assert await stored_triggers(score, sequence.id) == [
            {"kind": "tag_added", "value": f"vip-{n}"}
        ]
    assert await stored_triggers(score, folded.id) == [{"kind": "tag_added", "value": "vip"}]

    # The feature's start-up task is this backfill (beside the worker), as contacts' is.
    tasks = [t for t in feature(score).background if isinstance(t, functools.partial)]
    assert [t.func for t in tasks] == [backfill_trigger_tags]
    late = await make_sequence(triggers=[{"kind": "tag_added", "value": "x"}])
    await saved_before_folding(score, late.id, {"kind": "tag_added", "value": "Late"})
    await score.store.collection(BACKFILLS).delete_one({"_id": DONE_ID})
    await tasks[0](asyncio.Event())
    assert await stored_triggers(score, late.id) == [{"kind": "tag_added", "value": "late"}]


async def test_every_save_stores_tag_triggers_folded(
    score: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    auth = {"authorization": f"Bearer {await api_token(score, workspace_id)}"}
    body = {**copy.deepcopy(WELCOME), "triggers": [{"kind": "tag_added", "value": "  VIP "}]}
    made = await client.post("/api/v1/sequences", json=body, headers=auth)
    assert made.status_code == 201, made.text
    assert made.json()["triggers"] == [{"kind": "tag_added", "value": "vip"}]
    sequence_id = made.json()["id"]
    assert await stored_triggers(score, sequence_id) == [{"kind": "tag_added", "value": "vip"}]
    base = f"/api/v1/sequences/{sequence_id}"
    assert (await client.post(f"{base}/activate", headers=auth)).status_code == 200

    # Saved before folding, then saved again from the page as it reads (already folded):
    # the save changes nothing else, and still stores the trigger folded, without a version.
    await saved_before_folding(score, sequence_id, {"kind": "tag_added", "value": "VIP"})
    shown = (await client.get(base, headers=auth)).json()
    assert shown["triggers"] == [{"kind": "tag_added", "value": "vip"}]
    again = {k: shown[k] for k in ("name", "steps", "channels", "stop_on_reply", "triggers")}
    saved = await client.put(base, json=again, headers=auth)
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 1
    assert await stored_triggers(score, sequence_id) == [{"kind": "tag_added", "value": "vip"}]
    assert await versions(score).count_documents({"sequence_id": sequence_id}) == 1

    # A save that changes something else folds a mixed-case value too.
    await saved_before_folding(score, sequence_id, {"kind": "tag_added", "value": "VIP"})
    changed = {
        **again,
        "name": "Welcome again",
        "triggers": [{"kind": "tag_added", "value": "Gold"}],
    }
    assert (await client.put(base, json=changed, headers=auth)).status_code == 200
    assert await stored_triggers(score, sequence_id) == [{"kind": "tag_added", "value": "gold"}]
