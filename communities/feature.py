"""The communities feature: its collections (members are customer data), indexes, the
roster consumer and the routes, in one object."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.communities import consumer
from kith.communities.api import api_router, app_router
from kith.communities.page import router as page_router
from kith.communities.store import COMMUNITIES, DAYS, MEMBERS
from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index


def feature(core: Core) -> Feature:
    return Feature(
        name="communities",
        indexes=(
            Index(COMMUNITIES, (("workspace_id", ASCENDING), ("_id", ASCENDING))),
            # A chat found under its id after a migration changed it.
            Index(COMMUNITIES, (("channel_id", ASCENDING), ("platform_chat_id", ASCENDING))),
            Index(COMMUNITIES, (("channel_id", ASCENDING), ("migrated_from", ASCENDING))),
            # The roster, latest joins first, by status.
            Index(
                MEMBERS,
                (
                    ("community_id", ASCENDING),
                    ("status", ASCENDING),
                    ("joined_at", DESCENDING),
                    ("_id", DESCENDING),
                ),
            ),
            Index(
                MEMBERS,
                (("community_id", ASCENDING), ("joined_at", DESCENDING), ("_id", DESCENDING)),
            ),
            Index(MEMBERS, (("customer_id", ASCENDING),)),
            Index(DAYS, (("community_id", ASCENDING), ("day", ASCENDING))),
        ),
        # A member names a customer: erased with them, moved to the survivor of a merge.
        customer_data=(CustomerData(MEMBERS),),
        consumers=(Consumer("community-roster", consumer.TYPES, consumer.consume),),
        routers=(api_router, app_router, page_router),
    )
