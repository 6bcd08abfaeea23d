"""Writes on sequences: create and edit (checked on save, each edit of a sequence that has
run is a new frozen version; a save that changes nothing is no edit), and the moves between
states.

A move is one conditional update from the states it may leave, so two people moving one
sequence at once cannot both win; a refused move answers 409 and lists the allowed ones.
"""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from kith.core.context import Core
from kith.core.errors import Conflict, NotFound
from kith.core.events import SYSTEM, build_event, record
from kith.core.ids import new_id
from kith.core.models import Author
from kith.core.transitions import move_status
from kith.sequences import validate
from kith.sequences.models import MOVES, Sequence, SequenceIn, SequenceVersion, Status
from kith.sequences.stops import stop_sequence
from kith.sequences.store import get_sequence, sequences, version_id, versions
from kith.sequences.tags import fold_sequence_triggers


def _version_of(sequence: Sequence) -> SequenceVersion:
    return SequenceVersion(
        id=version_id(sequence.id, sequence.version),
        workspace_id=sequence.workspace_id,
        sequence_id=sequence.id,
        version=sequence.version,
        steps=sequence.steps,
        channels=sequence.channels,
        stop_on_reply=sequence.stop_on_reply,
        goal=sequence.goal,
        created_at=sequence.updated_at,
    )


async def _write_version(core: Core, sequence: Sequence) -> None:
    """Version documents are immutable once a sequence has run; a draft's is rewritten."""
    doc = _version_of(sequence).to_doc()
    await versions(core).replace_one({"_id": doc["_id"]}, doc, upsert=True)


async def do_create_sequence(
    core: Core, workspace_id: str, body: SequenceIn, actor: Author = SYSTEM
) -> Sequence:
    body = await validate.check(core, workspace_id, body)
    now = core.clock.now()
    sequence = Sequence(
        id=new_id(),
        workspace_id=workspace_id,
        **body.model_dump(),
        created_by=actor.id,
        created_at=now,
        updated_at=now,
    )
    await _write_version(core, sequence)
    await sequences(core).insert_one(sequence.to_doc())
    await _note(core, sequence, "sequence.created", actor)
    return sequence


async def do_update_sequence(
    core: Core, workspace_id: str, sequence_id: str, body: SequenceIn, actor: Author = SYSTEM
) -> Sequence:
    """Replace what the sequence says. A draft is edited in place; a sequence that has been
    active gets version n+1, and its enrolled customers finish on the version they started."""
    current = await get_sequence(core, workspace_id, sequence_id)
    if current.status == Status.archived:
        raise Conflict("an archived sequence cannot be edited", field="status", reason="archived")
    body = await validate.check(core, workspace_id, body)
    if _unchanged(current, body):
        # Read through the model, a tag trigger stored before tags were folded already looks
        # folded, so the save says nothing new: the stored value is folded all the same.
        if await fold_sequence_triggers(core, sequence_id):
            return await get_sequence(core, workspace_id, sequence_id)
        return current
    version = current.version if current.status == Status.draft else current.version + 1
    fields = {**body.model_dump(), "version": version, "updated_at": core.clock.now()}
    updated = Sequence.model_validate({**current.to_doc(), **fields})
    await _write_version(core, updated)
    doc = await sequences(core).find_one_and_update(
        {"_id": sequence_id, "workspace_id": workspace_id, "version": current.version},
        {"$set": {k: v for k, v in updated.to_doc().items() if k in fields}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise Conflict(
            "the sequence changed meanwhile: load it again", field="version", reason="changed"
        )
    await _note(core, updated, "sequence.updated", actor)
    return Sequence.from_doc(doc)


def _unchanged(current: Sequence, body: SequenceIn) -> bool:
    """A save that says what the sequence already says: no new version, nothing recorded (the
    builder saves the whole form, changed or not)."""
    said = current.model_dump(mode="json", include=set(SequenceIn.model_fields))
    return said == body.model_dump(mode="json")


async def move(
    core: Core, workspace_id: str, sequence_id: str, to: Status, actor: Author = SYSTEM
) -> Sequence:
    """Activate, pause or archive; refused (409, with the allowed moves) from elsewhere."""
    doc = await move_status(
        sequences(core),
        {"_id": sequence_id, "workspace_id": workspace_id},
        MOVES,
        to,
        {"$set": {"status": to.value, "updated_at": core.clock.now()}},
        noun="sequence",
        missing=NotFound("no such sequence", field="sequence_id"),
    )
    sequence = Sequence.from_doc(doc)
    await _note(core, sequence, f"sequence.{to.value}", actor)
    if to == Status.archived:
        await stop_sequence(core, workspace_id, sequence_id, actor)
    return sequence


async def _note(core: Core, sequence: Sequence, kind: str, actor: Author) -> None:
    data: dict[str, Any] = {"sequence_id": sequence.id, "version": sequence.version}
    await record(core, build_event(core, sequence.workspace_id, kind, actor=actor, data=data))
