"""Importing customers from a CSV file or an Excel workbook, as a durable job (`kith.core.jobs`).

`start_import` reads the file once (`kith.contacts.tables`: charset, delimiter, or the
workbook's first sheet; mapping checked up front), stores its
rows in chunks (`import_rows`) and queues a `customers.import` job; any `kith serve` then runs
it chunk by chunk. Each row merges into the customer it names (by Kith's id, then external
id, then email, then phone), as HubSpot's and Chatwoot's imports do, or creates one; cells left
blank change nothing, and so do cells equal to what is stored (no write, no event: an unedited
export imports back without a change). A row whose id names a customer may carry keys that
customer shares with another (an email two unmerged customers hold); a key only another
customer holds is still a conflict. A row that cannot be read (bad cells, broken quoting),
or whose keys name two different customers, is left out with an error per bad cell (row
number as a spreadsheet shows it, column, a code and why in words; `failed` counts rows)
and the import goes on. The columns no field takes are the job's `warnings`, each with why,
and so are the rows with cells beyond the header's columns (left out).

Rows of one file that come to the same customer (by its keys, whether the customer was
stored before or is made by an earlier row) are not applied one over the other: the first
row wins and each later one is a `duplicate_in_file` error naming the earlier row and the
columns that matched, as Mautic and HubSpot report a file's duplicates instead of letting the
last row silently overwrite the first. The first row of each customer is kept by job
(`import_firsts`, customer ids and row numbers only) so that rows in later chunks are told too.

Consent is the customer's word, not the file's: a `consent.<type>` cell changes a stored state
only to a different one the cell states (`unknown`, what our export writes for "no record",
changes nothing), never turns `revoked` into anything else (an import does not re-subscribe
someone who opted out, as in Mautic and Braze), and leaves an equal state's `at`/`via` (the
proof) alone. Each change is its own conditional write (it still holds when a STOP arrives
mid-import) and records `consent.changed`, like every other consent change.

A row lands whole or not at all: its change is one write on one customer document. A chunk
run again after a crash writes the same thing again: a new customer's id is derived from the
job and the row, events have derived ids, tags and addresses are added as sets. The job's
counters are stored with its position, so they count each row once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pymongo import InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from kith.consent.actions import CHANGED as CONSENT_CHANGED
from kith.contacts.csvfile import BAD_QUOTING, BrokenRow, Row, too_large
from kith.contacts.mapping import NO_HEADER, Column, Ignored, RowData, RowReader, build_columns
from kith.contacts.tables import FileFormat, read_table
from kith.core.clock import utcnow
from kith.core.collection import RetryingCollection
from kith.core.context import Core
from kith.core.errors import InvalidInput
from kith.core.events import DUPLICATE_KEY, SYSTEM, build_event, record_many
from kith.core.ids import derived_id, new_id
from kith.core.jobs import Job, JobError, JobKind, JobWarning, Step, create_job
from kith.core.models import Author, Consent, ConsentState, Customer, Event
from kith.core.tags import fold_tags

KIND = "customers.import"
DIFFERENT_CUSTOMERS = "different_customers"  # a row's error code; params: columns
DUPLICATE_IN_FILE = "duplicate_in_file"  # a row's error code; params: row (the first), columns
EXTRA_CELLS = "extra_cells"  # a row's warning; params: cells (beyond the header), columns
MORE_EXTRA_CELLS = "extra_cells_more"  # params: rows, those not listed one by one
ROW_WARNINGS = 100  # rows with extra cells listed one by one; the others counted
CHUNK_ROWS = 1000
WRITE_BATCH = 500  # writes to a bulk call; the event loop gets a turn between them
ROWS_KEPT = timedelta(days=7)  # rows of an import that never ran are purged after this


class ImportOptions(BaseModel):
    """How to read the file. `mapping`: column header → target (see `kith.contacts.mapping`);
    left out, columns named like a target are taken. `tag_separator`: what splits a tags cell
    (default: any of , ， ; ； |). `encoding`: the file's charset when detection is not wanted.
    `file_format`: `csv`, or `xlsx` for an Excel workbook (its first sheet)."""

    model_config = ConfigDict(extra="forbid")

    mapping: dict[str, str] | None = Field(default=None, max_length=200)
    tag_separator: str | None = Field(default=None, min_length=1, max_length=4)
    encoding: str | None = Field(default=None, max_length=32)
    file_format: FileFormat = "csv"


def rows_of(core: Core) -> RetryingCollection:
    return core.store.collection("import_rows")


def firsts_of(core: Core) -> RetryingCollection:
    """Per job, the customers its rows came to and the first row that did (`{job}:{customer}`)."""
    return core.store.collection("import_firsts")


async def start_import(
    core: Core,
    workspace_id: str,
    data: bytes,
    options: ImportOptions,
    actor: Author = SYSTEM,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> Job:
    """Check the file and its mapping, store its rows (`chunk_rows` to a step) and queue
    the import job."""
    if options.mapping is not None and not options.mapping:
        raise InvalidInput("an empty mapping imports nothing", field="mapping")
    if len(data) > core.settings.import_max_bytes:
        raise too_large(core.settings.import_max_bytes)
    table = await asyncio.to_thread(
        read_table, data, options.file_format, options.encoding, core.settings.import_max_bytes
    )
    columns, ignored = build_columns(table.header, options.mapping, core.channels.names())
    job_id = new_id()
    first_data_row = 2  # the header is row 1, as a spreadsheet numbers them
    rows = [_stored_row(row, table.header) for row in table.rows]
    chunks = [
        {
            "_id": f"{job_id}:{n}",
            "job_id": job_id,
            "first_row": first_data_row + start,
            "rows": rows[start : start + chunk_rows],
            "purge_at": utcnow() + ROWS_KEPT,
        }
        for n, start in enumerate(range(0, len(rows), chunk_rows))
    ]
    for start in range(0, len(chunks), 10):  # rows first: a queued job finds all its chunks
        await rows_of(core).insert_many(chunks[start : start + 10])
    params = {
        "columns": [[c.index, c.header, c.target] for c in columns],
        "chunks": len(chunks),
        "encoding": table.encoding,
        "tag_separator": options.tag_separator,
        "phone_region": core.settings.phone_region,
        "actor": actor.model_dump(mode="json"),
    }
    warnings = [_warning(i) for i in ignored if i.code != NO_HEADER or _holds_data(table.rows, i)]
    warnings += _extra_cells(table.rows, len(table.header), first_data_row)
    return await create_job(
        core,
        workspace_id,
        KIND,
        params=params,
        total=len(table.rows),
        job_id=job_id,
        warnings=warnings,
    )


def _stored_row(row: Row, header: list[str]) -> list[str] | dict[str, str | None]:
    """A row as its chunk keeps it: its cells, or for a broken one its column and why."""
    if not isinstance(row, BrokenRow):
        return row
    column = None
    if row.cell is not None:
        column = header[row.cell] if row.cell < len(header) else f"column {row.cell + 1}"
    return {"broken": row.message, "code": row.code, "column": column or None}


def _holds_data(rows: list[Row], column: Ignored) -> bool:
    """Whether a column holds anything (an unnamed one that does not is a trailing comma)."""
    n = column.index
    return any(isinstance(r, list) and n < len(r) and r[n].strip() for r in rows)


def _extra_cells(rows: list[Row], width: int, first_row: int) -> list[JobWarning]:
    """The rows holding something beyond the header's columns (a stray delimiter, a note
    typed past the table): imported without those cells, each row told. Empty cells there
    (a trailing delimiter) are nothing to tell."""
    found: list[JobWarning] = []
    more = 0
    for offset, row in enumerate(rows):
        if isinstance(row, BrokenRow) or not any(c.strip() for c in row[width:]):
            continue
        if len(found) == ROW_WARNINGS:
            more += 1
            continue
        extra = len(row) - width
        found.append(
            JobWarning(
                row=first_row + offset,
                code=EXTRA_CELLS,
                params={"cells": extra, "columns": width},
                message=f"{extra} cells beyond the header's {width} columns: left out",
            )
        )
    if more:
        message = f"{more} more rows have cells beyond the header's columns: left out"
        found.append(JobWarning(code=MORE_EXTRA_CELLS, params={"rows": more}, message=message))
    return found


def _warning(column: Ignored) -> JobWarning:
    return JobWarning(column=column.header or None, code=column.code, message=column.message)


_FIELDS = ("name", "locale", "timezone")  # what a row sets, besides attributes and lists


@dataclass
class _Known:
    """The customers a chunk touches, by key, kept current as its rows are applied."""

    by_key: dict[tuple[str, str], str] = field(default_factory=dict)
    first_row: dict[str, int] = field(default_factory=dict)  # customer → its first row here
    tags: dict[str, list[str]] = field(default_factory=dict)
    consent: dict[str, dict[str, ConsentState]] = field(default_factory=dict)
    keys_of: dict[str, set[tuple[str, str]]] = field(default_factory=dict)  # each one's own
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # name, …, attributes.<k>

    def learn(
        self,
        customer_id: str,
        keys: Iterable[tuple[str, str]],
        tags: list[str],
        consent: dict[str, ConsentState] | None = None,
    ) -> None:
        for key in keys:
            self.by_key.setdefault(key, customer_id)
            self.keys_of.setdefault(customer_id, set()).add(key)
        self.tags[customer_id] = list(dict.fromkeys([*self.tags.get(customer_id, []), *tags]))
        self.consent[customer_id] = {**self.consent.get(customer_id, {}), **(consent or {})}


async def _known(core: Core, workspace_id: str, rows: list[RowData]) -> _Known:
    """One query for every stored customer the chunk's rows name."""
    wanted: dict[str, set[str]] = {}
    for row in rows:
        for path, value in row.keys():
            wanted.setdefault(path, set()).add(value)
    known = _Known()
    if not wanted:
        return known
    # The key leads each branch: the embedded engine then tests only the customers holding one
    # of the keys (by set lookups) instead of every customer of the workspace, each against
    # the chunk's thousand keys; on a server each branch uses its key's index.
    query = {
        "merged_into": None,
        "$or": [
            {path: {"$in": sorted(values)}, "workspace_id": workspace_id}
            for path, values in wanted.items()
        ],
    }
    projection = {k: 1 for k in ("emails", "phones", "tags", "attributes", "consent", *_FIELDS)}
    async for doc in core.store.customers.find(query, projection).sort("_id", 1):
        external = (doc.get("attributes") or {}).get("external_id")
        keys = [("_id", str(doc["_id"]))]
        keys += [("emails", e) for e in doc.get("emails", [])]
        keys += [("phones", p) for p in doc.get("phones", [])]
        keys += [("attributes.external_id", external)] if isinstance(external, str) else []
        consent = {
            str(k): ConsentState(v.get("state", "unknown"))
            for k, v in (doc.get("consent") or {}).items()
            if isinstance(v, dict)
        }
        known.learn(str(doc["_id"]), keys, fold_tags(doc.get("tags", [])), consent)
        values = {k: doc.get(k) for k in _FIELDS}
        values |= {f"attributes.{k}": v for k, v in (doc.get("attributes") or {}).items()}
        known.values[str(doc["_id"])] = values
    return known


