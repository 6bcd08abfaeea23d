"""The shared inbox: a real-time web app for service agents, served under `/app`."""

from fastapi import APIRouter
from pymongo import ASCENDING

from kith.core.conversations import SNOOZE_TIMER, wake_snoozed
from kith.core.features import Feature, Index
from kith.web.inbox import (
    admin,
    admin_accounts,
    admin_channels,
    admin_hours,
    admin_sla,
    api,
    contacts,
    events,
    pages,
    presence,
    search_page,
)

router = APIRouter()
for _part in (pages.router, api.router, presence.router, events.router):
    router.include_router(_part)

feature = Feature(
    name="inbox",
    # Agents' presence reports expire on their own (`purge_at` is wall-clock time).
    indexes=(Index("presence", (("purge_at", ASCENDING),), {"expireAfterSeconds": 0}),),
    routers=(
        router,
        admin.router,
        admin_channels.router,
        admin_accounts.router,
        admin_hours.router,
        admin_sla.router,
        contacts.router,
        search_page.router,
    ),
    timers={SNOOZE_TIMER: wake_snoozed},  # a snoozed conversation reopens at its time
)

__all__ = ["feature", "router"]
