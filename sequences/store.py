"""Where sequences live in MongoDB, the ids derived from natural keys, and the reads every
part of the feature shares."""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.errors import NotFound
from kith.core.ids import derived_id
from kith.sequences.models import Enrolment, Sequence, SequenceVersion

SEQUENCES = "sequences"
VERSIONS = "sequence_versions"
ENROLMENTS = "sequence_enrolments"
RUNS = "sequence_runs"


def sequences(core: Core) -> Any:
    return core.store.collection(SEQUENCES)


def versions(core: Core) -> Any:
    return core.store.collection(VERSIONS)


def enrolments(core: Core) -> Any:
    return core.store.collection(ENROLMENTS)


def runs(core: Core) -> Any:
    return core.store.collection(RUNS)


def version_id(sequence_id: str, version: int) -> str:
    return derived_id("sequence-version", sequence_id, str(version))


def enrolment_id(sequence_id: str, customer_id: str, round: int) -> str:
    """One id per (sequence, customer, round): two racing enrolments insert one document."""
    return derived_id("sequence-enrolment", sequence_id, customer_id, str(round))


def run_id(enrolment_id: str, step_id: str, visit: int) -> str:
    return derived_id("sequence-run", enrolment_id, step_id, str(visit))


def message_id(enrolment_id: str, step_id: str, visit: int) -> str:
    """The outbound message of a send step's run: a retried run finds it and sends nothing."""
    return derived_id("sequence-send", enrolment_id, step_id, str(visit))


async def get_sequence(core: Core, workspace_id: str, sequence_id: str) -> Sequence:
    doc = await sequences(core).find_one({"_id": sequence_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such sequence", field="sequence_id")
    return Sequence.from_doc(doc)


async def get_version(core: Core, sequence_id: str, version: int) -> SequenceVersion:
    doc = await versions(core).find_one({"_id": version_id(sequence_id, version)})
    if doc is None:
        raise NotFound("no such sequence version", field="version")
    return SequenceVersion.from_doc(doc)


async def get_enrolment(core: Core, workspace_id: str, enrolment_id: str) -> Enrolment:
    doc = await enrolments(core).find_one({"_id": enrolment_id, "workspace_id": workspace_id})
    if doc is None:
        raise NotFound("no such enrolment", field="enrolment_id")
    return Enrolment.from_doc(doc)
