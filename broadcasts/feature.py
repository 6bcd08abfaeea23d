"""The broadcasts feature: its collections, consumer, worker and routes, in one object."""

from __future__ import annotations

from pymongo import ASCENDING

from kith.broadcasts import links, stats
from kith.broadcasts.api import api_router, app_router
from kith.broadcasts.audience import RECIPIENTS
from kith.broadcasts.page import router as page_router
from kith.broadcasts.worker import BroadcastWorker
from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index

STATS_EVENTS = ("message.delivered", "message.failed", "message.received", "consent.changed")


def feature(core: Core) -> Feature:
    return Feature(
        name="broadcasts",
        indexes=(
            Index("broadcasts", (("workspace_id", ASCENDING), ("_id", ASCENDING))),
            Index("broadcasts", (("status", ASCENDING), ("send_at", ASCENDING))),
            Index(
                RECIPIENTS,
                (("broadcast_id", ASCENDING), ("status", ASCENDING), ("due_at", ASCENDING)),
            ),
            Index(RECIPIENTS, (("customer_id", ASCENDING), ("sent_at", ASCENDING))),
            # The recipients' list: by status, in recipient order (all of them: a merge of
            # the statuses' ranges).
            Index(
                RECIPIENTS,
                (("broadcast_id", ASCENDING), ("status", ASCENDING), ("_id", ASCENDING)),
            ),
            Index(RECIPIENTS, (("message_id", ASCENDING),)),
            # The worker's window: marketing messages still pending per channel.
            Index(
                "messages",
                (("channel_id", ASCENDING), ("purpose", ASCENDING), ("delivery.status", ASCENDING)),
            ),
        ),
        # Recipient rows name the customer (erased with them, moved on a merge). Their `_id`
        # is derived from (broadcast, customer) at materialisation, so a merge may leave a
        # survivor two rows in one broadcast: both of the people were targeted.
        customer_data=(CustomerData(RECIPIENTS),),
        consumers=(Consumer("broadcast-stats", STATS_EVENTS, stats.on_event),),
        background=(BroadcastWorker(core).run_forever,),
        routers=(api_router, app_router, page_router, links.router),
    )