def consent_changes(
    stored: dict[str, ConsentState], cells: dict[str, ConsentState]
) -> dict[str, tuple[ConsentState, ConsentState]]:
    """The consent a row may change, as channel type → (from, to): a state the row states
    that differs from the stored one, and never away from `revoked`."""
    changes: dict[str, tuple[ConsentState, ConsentState]] = {}
    for channel_type, state in cells.items():
        before = stored.get(channel_type, ConsentState.unknown)
        if state == ConsentState.unknown or state == before or before == ConsentState.revoked:
            continue
        changes[channel_type] = (before, state)
    return changes


@dataclass
class _Chunk:
    """What applying a chunk's rows writes, and how it counts them."""

    core: Core
    job: Job
    now: datetime
    actor: Author
    known: _Known
    inserts: list[InsertOne[dict[str, Any]]] = field(default_factory=list)
    updates: list[UpdateOne] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: {"created": 0, "updated": 0})

    def apply(self, row_number: int, row: RowData, columns: list[Column]) -> JobError | None:
        found = [(k, self.known.by_key[k]) for k in row.keys() if k in self.known.by_key]
        by_id = self.known.by_key.get(("_id", row.kith_id)) if row.kith_id else None
        if by_id is not None:  # Kith's id decides; keys that customer holds too are shared
            held = self.known.keys_of.get(by_id, set())
            found = [(k, c) for k, c in found if c == by_id or k not in held]
        owners = {c: k for k, c in found}
        if len(owners) > 1:
            names = sorted({_column_of(k[0], columns) for k in owners.values()})
            message = f"{' and '.join(names)} belong to different customers: merge them first"
            return JobError(
                row=row_number,
                column=names[0],
                code=DIFFERENT_CUSTOMERS,
                params={"columns": names},
                message=message,
            )
        new_id_ = derived_id("import", self.job.id, str(row_number))
        customer_id = next(iter(owners), new_id_)
        first = self.known.first_row.setdefault(customer_id, row_number)
        if first != row_number:
            matched = [k for k in row.keys() if self.known.by_key.get(k) == customer_id]
            names = sorted({_column_of(k[0], columns) for k in matched})
            return JobError(
                row=row_number,
                column=names[0],
                code=DUPLICATE_IN_FILE,
                params={"row": first, "columns": names},
                message=f"{' and '.join(names)} as in row {first}, which this file "
                "already imports: row left out (the first row of a customer wins)",
            )
        if customer_id == new_id_:
            self.counts["created"] += 1
        else:
            self.counts["updated"] += 1
        stored = {} if customer_id == new_id_ else self.known.consent.get(customer_id, {})
        consent = consent_changes(stored, row.consent)
        if customer_id == new_id_:  # again after a crash: same write, same event
            self._create(customer_id, row, consent)
        else:
            self._update(customer_id, row_number, row)
            self._change_consent(customer_id, consent)
        self._record_consent(customer_id, row_number, consent)
        self.known.learn(customer_id, row.keys(), row.tags, {k: v for k, (_, v) in consent.items()})
        return None

    def _create(
        self, customer_id: str, row: RowData, consent: dict[str, tuple[ConsentState, ConsentState]]
    ) -> None:
        attributes: dict[str, Any] = dict(row.attributes)
        if row.external_id:
            attributes["external_id"] = row.external_id
        customer = Customer(
            id=customer_id,
            workspace_id=self.job.workspace_id,
            name=row.name,
            locale=row.locale,
            timezone=row.timezone,
            tags=row.tags,
            attributes=attributes,
            consent={
                k: Consent(state=s, at=self.now, via="import") for k, (_, s) in consent.items()
            },
            emails=row.emails,
            phones=row.phones,
            first_seen=self.now,  # an import is not the customer being seen: no last_seen
        )
        doc = customer.to_doc()
        doc.pop("last_seen", None)  # absent, not null: the first activity's `$max` sets it
        self.inserts.append(InsertOne(doc))
        self.events.append(
            build_event(
                self.core,
                self.job.workspace_id,
                "customer.created",
                actor=self.actor,
                event_id=derived_id("customer.created", customer_id),
                customer_id=customer_id,
                data={"via": "import", "job_id": self.job.id, "tags_added": row.tags},
            )
        )

    def _update(self, customer_id: str, row_number: int, row: RowData) -> None:
        to_set: dict[str, Any] = {
            k: v for k, v in (("name", row.name), ("locale", row.locale)) if v is not None
        }
        if row.timezone:
            to_set["timezone"] = row.timezone
        to_set |= {f"attributes.{k}": v for k, v in row.attributes.items()}
        if row.external_id:
            to_set["attributes.external_id"] = row.external_id
        stored = self.known.values.setdefault(customer_id, {})
        to_set = {k: v for k, v in to_set.items() if k not in stored or stored[k] != v}
        stored |= to_set
        held = self.known.keys_of.get(customer_id, set())
        had_tags = self.known.tags.get(customer_id, [])
        added = {
            path: {"$each": values}
            for path, values in (
                ("emails", [e for e in row.emails if ("emails", e) not in held]),
                ("phones", [p for p in row.phones if ("phones", p) not in held]),
                ("tags", [t for t in row.tags if t not in had_tags]),
            )
            if values
        }
        update: dict[str, Any] = {}
        if to_set:
            update["$set"] = to_set
        if added:
            update["$addToSet"] = added
        if not update:
            return
        self.updates.append(UpdateOne({"_id": customer_id}, update))
        fields = sorted(k for k in to_set if "." not in k)
        fields += [p for p in ("emails", "phones", "tags") if p in added]
        data: dict[str, Any] = {
            "fields": sorted(fields),
            "attributes": sorted(k.split(".", 1)[1] for k in to_set if k.startswith("attributes.")),
            "via": "import",
            "job_id": self.job.id,
        }
        if "tags" in added:
            had = self.known.tags.get(customer_id, [])
            data["tags"] = list(dict.fromkeys([*had, *row.tags]))
            data["tags_added"] = [t for t in dict.fromkeys(row.tags) if t not in had]
        self.events.append(
            build_event(
                self.core,
                self.job.workspace_id,
                "customer.updated",
                actor=self.actor,
                event_id=derived_id("import-row", self.job.id, str(row_number)),
                customer_id=customer_id,
                data=data,
            )
        )

    def _change_consent(
        self,
        customer_id: str,
        consent: dict[str, tuple[ConsentState, ConsentState]],
    ) -> None:
        """One write per change, applied only while the stored state is still the one this
        row saw (a revocation that arrives meanwhile wins; a re-run writes nothing new)."""
        for channel_type, (before, state) in consent.items():
            path = f"consent.{channel_type}"
            was: dict[str, Any] = {"$eq": before.value}
            if before == ConsentState.unknown:  # absent is unknown too
                was = {"$nin": [ConsentState.granted.value, ConsentState.revoked.value]}
            value = Consent(state=state, at=self.now, via="import").model_dump()
            self.updates.append(
                UpdateOne({"_id": customer_id, f"{path}.state": was}, {"$set": {path: value}})
            )

    def _record_consent(
        self,
        customer_id: str,
        row_number: int,
        consent: dict[str, tuple[ConsentState, ConsentState]],
    ) -> None:
        for channel_type, (before, state) in consent.items():
            self.events.append(
                build_event(
                    self.core,
                    self.job.workspace_id,
                    CONSENT_CHANGED,
                    actor=self.actor,
                    event_id=derived_id(
                        "import-consent", self.job.id, str(row_number), channel_type
                    ),
                    customer_id=customer_id,
                    data={
                        "channel_type": channel_type,
                        "from": before.value,
                        "to": state.value,
                        "via": "import",
                        "job_id": self.job.id,
                    },
                )
            )


