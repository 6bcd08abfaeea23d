"""The tickets feature: its collections and indexes, what it keeps per customer, and its
routes, in one object."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.core.collection import IndexOptions
from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index
from kith.tickets import page
from kith.tickets.api import api_router, app_router
from kith.tickets.store import TICKETS


def feature(core: Core) -> Feature:
    return Feature(
        name="tickets",
        indexes=(
            # The list: newest number first, within a workspace; the number is unique there.
            Index(
                TICKETS,
                (("workspace_id", ASCENDING), ("number", DESCENDING)),
                IndexOptions(unique=True),
            ),
            Index(TICKETS, (("workspace_id", ASCENDING), ("status", ASCENDING))),
            Index(TICKETS, (("customer_id", ASCENDING), ("status", ASCENDING))),
            Index(TICKETS, (("conversation_ids", ASCENDING),)),
            Index(TICKETS, (("workspace_id", ASCENDING), ("assignee_id", ASCENDING))),
        ),
        customer_data=(CustomerData(TICKETS),),
        routers=(api_router, app_router, page.router),
    )
