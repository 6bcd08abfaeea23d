"""The webhooks feature: its collections and indexes, its consumer, its delivery worker (and,
as it starts, the backfill of documents stored before `purge_at` and the failures' wordings
existed) and its routes, in one object."""

from __future__ import annotations

import asyncio
import functools
import logging

from pymongo import ASCENDING, DESCENDING

from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index
from kith.webhooks import page
from kith.webhooks.api import api_router, app_router
from kith.webhooks.consumer import CONSUMER
from kith.webhooks.store import (
    DELIVERIES,
    ENDPOINTS,
    backfill_error_wordings,
    backfill_purge_at,
)
from kith.webhooks.worker import DeliveryWorker

log = logging.getLogger(__name__)


def feature(core: Core) -> Feature:
    return Feature(
        name="webhooks",
        indexes=(
            # The consumer reads a workspace's endpoints on every event it is offered.
            Index(ENDPOINTS, (("workspace_id", ASCENDING), ("enabled", ASCENDING))),
            # The worker's claim: pending deliveries by due time.
            Index(DELIVERIES, (("status", ASCENDING), ("next_attempt_at", ASCENDING))),
            # …and one endpoint's, while another has all its attempts in flight here.
            Index(
                DELIVERIES,
                (("endpoint_id", ASCENDING), ("status", ASCENDING), ("next_attempt_at", ASCENDING)),
            ),
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
        background=(
            DeliveryWorker(core).run_forever,
            functools.partial(backfill_old_documents, core),
        ),
        routers=(api_router, app_router, page.router),
    )


async def backfill_old_documents(core: Core, stop: asyncio.Event) -> None:
    """Once, as the feature starts (beside the worker, so deliveries are not held up): date
    the deliveries logged before `purge_at` existed, so that the TTL index drops them too,
    and word the failures stored before their wording was. Shutdown cancels it between or
    inside batches, which is harmless: each batch stands alone and the next start finishes
    the job. A failure is logged and left to the next start."""
    try:
        dated = await backfill_purge_at(core)
        worded = await backfill_error_wordings(core)
    except Exception:
        log.exception("backfilling old webhook documents failed; the next start tries again")
        return
    if dated:
        log.info("dated old webhook deliveries for expiry", extra={"count": dated})
    if worded:
        log.info("worded old webhook failures", extra={"count": worded})
