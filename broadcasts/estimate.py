"""How many of an audience a broadcast would reach, before it is sent.

The figures come from the policy the send obeys (`kith.courtesy.policy.decide`), asked for
each customer as the worker asks, with nothing sent and no daily slot taken:

- `in_audience`: the segment's members now (counted up to `COUNT_CAP`), or the listed
  customers that exist;
- `reachable`: of those checked, who has an identity the platform lets Kith write to on one of
  the channels (consent set aside: `decide` asked with consent treated as unknown and no
  channel requiring a grant);
- `consented`: who would get it (`decide` says go, or hold until quiet hours end);
- `skipped`: why the others would not, most frequent first.

The cost is bounded: at most `SAMPLE` customers are checked (the first by id), and the answer
says so (`sampled`, `checked`), for the page to say "of a sample of 300". The daily cap is not
counted: it depends on the other sends of the customer's day when this one goes out.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kith.broadcasts.models import Broadcast
from kith.broadcasts.policy import Go, Hold, Skip, decide
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.models import Customer
from kith.core.storage import existing_ids
from kith.courtesy.facts import Facts
from kith.segments.filters import to_query
from kith.segments.records import parse_filter

SAMPLE = 300
COUNT_CAP = 100_000
COUNT_SECONDS = 5.0
TOP_REASONS = 5


class EstimateIn(BaseModel):
    """An audience and its channels, as the compose form has them before saving."""

    model_config = ConfigDict(extra="forbid")

    segment_id: str | None = Field(default=None, min_length=1, max_length=64)
    customer_ids: list[str] | None = Field(default=None, min_length=1, max_length=10_000)
    channels: list[str] = Field(min_length=1, max_length=8)
    send_by: datetime | None = None


class Reason(BaseModel):
    reason: str
    count: int


class Estimate(BaseModel):
    in_audience: int | None = Field(description="Customers in the audience now; null: timed out.")
    capped: bool = Field(description="The count stopped at its limit: at least `in_audience`.")
    checked: int = Field(description="Customers the policy was asked about.")
    sampled: bool = Field(description="`checked` is a sample (the first by id), not everyone.")
    reachable: int = Field(description="Of `checked`: an identity the platform lets Kith use.")
    consented: int = Field(description="Of `checked`: would be sent (now or after quiet hours).")
    held: int = Field(description="Of `consented`: held by quiet hours if sent now.")
    skipped: list[Reason] = Field(description="Why the others would be skipped, most first.")


async def estimate_for(core: Core, broadcast: Broadcast) -> Estimate:
    """A saved broadcast's estimate (a community broadcast's audience is its communities: each
    one's post is shown by the picker, so only their number is given)."""
    if broadcast.community_ids is not None:
        n = len(broadcast.community_ids)
        return Estimate(
            in_audience=n, capped=False, checked=0, sampled=False, reachable=0, consented=0,
            held=0, skipped=[],
        )  # fmt: skip
    return await estimate(
        core,
        broadcast.workspace_id,
        broadcast.segment_id,
        broadcast.customer_ids,
        broadcast.channels,
        broadcast.send_by,
    )


async def estimate_input(core: Core, workspace_id: str, body: EstimateIn) -> Estimate:
    """The compose form's estimate: the audience checked as on save."""
    if (body.segment_id is None) == (body.customer_ids is None):
        raise InvalidInput("give either segment_id or customer_ids", field="segment_id")
    core.channels.check_names(body.channels)
    ids = body.customer_ids
    if ids is not None:
        ids = await existing_ids(
            core.store.customers, workspace_id, ids, "customer_ids", "customer"
        )
    return await estimate(core, workspace_id, body.segment_id, ids, body.channels, body.send_by)


async def estimate(
    core: Core,
    workspace_id: str,
    segment_id: str | None,
    customer_ids: list[str] | None,
    channels: list[str],
    send_by: datetime | None,
) -> Estimate:
    now = core.clock.now()
    live: dict[str, Any] = {"workspace_id": workspace_id, "merged_into": None}
    if customer_ids is not None:
        query: dict[str, Any] = {**live, "_id": {"$in": sorted(set(customer_ids))}}
    else:
        raw = await _segment_filter(core, workspace_id, segment_id)
        query = {"$and": [live, to_query(parse_filter(core, raw), now)]}
    counting = core.store.customers.count_documents(query, limit=COUNT_CAP)
    try:
        in_audience: int | None = await asyncio.wait_for(counting, COUNT_SECONDS)
    except TimeoutError:
        in_audience = None
    docs = await core.store.customers.find(query, sort=[("_id", 1)], limit=SAMPLE).to_list(None)
    customers = [Customer.from_doc(doc) for doc in docs]
    ids = [c.id for c in customers]
    facts = await Facts.read(core, ids, [workspace_id])
    sent_anyway = _consent_set_aside(facts, workspace_id)
    reachable = consented = held = 0
    skipped: Counter[str] = Counter()
    for customer in customers:
        decision = await decide(core, customer, channels, now, send_by, facts)
        if isinstance(decision, Go | Hold):
            consented += 1
            held += isinstance(decision, Hold)
        elif isinstance(decision, Skip):
            skipped[str(decision.reason)] += 1
        if isinstance(decision, Go | Hold) or isinstance(
            await decide(core, customer, channels, now, None, sent_anyway), Go | Hold
        ):
            reachable += 1
    return Estimate(
        in_audience=in_audience,
        capped=in_audience is not None and in_audience >= COUNT_CAP,
        checked=len(customers),
        sampled=in_audience is None or len(customers) < in_audience,
        reachable=reachable,
        consented=consented,
        held=held,
        skipped=[Reason(reason=r, count=n) for r, n in skipped.most_common(TOP_REASONS)],
    )


def _consent_set_aside(facts: Facts, workspace_id: str) -> Facts:
    """The same facts (read once) as if nobody had refused and no channel required a grant:
    what `decide` then refuses is the platform's rule or no identity at all."""
    customers = {
        k: None if doc is None else {**doc, "consent": {}} for k, doc in facts.customers.items()
    }
    settings = facts.settings[workspace_id].model_copy(update={"require_granted": []})
    return replace(facts, customers=customers, settings={**facts.settings, workspace_id: settings})


async def _segment_filter(core: Core, workspace_id: str, segment_id: str | None) -> Any:
    found = await core.store.collection("segments").find_one(
        {"_id": segment_id, "workspace_id": workspace_id}, {"filter": 1}
    )
    if found is None or not isinstance(found.get("filter"), dict):
        raise InvalidInput("no such segment in this workspace", field="segment_id")
    return found["filter"]
