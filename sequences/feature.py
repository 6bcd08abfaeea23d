"""The sequences feature: its collections and indexes, what it keeps per customer, and (as
they land) its worker, consumers, jobs and routes, in one object."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING

from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index
from kith.sequences import bulk, page
from kith.sequences.api import api_router, app_router
from kith.sequences.store import ENROLMENTS, RUNS, SEQUENCES


def feature(core: Core) -> Feature:
    return Feature(
        name="sequences",
        indexes=(
            Index(SEQUENCES, (("workspace_id", ASCENDING), ("_id", DESCENDING))),
            # The worker's claim: active enrolments by due time (one range, whatever the total).
            Index(ENROLMENTS, (("state", ASCENDING), ("due_at", ASCENDING))),
            Index(ENROLMENTS, (("sequence_id", ASCENDING), ("customer_id", ASCENDING))),
            Index(ENROLMENTS, (("customer_id", ASCENDING), ("state", ASCENDING))),
            Index(ENROLMENTS, (("sequence_id", ASCENDING), ("state", ASCENDING))),
            # The enrolments listing: latest first, within a sequence.
            Index(ENROLMENTS, (("sequence_id", ASCENDING), ("enrolled_at", DESCENDING))),
            Index(RUNS, (("sequence_id", ASCENDING), ("step_id", ASCENDING))),
            Index(RUNS, (("message_id", ASCENDING),)),
            Index(RUNS, (("enrolment_id", ASCENDING),)),
            Index(bulk.CURSORS, (("job_id", ASCENDING),)),
            Index(bulk.ROWS, (("job_id", ASCENDING), ("customer_id", ASCENDING))),
        ),
        # Enrolments and runs name the customer: erased with them (no enrolment is left
        # behind), moved to the survivor of a merge.
        customer_data=(CustomerData(ENROLMENTS), CustomerData(RUNS)),
        jobs=(bulk.JOB,),
        routers=(api_router, app_router, page.router),
    )
