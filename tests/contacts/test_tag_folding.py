"""Tags are one thing whatever their case (`kith.core.tags`): every writer stores them folded,
segments compare folded, and the tags stored before are folded once as Kith starts.

Regression (H3): tags were stored as typed, so a marketer's segment on "VIP" missed the
customers an agent had tagged "vip" (while the contacts search found both)."""

from __future__ import annotations

from typing import Any

from kith.contacts.tags import fold_old_tags
from kith.core.backfills import BACKFILLS
from kith.core.context import Core
from kith.core.customers import do_merge_customers
from kith.core.jobs import JobWorker
from tests.api.conftest import ApiSetup
from tests.support.consumers import drain


async def tags_of(core: Core, customer_id: str) -> list[str]:
    doc = await core.store.customers.find_one({"_id": customer_id})
    assert doc is not None
    return list(doc["tags"])


async def created(api: ApiSetup, **body: Any) -> str:
    answer = await api.http.post("/api/v1/customers", json=body, headers=api.auth)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def test_every_writer_stores_tags_folded(api: ApiSetup, core: Core) -> None:
    ada = await created(api, name="Ada", tags=["VIP", " vip ", "Straße", "STRASSE", "上海"])
    assert await tags_of(core, ada) == ["vip", "strasse", "上海"]

    patched = await api.http.patch(
        f"/api/v1/customers/{ada}", json={"tags": ["Vip", "Gold"]}, headers=api.auth
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["tags"] == ["vip", "gold"]
    event = await core.store.events.find_one(
        {"type": "customer.updated", "customer_id": ada}, sort=[("created_at", -1)]
    )
    assert event is not None and event["data"]["tags_added"] == ["gold"]  # "Vip" is not new

    csv = "Name,Email,Labels\nGrace,grace@example.com,VIP|Vip|Math\n"
    mapping = '{"Name": "name", "Email": "email", "Labels": "tags"}'
    imported = await api.http.post(
        "/api/v1/customers/import",
        content=csv.encode(),
        params={"mapping": mapping, "tag_separator": "|"},
        headers={**api.auth, "Content-Type": "text/csv"},
    )
    assert imported.status_code == 202, imported.text
    await JobWorker(core).run_once()
    grace = await core.store.customers.find_one({"name": "Grace"})
    assert grace is not None and grace["tags"] == ["vip", "math"]


async def test_a_merge_keeps_one_tag_of_each(api: ApiSetup, core: Core, workspace_id: str) -> None:
    survivor = await created(api, name="Ada", tags=["vip"])
    other = await created(api, name="Ada L.", tags=["new"])
    # As stored before tags were folded.
    await core.store.customers.update_one({"_id": other}, {"$set": {"tags": ["VIP", "New"]}})
    await do_merge_customers(core, workspace_id, survivor, other)
    assert await tags_of(core, survivor) == ["vip", "new"]


async def test_a_segment_on_vip_in_any_case_finds_the_customers_tagged_vip(
    api: ApiSetup, core: Core
) -> None:
    ada = await created(api, name="Ada", tags=["vip"])
    await created(api, name="Grace", tags=["gold"])
    segment = {"field": "tags", "op": "contains", "value": " VIP"}
    preview = await api.http.post(
        "/api/v1/segments/preview", json={"filter": segment}, headers=api.auth
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["count"] == 1
    made = await api.http.post(
        "/api/v1/segments", json={"name": "VIP", "filter": segment}, headers=api.auth
    )
    assert made.status_code == 201, made.text
    members = await api.http.get(
        f"/api/v1/segments/{made.json()['id']}/customers", headers=api.auth
    )
    assert [c["id"] for c in members.json()["items"]] == [ada]
    # Kept current by events: Grace tagged "Vip" joins.
    grace = await core.store.customers.find_one({"name": "Grace"})
    assert grace is not None
    await api.http.patch(
        f"/api/v1/customers/{grace['_id']}", json={"tags": ["Vip"]}, headers=api.auth
    )
    await drain(core)
    members = await api.http.get(
        f"/api/v1/segments/{made.json()['id']}/customers", headers=api.auth
    )
    assert {c["id"] for c in members.json()["items"]} == {ada, grace["_id"]}


async def test_old_tags_are_folded_once_and_duplicates_merged(
    core: Core, workspace_id: str
) -> None:
    old = [
        ("c-1", ["VIP", "vip", "Gold"]),
        ("c-2", ["vip"]),
        ("c-3", [" Straße ", "strasse"]),
        ("c-4", []),
    ]
    for cid, tags in old:
        await core.store.customers.insert_one(
            {"_id": cid, "workspace_id": workspace_id, "merged_into": None, "tags": tags}
        )
    assert await fold_old_tags(core, batch=2) == 2  # in batches; c-2 and c-4 need nothing
    folded = {d["_id"]: d["tags"] async for d in core.store.customers.find({})}
    assert folded == {"c-1": ["vip", "gold"], "c-2": ["vip"], "c-3": ["strasse"], "c-4": []}
    assert await fold_old_tags(core) == 0  # done: one read of the mark
    # Idempotent even without the mark (another process's pass, a mark lost).
    await core.store.collection(BACKFILLS).delete_many({})
    assert await fold_old_tags(core) == 0
    assert {d["_id"]: d["tags"] async for d in core.store.customers.find({})} == folded
