"""Communities feed segments (`communities`, `communities.joined_at`, `referrals.count` on
the customer) and sequence triggers (a community joined, N members referred)."""

from __future__ import annotations

from typing import Any

import pytest

from kith.core.clock import ManualClock
from kith.core.errors import InvalidInput
from kith.core.features import install
from kith.segments.filters import matches, parse, to_query
from kith.segments.records import installed_fields
from kith.sequences.actions import do_create_sequence, move
from kith.sequences.feature import feature as sequences_feature
from kith.sequences.models import SequenceIn, Status
from kith.sequences.store import enrolments
from tests.communities.referral_support import (
    BotApiWithMe,
    Group,
    customer_of,
    install_admin,
    link,
    link_name,
    make_group,
    private,
)
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup
from tests.support.consumers import drain

ADA, BOB, CARL = 424242001, 500001, 500002
DAY = 24 * 3600


@pytest.fixture
def callbacks() -> BotApiWithMe:
    return BotApiWithMe(token=BOT_TOKEN)


@pytest.fixture
async def group(telegram: TelegramSetup) -> Group:
    install_admin(telegram.core)
    made = await make_group(telegram)
    await telegram.deliver(private(ADA, "Ada", "hello", 1))
    await drain(telegram.core)
    return made


async def figures(group: Group, user: int) -> dict[str, Any]:
    customer = await customer_of(group.core, group.telegram.channel_id, user)
    doc = await group.core.store.customers.find_one({"_id": customer})
    assert doc is not None
    return dict(doc)


async def members_of(group: Group, segment_id: str) -> set[str]:
    answer = await group.telegram.http.get(
        f"/api/v1/segments/{segment_id}/customers", headers=group.telegram.auth
    )
    assert answer.status_code == 200, answer.text
    return {row["id"] for row in answer.json()["items"]}


async def test_the_customer_figures_follow_joins_leaves_and_credits(
    group: Group, clock: ManualClock
) -> None:
    via = link_name(await link(group, ADA))
    await group.join(BOB, "Bob", via)
    bob = await figures(group, BOB)
    assert bob["communities"]["ids"] == [group.id]
    assert bob["communities"]["joined_at"] is not None
    assert (await figures(group, ADA))["referrals"]["count"] == 1
    clock.advance(DAY)
    await group.leave(BOB, "Bob")  # within the window: the credit goes too
    assert (await figures(group, BOB))["communities"]["ids"] == []
    assert (await figures(group, ADA))["referrals"]["count"] == 0


async def test_segments_filter_on_communities_and_referrals(
    group: Group, clock: ManualClock
) -> None:
    in_group = {"field": "communities", "op": "contains", "value": group.id}
    recent = {"field": "communities.joined_at", "op": "within_days", "value": 7}
    referrer = {"field": "referrals.count", "op": "gte", "value": 1}
    made = []
    for name, rule in (("members", {"all": [in_group, recent]}), ("referrers", referrer)):
        answer = await group.telegram.http.post(
            "/api/v1/segments", json={"name": name, "filter": rule}, headers=group.telegram.auth
        )
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["id"])
    members, referrers = made

    await group.join(BOB, "Bob", link_name(await link(group, ADA)))
    await group.join(CARL, "Carl")
    await drain(group.core)
    bob, carl, ada = [await figures(group, u) for u in (BOB, CARL, ADA)]
    assert await members_of(group, members) == {bob["_id"], carl["_id"]}
    assert await members_of(group, referrers) == {ada["_id"]}

    fields = installed_fields(group.core)
    node = parse({"all": [in_group, recent]}, fields)
    now = clock.now()
    assert matches(node, bob, now) and not matches(node, ada, now)
    found = await group.core.store.customers.find(to_query(node, now), {"_id": 1}).to_list(None)
    assert {doc["_id"] for doc in found} == {bob["_id"], carl["_id"]}


TRIGGERED: dict[str, Any] = {
    "channels": ["telegram"],
    "steps": [{"id": "hello", "type": "send", "message": {"text": {"en": "Welcome!"}}}],
}


async def test_joining_and_referring_enrol_through_triggers(
    group: Group, workspace_id: str
) -> None:
    core = group.core
    install(core, [sequences_feature(core)])
    await core.start()
    made = []
    for name, trigger in (
        ("joined", {"kind": "community_joined", "value": group.id}),
        ("referred two", {"kind": "referrals_reached", "value": "2"}),
    ):
        body = SequenceIn.model_validate({**TRIGGERED, "name": name, "triggers": [trigger]})
        sequence = await do_create_sequence(core, workspace_id, body)
        made.append((await move(core, workspace_id, sequence.id, Status.active)).id)
    joined, referred = made
    via = link_name(await link(group, ADA))
    await group.join(BOB, "Bob", via)
    await drain(core)
    bob = await customer_of(core, group.telegram.channel_id, BOB)
    ada = await customer_of(core, group.telegram.channel_id, ADA)
    assert await enrolled(group, joined) == {(bob, f"community_joined:{group.id}")}
    assert await enrolled(group, referred) == set()
    await group.join(CARL, "Carl", via)
    await drain(core)
    assert await enrolled(group, referred) == {(ada, "referrals_reached:2")}


async def test_a_referrals_trigger_needs_a_number(group: Group, workspace_id: str) -> None:
    for value in ("a", "0", None):
        trigger = {"kind": "referrals_reached", "value": value}
        body = SequenceIn.model_validate({**TRIGGERED, "name": "x", "triggers": [trigger]})
        with pytest.raises(InvalidInput) as refused:
            await do_create_sequence(group.core, workspace_id, body)
        assert refused.value.field == "triggers.0.value"


async def enrolled(group: Group, sequence_id: str) -> set[tuple[str, str]]:
    rows = await enrolments(group.core).find({"sequence_id": sequence_id}).to_list(None)
    return {(row["customer_id"], row["source"]) for row in rows}
