"""The sequences feature: its collections and indexes, what it keeps per customer, and (as
they land) its worker, consumers, jobs and routes, in one object."""

from __future__ import annotations

import functools

from pymongo import ASCENDING, DESCENDING

from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.features import CustomerData, Feature, Index
from kith.sequences import bulk, links, page, stopping, triggers
from kith.sequences.api import api_router, app_router
from kith.sequences.runner import SequenceWorker
from kith.sequences.store import ENROLMENTS, RUNS, SEQUENCES
from kith.sequences.tags import backfill_trigger_tags


def feature(core: Core) -> Feature:
    return Feature(
        name="sequences",
        indexes=(
            Index(SEQUENCES, (("workspace_id", ASCENDING), ("_id", DESCENDING))),
            # Each pass of the worker lists the active sequences.
            Index(SEQUENCES, (("status", ASCENDING),)),
            # The worker's claim: active enrolments by due time (one range, whatever the total;
            # the sequence id in the key keeps a paused sequence's due ones out without reads).
            Index(
                ENROLMENTS,
                (("state", ASCENDING), ("due_at", ASCENDING), ("sequence_id", ASCENDING)),
            ),
            # Triggers: the active sequences an event enrols into, one range per event.
            Index(
                SEQUENCES,
                (
                    ("status", ASCENDING),
                    ("triggers.kind", ASCENDING),
                    ("triggers.value", ASCENDING),
                ),
            ),
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
        sealed=(SEQUENCES,),  # each sequence's webhook key (`kith.sequences.webhook_keys`)
        # The worker, and once at start the folding of tag triggers saved before tags were
        # folded (`kith.sequences.tags`), as the contacts feature folds customers' tags.
        background=(
            SequenceWorker(core).run_forever,
            functools.partial(backfill_trigger_tags, core),
        ),
        jobs=(bulk.JOB,),
        consumers=(
            Consumer("sequence-triggers", triggers.TYPES, triggers.consume),
            Consumer("sequence-stops", stopping.TYPES, stopping.consume),
        ),
        routers=(api_router, app_router, links.router, page.router),
    )
