"""The webhooks feature: its collections and indexes, its consumer, its delivery worker and
its routes, in one object."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index
from kith.webhooks import page
from kith.webhooks.api import api_router, app_router
from kith.webhooks.consumer import CONSUMER
from kith.webhooks.store import DELIVERIES, ENDPOINTS
from kith.webhooks.worker import DeliveryWorker


def feature(core: Core) -> Feature:
    return Feature(
        name="webhooks",
        indexes=(
            # The consumer reads a workspace's endpoints on every event it is offered.
            Index(ENDPOINTS, (("workspace_id", ASCENDING), ("enabled", ASCENDING))),
            # The worker's claim: pending deliveries by due time.
            Index(DELIVERIES, (("status", ASCENDING), ("next_attempt_at", ASCENDING))),
            # The delivery log: an endpoint's, latest first.
            Index(
                DELIVERIES,
                (("endpoint_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)),
            ),
            Index(DELIVERIES, (("customer_id", ASCENDING),)),
            # The log is kept `KEEP_DELIVERIES` after a delivery's last try (`purge_at`).
            Index(DELIVERIES, (("purge_at", ASCENDING),), {"expireAfterSeconds": 0}),
        ),
        # A delivery's body may quote the customer (message.created): erased with them.
        customer_data=(CustomerData(DELIVERIES),),
        sealed=(ENDPOINTS,),  # each endpoint's signing secret (`kith.webhooks.signing`)
        consumers=(CONSUMER,),
        background=(DeliveryWorker(core).run_forever,),
        routers=(api_router, app_router, page.router),
    )
