"""The communities feature: its collections (members, joins, invites, referrals, rewards and
the moderation log are customer data), indexes, consumers, timers, segment fields and routes,
in one object."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.communities import (
    appeals,
    consumer,
    erasure,
    figures,
    join_requests,
    moderation,
    moderation_api,
    raid,
    referrals,
    rewards,
    rules,
    titles,
    welcome,
)
from kith.communities.api import api_router, app_router
from kith.communities.audit import AUDIT
from kith.communities.invites import INVITES
from kith.communities.joins import JOINS
from kith.communities.moderation_actions import STRIKES
from kith.communities.page import router as page_router
from kith.communities.referrals import INTENTS, REFERRALS
from kith.communities.rewards import REWARDS
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
            # Welcome and raid mode: the joins of the last window, a raid's joins, a member's.
            Index(JOINS, (("community_id", ASCENDING), ("at", ASCENDING))),
            Index(JOINS, (("raid_id", ASCENDING),)),
            Index(JOINS, (("member_id", ASCENDING), ("at", DESCENDING))),
            Index(JOINS, (("customer_id", ASCENDING),)),
            # A join is dropped once no reader needs it (`joins.KEPT`).
            Index(JOINS, (("purge_at", ASCENDING),), {"expireAfterSeconds": 0}),
            # Referrals: a code names one invite; the leaderboard and a referrer's counts.
            Index(INVITES, (("workspace_id", ASCENDING), ("code", ASCENDING)), {"unique": True}),
            Index(INVITES, (("customer_id", ASCENDING),)),
            Index(INVITES, (("community_id", ASCENDING), ("created_at", DESCENDING))),
            Index(REFERRALS, (("community_id", ASCENDING), ("referrer_id", ASCENDING))),
            Index(REFERRALS, (("referrer_id", ASCENDING), ("status", ASCENDING))),
            Index(REFERRALS, (("referred_id", ASCENDING),)),
            Index(INTENTS, (("customer_id", ASCENDING), ("community_id", ASCENDING))),
            Index(REWARDS, (("customer_id", ASCENDING),)),
            *MODERATION_INDEXES,
            # Join requests: a community's, newest first by status; a member's pending ones.
            Index(
                join_requests.REQUESTS,
                (
                    ("community_id", ASCENDING),
                    ("status", ASCENDING),
                    ("requested_at", DESCENDING),
                    ("_id", DESCENDING),
                ),
            ),
            Index(
                join_requests.REQUESTS,
                (("community_id", ASCENDING), ("platform_user_id", ASCENDING)),
            ),
            Index(join_requests.REQUESTS, (("customer_id", ASCENDING),)),
        ),
        # Members, joins, links, credits (both sides), deep-link starts and rewards name
        # customers: erased with them, moved to the survivor of a merge. The eraser reaches
        # the group's messages about them, its conversation, and Telegram's kept lists of
        # administrators (`telegram_admins`, which name them by Telegram id, not customer id).
        erasers=(erasure.erase,),
        customer_data=(
            CustomerData(MEMBERS),
            CustomerData(JOINS),
            CustomerData(INVITES),
            CustomerData(REFERRALS, "referrer_id"),
            CustomerData(REFERRALS, "referred_id"),
            CustomerData(INTENTS),
            CustomerData(REWARDS),
            # Moderation's rows name the member (and quote their message).
            CustomerData(AUDIT),
            CustomerData(moderation.RECENT, merge_moves=False),
            CustomerData(STRIKES, merge_moves=False),
            CustomerData(join_requests.REQUESTS),
        ),
        consumers=(
            Consumer("community-roster", consumer.TYPES, consumer.consume),
            Consumer("community-welcome", ("community.member_joined",), welcome.on_join),
            Consumer("community-rules", ("message.received",), rules.on_message),
            Consumer("community-referrals", referrals.TYPES, referrals.consume),
            Consumer("community-rewards", rewards.TYPES, rewards.consume),
            Consumer("community-figures", figures.TYPES, figures.consume),
            Consumer("community-moderation", moderation.TYPES, moderation.consume),
            Consumer("community-join-requests", join_requests.TYPES, join_requests.consume),
            Consumer("community-titles", titles.TYPES, titles.consume),
        ),
        timers={
            welcome.WELCOME_TIMER: welcome.run_welcome,
            rules.TIMEOUT_TIMER: rules.run_timeout,
            raid.END_TIMER: raid.run_end,
            rewards.TIMER: rewards.on_timer,
        },
        answers=(rules.answers, appeals.is_appeal),
        segment_fields=figures.SEGMENT_FIELDS,
        routers=(
            api_router,
            app_router,
            page_router,
            referrals.api_router,
            referrals.app_router,
            moderation_api.api_router,
            moderation_api.app_router,
            join_requests.api_router,
            join_requests.app_router,
        ),
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
