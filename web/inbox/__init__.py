"""The shared inbox: a real-time web app for service agents, served under `/app`."""

from fastapi import APIRouter

from kith.web.inbox import api, events, pages, presence

router = APIRouter()
for _part in (pages.router, api.router, presence.router, events.router):
    router.include_router(_part)

__all__ = ["router"]
