"""A big import leaves the process to its requests, and an unedited export imports back
without a change even when two customers share an email (each row is matched by its id)."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import httpx

from kith.contacts.imports import ImportOptions, start_import
from kith.core.context import Core
from kith.core.jobs import JobWorker
from tests.contacts.people import Shop, open_shop


async def test_requests_are_served_between_an_imports_chunks(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    """The embedded engine answers every call without leaving the event loop: the import must
    leave it a turn itself, or the inbox waits for the whole file (60,000 rows stalled the
    demo). Another client polls the job through the API while the worker runs it: it is
    answered mid-import and sees the progress move."""
    shop = await open_shop(core, client, workspace_id)
    lines = ["name,email"] + [f"P{n},p{n}@example.com" for n in range(60)]
    job = await start_import(
        core, workspace_id, "\n".join(lines).encode(), ImportOptions(), chunk_rows=10
    )
    seen: list[int] = []

    async def poll() -> None:
        while True:
            response = await client.get(f"/api/v1/jobs/{job.id}", headers=shop.auth)
            assert response.status_code == 200, response.text
            body = response.json()
            seen.append(body["progress"]["done"])
            if body["status"] != "queued" and body["status"] != "running":
                return
            await asyncio.sleep(0)  # a turn for the worker, as any other request would leave

    await asyncio.gather(JobWorker(core).run_once(), poll())
    assert seen[-1] == 60
    assert any(0 < done < 60 for done in seen), seen  # answered while the import ran
    assert seen == sorted(seen)
    assert await core.store.customers.count_documents({"workspace_id": workspace_id}) == 60


async def customer_docs(core: Core, workspace_id: str) -> list[dict[str, Any]]:
    return await core.store.customers.find({"workspace_id": workspace_id}).sort("_id").to_list()


async def export_and_import_back(shop: Shop, client: httpx.AsyncClient) -> dict[str, Any]:
    exported = await client.get("/api/v1/customers/export.csv", headers=shop.auth)
    assert exported.status_code == 200, exported.text
    imported = await client.post(
        "/api/v1/customers/import",
        content=exported.content,
        headers={**shop.auth, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 202, imported.text
    await JobWorker(shop.core).run_once()
    job = await client.get(imported.headers["Location"], headers=shop.auth)
    return dict(job.json())


async def test_an_unedited_export_imports_back_unchanged_when_customers_share_an_email(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    """Two customers (one person on two channels, not merged) share an email: each row of
    the export names its customer by id, so the shared email is no conflict (HubSpot matches
    a record id before an email, too). Nothing changes and no event is recorded."""
    shop = await open_shop(core, client, workspace_id)
    await shop.customer(shop.web, "w-ada", "Ada", "ada@example.com")
    await shop.customer(shop.app, "a-ada", "Ada L.", "ada@example.com", phone="+14155552671")
    await shop.customer(shop.app, "a-bob", "Bob", "bob@example.com")
    before = await customer_docs(core, workspace_id)
    events = await core.store.events.count_documents({})
    job = await export_and_import_back(shop, client)
    assert job["status"] == "done"
    assert job["errors"] == [] and job["result"]["failed"] == 0
    assert job["result"]["created"] == 0 and job["result"]["updated"] == 3
    assert await customer_docs(core, workspace_id) == before
    assert await core.store.events.count_documents({}) == events  # nothing changed, no event


async def test_an_id_does_not_take_an_email_another_customer_holds_alone(
    core: Core, client: httpx.AsyncClient, workspace_id: str
) -> None:
    """Matching by id first lets a shared email pass, not a new one: a row naming Ada by id
    with Bob's email would give two customers that email, so it is refused, naming both
    columns, and Ada and Bob stay as they were."""
    shop = await open_shop(core, client, workspace_id)
    ada = await shop.customer(shop.web, "w-ada", "Ada", "ada@example.com")
    await shop.customer(shop.app, "a-bob", "Bob", "bob@example.com")
    before = await customer_docs(core, workspace_id)
    out = io.StringIO()
    csv.writer(out).writerows([["id", "name", "email"], [ada, "Ada", "bob@example.com"]])
    imported = await client.post(
        "/api/v1/customers/import",
        content=out.getvalue().encode(),
        headers={**shop.auth, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 202, imported.text
    await JobWorker(core).run_once()
    job = (await client.get(imported.headers["Location"], headers=shop.auth)).json()
    assert job["result"]["failed"] == 1
    (error,) = job["errors"]
    assert error["code"] == "different_customers" and error["row"] == 2
    assert error["params"]["columns"] == ["email", "id"]
    assert await customer_docs(core, workspace_id) == before
