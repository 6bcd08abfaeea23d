"""The communities feature: its collections (members are customer data), indexes, the
roster consumer and the routes, in one object."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.communities import appeals, consumer, moderation, moderation_api
from kith.communities.api import api_router, app_router
from kith.communities.audit import AUDIT
from kith.communities.moderation_actions import STRIKES
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
            *MODERATION_INDEXES,
        ),
        # A member names a customer: erased with them, moved to the survivor of a merge.
        customer_data=(
            CustomerData(MEMBERS),
            # Moderation's rows name the member (and quote their message).
            CustomerData(AUDIT),
            CustomerData(moderation.RECENT, merge_moves=False),
            CustomerData(STRIKES, merge_moves=False),
        ),
        consumers=(
            Consumer("community-roster", consumer.TYPES, consumer.consume),
            Consumer("community-moderation", moderation.TYPES, moderation.consume),
        ),
        routers=(api_router, app_router, moderation_api.api_router, moderation_api.app_router),
        answers=(appeals.is_appeal,),
    )


MODERATION_INDEXES = (
    # The log, newest first; one member's rows; a member's latest action (`/appeal`).
    Index(AUDIT, (("community_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING))),
    Index(
        AUDIT,
        (
            ("community_id", ASCENDING),
            ("platform_user_id", ASCENDING),
            ("at", DESCENDING),
            ("_id", DESCENDING),
        ),
    ),
    Index(AUDIT, (("workspace_id", ASCENDING), ("customer_id", ASCENDING), ("at", DESCENDING))),
    # Flood and repeat windows, and the rows' expiry.
    Index(
        moderation.RECENT,
        (("community_id", ASCENDING), ("sender", ASCENDING), ("at", ASCENDING)),
    ),
    Index(
        moderation.RECENT,
        (("community_id", ASCENDING), ("fingerprint", ASCENDING), ("at", ASCENDING)),
    ),
    Index(moderation.RECENT, (("expires_at", ASCENDING),), {"expireAfterSeconds": 0}),
    Index(moderation.RECENT, (("customer_id", ASCENDING),)),
    Index(AUDIT, (("customer_id", ASCENDING),)),
    Index(STRIKES, (("customer_id", ASCENDING),)),
    Index(STRIKES, (("until", ASCENDING),), {"expireAfterSeconds": 86_400}),  # a day after
)