def _column_of(path: str, columns: list[Column]) -> str:
    target = {"_id": "id", "emails": "email", "phones": "phone"}.get(path, "external_id")
    return next((c.header for c in columns if c.target == target), target)


async def _write(core: Core, applied: _Chunk) -> None:
    """New customers first (one already there was inserted by this step's earlier run),
    then the changes to existing ones, in row order; `WRITE_BATCH` at a time, leaving the
    event loop a turn between batches (the embedded engine answers each write without one)."""
    for start in range(0, len(applied.inserts), WRITE_BATCH):
        try:
            batch = applied.inserts[start : start + WRITE_BATCH]
            await core.store.customers.bulk_write(batch, ordered=False)
        except BulkWriteError as exc:
            if any(e.get("code") != DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
                raise
        await asyncio.sleep(0)
    for start in range(0, len(applied.updates), WRITE_BATCH):
        await core.store.customers.bulk_write(
            applied.updates[start : start + WRITE_BATCH], ordered=True
        )
        await asyncio.sleep(0)
    for start in range(0, len(applied.events), WRITE_BATCH):
        await record_many(core, applied.events[start : start + WRITE_BATCH])
        await asyncio.sleep(0)


def _read_rows(
    reader: RowReader, rows: list[list[str] | dict[str, Any]], first_row: int
) -> tuple[list[tuple[int, RowData]], list[JobError], int]:
    """The chunk's rows read: those that read well (with their row numbers), the errors,
    and how many were blank."""
    read: list[tuple[int, RowData]] = []
    errors: list[JobError] = []
    skipped = 0
    for offset, cells in enumerate(rows):
        if isinstance(cells, dict):  # the file's quoting broke in this row
            broken = JobError(
                row=first_row + offset,
                column=cells["column"],
                code=cells.get("code", BAD_QUOTING),  # rows stored before codes existed
                message=cells["broken"],
            )
            errors.append(broken)
            continue
        outcome = reader.read(cells)
        if outcome is None:
            skipped += 1
        elif isinstance(outcome, list):  # each bad cell of the row, the row left out
            errors += [e.model_copy(update={"row": first_row + offset}) for e in outcome]
        else:
            read.append((first_row + offset, outcome))
    return read, errors, skipped


async def _firsts(core: Core, job: Job, known: _Known) -> set[str]:
    """Which of the chunk's stored customers earlier chunks of this job came to (and which
    row first), learnt into `known`; answers those customers."""
    wanted = set(known.tags)
    found: set[str] = set()
    query = {"job_id": job.id, "customers": {"$in": sorted(wanted)}}
    async for doc in firsts_of(core).find(query, {"customers": 1, "rows": 1}):
        for customer_id, row in zip(doc["customers"], doc["rows"], strict=True):
            if customer_id in wanted and customer_id not in found:
                known.first_row[str(customer_id)] = int(row)
                found.add(str(customer_id))
    return found


async def _keep_firsts(core: Core, job: Job, n: int, known: _Known, stored: set[str]) -> None:
    """The customers chunk `n`'s rows came to first, for later chunks: one document per chunk
    (again after a crash: the same document, already there). Not one per customer: the embedded
    engine checks its TTL index over the whole collection at every insert, which made a
    60,000-row import quadratic."""
    firsts = [(c, row) for c, row in known.first_row.items() if c not in stored]
    doc = {
        "_id": f"{job.id}:{n}",
        "job_id": job.id,
        "customers": [c for c, _ in firsts],
        "rows": [row for _, row in firsts],
        "purge_at": utcnow() + ROWS_KEPT,
    }
    try:
        await firsts_of(core).insert_one(doc)
    except DuplicateKeyError:
        pass


async def import_step(core: Core, job: Job) -> Step:
    """Import the chunk at `job.position`."""
    n = job.position
    total_chunks = int(job.params["chunks"])
    if n >= total_chunks:
        return Step(position=n, done=0, finished=True)
    chunk = await rows_of(core).find_one({"_id": f"{job.id}:{n}"})
    if chunk is None:
        raise LookupError(f"the rows of chunk {n} are gone (purged after {ROWS_KEPT.days} days)")
    columns = [Column(int(i), str(h), str(t)) for i, h, t in job.params["columns"]]
    reader = RowReader(columns, str(job.params["phone_region"]))
    if job.params.get("tag_separator"):
        reader = RowReader(columns, reader.phone_region, str(job.params["tag_separator"]))
    # Normalising a thousand emails and phones is CPU work: off the event loop.
    read, errors, skipped = await asyncio.to_thread(
        _read_rows, reader, chunk["rows"], int(chunk["first_row"])
    )
    known = await _known(core, job.workspace_id, [row for _, row in read])
    stored_firsts = await _firsts(core, job, known)
    await asyncio.sleep(0)  # a turn for requests between the chunk's reads and its writes
    actor = Author.model_validate(job.params.get("actor") or SYSTEM.model_dump())
    applied = _Chunk(core, job, core.clock.now(), actor, known)
    for done, (number, row) in enumerate(read, start=1):
        error = applied.apply(number, row, columns)
        if error is not None:
            errors.append(error)
        if done % WRITE_BATCH == 0:
            await asyncio.sleep(0)  # building a batch's writes is CPU work on the loop
    await _write(core, applied)
    await _keep_firsts(core, job, n, known, stored_firsts)
    failed = len({e.row for e in errors})  # rows, however many of their cells are bad
    counts = {**applied.counts, "failed": failed, "skipped": skipped}
    errors.sort(key=lambda e: e.row or 0)  # stable: a row's cells stay in column order
    return Step(
        position=n + 1,
        done=len(chunk["rows"]),
        finished=n + 1 >= total_chunks,
        counts=counts,
        errors=tuple(errors),
    )


async def drop_rows(core: Core, job: Job) -> None:
    """An ended import's rows are personal data nobody needs any more."""
    await rows_of(core).delete_many({"job_id": job.id})
    await firsts_of(core).delete_many({"job_id": job.id})


IMPORT = JobKind(KIND, import_step, finish=drop_rows)
