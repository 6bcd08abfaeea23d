"""The tickets feature: its collections and indexes, what it keeps per customer, and its
routes, in one object."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.core.collection import IndexOptions
from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index
from kith.tickets import sla_actions, sla_api
from kith.tickets.api import api_router, app_router
from kith.tickets.sla_store import CALENDARS, POLICIES
from kith.tickets.sla_worker import SlaWorker
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
            # The SLA worker's sweep: one range over the next warning or breach moment.
            Index(TICKETS, (("sla_next_at", ASCENDING),)),
            # The "% SLA met" report: the tickets opened in a period.
            Index(TICKETS, (("workspace_id", ASCENDING), ("created_at", ASCENDING))),
            Index(CALENDARS, (("workspace_id", ASCENDING),)),
            Index(POLICIES, (("workspace_id", ASCENDING), ("team_id", ASCENDING))),
        ),
        customer_data=(CustomerData(TICKETS),),
        consumers=(
            Consumer("ticket-sla-replies", sla_actions.REPLY_TYPES, sla_actions.on_message),
            Consumer("ticket-sla-actions", sla_actions.BREACH_TYPES, sla_actions.on_breach),
        ),
        background=(SlaWorker(core).run_forever,),
        routers=(api_router, app_router, sla_api.router),
    )
