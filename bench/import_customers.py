"""Customer import: a CSV of `--n` rows through the import job, against a bare `insert_many`
of the same customer documents in the same run, on the same store.

    python bench/import_customers.py [--n 100000] [--mongo-uri mongodb://…]

The file has a name, an email, a phone, tags and a city per row (a tenth of the rows name an
email an earlier row has: each is reported as a `duplicate_in_file` error, the first row
winning, so `failed` is a tenth of `--n`). Kith: `start_import` (charset detection, parsing,
the mapping, rows stored in chunks) then one `JobWorker` running the job to the end (per chunk:
one lookup of the customers its rows name, the writes, the events, the job's progress).
Baseline: `insert_many` of one document per distinct customer, in batches of 1,000.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import announce, emit, run_settings, running, store_name, store_option
from kith.contacts.imports import ImportOptions, start_import
from kith.core.context import Core
from kith.core.features import install
from kith.core.jobs import JobWorker, get_job
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import BASE_FEATURES

CITIES = ("上海", "北京", "London", "广州", "Berlin")


def csv_file(n: int) -> bytes:
    lines = ["name,email,phone,tags,attributes.city"]
    for i in range(n):
        person = i - i % 10 if i % 10 == 9 else i  # every tenth row repeats an earlier email
        tags = "vip" if i % 7 == 0 else ""
        phone = f"+86 139 {i // 10000:04d} {i % 10000:04d}"
        lines.append(f"客户 {i},c{person}@example.com,{phone},{tags},{CITIES[i % 5]}")
    return ("\n".join(lines) + "\n").encode()


def docs(workspace_id: str, n: int) -> list[dict[str, object]]:
    now = time.time()
    return [
        {
            "_id": uuid.uuid4().hex[:24],
            "workspace_id": workspace_id,
            "name": f"客户 {i}",
            "emails": [f"c{i}@example.com"],
            "phones": [f"+86139{i // 10000:04d}{i % 10000:04d}"],
            "tags": ["vip"] if i % 7 == 0 else [],
            "attributes": {"city": CITIES[i % 5]},
            "first_seen": now,
            "last_seen": now,
        }
        for i in range(n)
        if i % 10 != 9
    ]


async def run(args: argparse.Namespace) -> dict[str, object]:
    settings = run_settings(args.mongo_uri)
    core = Core.from_settings(settings)
    install(core, BASE_FEATURES)
    async with running(core):
        ws = (await ensure_default_workspace(core)).id
        data = csv_file(args.n)
        baseline_docs = docs("bench-baseline", args.n)
        started = time.perf_counter()
        bare = core.store.collection("baseline_customers")
        for i in range(0, len(baseline_docs), 1000):
            await bare.insert_many(baseline_docs[i : i + 1000])
        baseline_s = time.perf_counter() - started
        started = time.perf_counter()
        job = await start_import(core, ws, data, ImportOptions())
        queued_s = time.perf_counter() - started
        await JobWorker(core).run_once()
        kith_s = time.perf_counter() - started
        done = await get_job(core, ws, job.id)
        stored = await core.store.customers.count_documents({"workspace_id": ws})
        print(
            f"file: {len(data) / 1e6:.1f} MB, {args.n} rows; job {done.status.value} {done.result}"
        )
        customers = len(baseline_docs)
        print(f"bare insert_many: {customers / baseline_s:9.0f} customers/s ({baseline_s:.1f} s)")
        print(
            f"import job:       {customers / kith_s:9.0f} customers/s, {args.n / kith_s:.0f} rows/s"
        )
        print(f"                  ({kith_s:.1f} s in all, {queued_s:.1f} s of it to queue the job)")
        print(f"ratio: {baseline_s / kith_s:.3f}")
        assert done.status == "done" and stored == len(baseline_docs), (done, stored)
        return {
            "store": store_name(args.mongo_uri),
            "rows": args.n,
            "customers": stored,
            "seconds": round(kith_s, 1),
            "rows_per_s": round(args.n / kith_s, 1),
            "baseline_per_s": round(len(baseline_docs) / baseline_s, 1),
            "ratio": round(baseline_s / kith_s, 3),
            "queue_seconds": round(queued_s, 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="rows in the file")
    store_option(parser)
    args = parser.parse_args()
    announce(args)
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
