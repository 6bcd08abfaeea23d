"""Segments as a feature: its collections, the membership consumer, the reconciliation
timers, the API and the page."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.core.consumers import Consumer
from kith.core.features import CustomerData, Feature, Index
from kith.segments import api, page
from kith.segments.membership import TYPES, consume
from kith.segments.reconcile import FILL, RECONCILE, on_fill_timer, on_reconcile_timer
from kith.segments.records import MEMBERS, SEGMENTS, SIZES

feature = Feature(
    name="segments",
    indexes=(
        Index(SEGMENTS, (("workspace_id", ASCENDING), ("_id", DESCENDING))),
        Index(MEMBERS, (("segment_id", ASCENDING), ("customer_id", ASCENDING)), {"unique": True}),
        Index(MEMBERS, (("customer_id", ASCENDING), ("segment_id", ASCENDING))),
        Index(SIZES, (("segment_id", ASCENDING), ("hour", ASCENDING))),
        Index(SIZES, (("purge_at", ASCENDING),), {"expireAfterSeconds": 0}),
    ),
    # A merge drops the merged customer's rows (the survivor is evaluated again): moving
    # them would collide with the survivor's own on the unique key.
    customer_data=(CustomerData(MEMBERS, merge_moves=False),),
    timers={RECONCILE: on_reconcile_timer, FILL: on_fill_timer},
    consumers=(Consumer("segments", TYPES, consume),),
    routers=(api.router, page.router),
)
