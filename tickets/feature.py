"""The tickets feature: its collections and indexes, what it keeps per customer, its
consumer (replies reopen, rules open) and timer (the waiting rule's sweep), and its routes,
in one object."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING

from kith.core.collection import IndexOptions
from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index, Searchable
from kith.tickets import page, reports_page, sla_actions, sla_api, sla_recompute
from kith.tickets.api import api_router, api_settings_router, app_router, app_settings_router
from kith.tickets.consumer import consumer
from kith.tickets.models import ticket_terms
from kith.tickets.notes import NOTES
from kith.tickets.sla_store import CALENDARS, POLICIES
from kith.tickets.sla_worker import SlaWorker
from kith.tickets.store import TICKETS
from kith.tickets.waiting import SWEEP_TIMER, on_sweep_timer


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
            # The list's search (`kith.tickets.queries._search`): a ticket's subject and
            # description terms, and the customers whose profile holds a query's terms.
            Index(TICKETS, (("workspace_id", ASCENDING), ("terms", ASCENDING))),
            Index("customers", (("workspace_id", ASCENDING), ("terms", ASCENDING))),
            # The SLA worker's sweep: one range over the next warning or breach moment.
            Index(TICKETS, (("sla_next_at", ASCENDING),)),
            # The "% SLA met" report: the tickets opened in a period.
            Index(TICKETS, (("workspace_id", ASCENDING), ("created_at", ASCENDING))),
            Index(CALENDARS, (("workspace_id", ASCENDING),)),
            Index(POLICIES, (("workspace_id", ASCENDING), ("team_id", ASCENDING))),
            # One policy per team (`kith.tickets.sla_store.save_policy`): `team_key` is set
            # only when a policy names a team, and policies stored before it have none, so
            # two old policies sharing a team do not stop the index (nor start-up).
            Index(
                POLICIES,
                (("workspace_id", ASCENDING), ("team_key", ASCENDING)),
                IndexOptions(unique=True, partialFilterExpression={"team_key": {"$exists": True}}),
            ),
            # The timeline: a ticket's events (only events naming a ticket are in the index)
            # and notes, in time order.
            Index(
                "events",
                (("data.ticket_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING)),
                IndexOptions(partialFilterExpression={"data.ticket_id": {"$exists": True}}),
            ),
            Index(NOTES, (("ticket_id", ASCENDING), ("created_at", ASCENDING), ("_id", ASCENDING))),
        ),
        customer_data=(CustomerData(TICKETS), CustomerData(NOTES)),
        searchable=(Searchable(TICKETS, ("subject", "description"), _terms),),
        consumers=(
            consumer(),
            Consumer("ticket-sla-replies", sla_actions.REPLY_TYPES, sla_actions.on_message),
            Consumer("ticket-sla-actions", sla_actions.BREACH_TYPES, sla_actions.on_breach),
        ),
        timers={SWEEP_TIMER: on_sweep_timer},
        jobs=(sla_recompute.JOB,),
        background=(SlaWorker(core).run_forever,),
        # The settings routes first: `/settings` is not a ticket id.
        routers=(
            api_settings_router,
            app_settings_router,
            api_router,
            app_router,
            sla_api.router,
            reports_page.router,  # before `page`: `reports` is not a ticket id
            page.router,
        ),
    )


def _terms(doc: dict[str, Any]) -> list[str]:
    """A ticket stored before tickets had terms (`kith search reindex`)."""
    return ticket_terms(str(doc.get("subject") or ""), str(doc.get("description") or ""))
