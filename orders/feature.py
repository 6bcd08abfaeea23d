"""The orders feature: its collection (customer data, erased and merged with the customer),
indexes, the consumers that tell customers and keep their figures, the segment fields and
the routes, in one object."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index
from kith.orders import notices, page, summary
from kith.orders.api import api_router, app_router
from kith.orders.store import LATEST, ORDERS
from kith.segments.filters import FieldSpec, Kind

SEGMENT_FIELDS = (
    # Counts and sums: a customer who never ordered has 0 of them (`absent_is_zero`).
    FieldSpec("orders.count", "orders.count", Kind.number, absent_is_zero=True),
    FieldSpec("orders.last_at", "orders.last_at", Kind.date),
    # Per currency, in minor units: `orders.total.USD` gte 10000 is 100 dollars or more.
    FieldSpec("orders.total.", "orders.total", Kind.number, absent_is_zero=True),
)


LATEST_FIRST = ((LATEST, DESCENDING), ("_id", DESCENDING))


def feature(core: Core) -> Feature:
    return Feature(
        name="orders",
        indexes=(
            # A workspace's numbers are unique (the counter hands each out once).
            Index(ORDERS, (("workspace_id", ASCENDING), ("number", ASCENDING)), {"unique": True}),
            # A customer's orders, latest first (the panel, the figures), and by status: the
            # listings' sort, (placed_at, _id) descending.
            Index(ORDERS, (("customer_id", ASCENDING), *LATEST_FIRST)),
            Index(ORDERS, (("workspace_id", ASCENDING), ("status", ASCENDING), *LATEST_FIRST)),
            Index(ORDERS, (("workspace_id", ASCENDING), *LATEST_FIRST)),
        ),
        # Orders name the customer (and hold their address): erased with them, moved to the
        # survivor of a merge (whose figures the `order-summaries` consumer recomputes).
        customer_data=(CustomerData(ORDERS),),
        consumers=(
            Consumer("order-notices", notices.TYPES, notices.consume),
            Consumer("order-summaries", summary.MERGE_TYPES, summary.on_merge),
        ),
        segment_fields=SEGMENT_FIELDS,
        routers=(api_router, app_router, page.router),
    )
