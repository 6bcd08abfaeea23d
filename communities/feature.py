"""The communities feature: its collections (members are customer data), indexes, the
roster consumer and the routes, in one object."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.communities import consumer, figures, raid, referrals, rewards, rules, welcome
from kith.communities.api import api_router, app_router
from kith.communities.invites import INVITES
from kith.communities.joins import JOINS
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
            # Referrals: a code names one invite; the leaderboard and a referrer's counts.
            Index(INVITES, (("workspace_id", ASCENDING), ("code", ASCENDING)), {"unique": True}),
            Index(INVITES, (("customer_id", ASCENDING),)),
            Index(REFERRALS, (("community_id", ASCENDING), ("referrer_id", ASCENDING))),
            Index(REFERRALS, (("referrer_id", ASCENDING), ("status", ASCENDING))),
            Index(REFERRALS, (("referred_id", ASCENDING),)),
            Index(INTENTS, (("customer_id", ASCENDING), ("community_id", ASCENDING))),
            Index(REWARDS, (("customer_id", ASCENDING),)),
        ),
        # Members, joins, links, credits (both sides), deep-link starts and rewards name
        # customers: erased with them, moved to the survivor of a merge.
        customer_data=(
            CustomerData(MEMBERS),
            CustomerData(JOINS),
            CustomerData(INVITES),
            CustomerData(REFERRALS, "referrer_id"),
            CustomerData(REFERRALS, "referred_id"),
            CustomerData(INTENTS),
            CustomerData(REWARDS),
        ),
        consumers=(
            Consumer("community-roster", consumer.TYPES, consumer.consume),
            Consumer("community-welcome", ("community.member_joined",), welcome.on_join),
            Consumer("community-rules", ("message.received",), rules.on_message),
            Consumer("community-referrals", referrals.TYPES, referrals.consume),
            Consumer("community-rewards", rewards.TYPES, rewards.consume),
            Consumer("community-figures", figures.TYPES, figures.consume),
        ),
        timers={
            welcome.WELCOME_TIMER: welcome.run_welcome,
            rules.TIMEOUT_TIMER: rules.run_timeout,
            raid.END_TIMER: raid.run_end,
            rewards.TIMER: rewards.on_timer,
        },
        answers=(rules.answers,),
        segment_fields=figures.SEGMENT_FIELDS,
        routers=(
            api_router,
            app_router,
            page_router,
            referrals.api_router,
            referrals.app_router,
        ),
    )
