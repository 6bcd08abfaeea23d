"""Undoing a merge: both customers come back exactly when nothing happened since; after later
changes, what the merge did is undone and what happened since stays with the survivor."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.core.customers import customer_data
from kith.core.models import InboundUser
from kith.core.pipeline import ingest
from tests.contacts.people import Shop, open_shop
from tests.support.cast import inbound

AUDIT_EVENTS = ("customer.merged", "customer.unmerged", "customer.updated")


@pytest.fixture
async def shop(core: Core, client: httpx.AsyncClient, workspace_id: str) -> Shop:
    return await open_shop(core, client, workspace_id)


async def snapshot(core: Core) -> dict[str, list[dict[str, Any]]]:
    """Every document of every collection holding customer data, and the profiles; the
    merge's own audit (journal, merge events) left out."""
    names = {"customers", *(d.collection for d in customer_data(core))} - {"merges"}
    found: dict[str, list[dict[str, Any]]] = {}
    for name in sorted(names):
        query = {"type": {"$nin": list(AUDIT_EVENTS)}} if name == "events" else {}
        docs = await core.store.collection(name).find(query).sort("_id", 1).to_list(None)
        found[name] = [{k: v for k, v in d.items() if k not in ("pending", "claims")} for d in docs]
    return found


async def two_adas(shop: Shop) -> tuple[str, str, str]:
    """Ada on the web (tagged vip, city London) and on the app (tagged beta, plan gold), both
    with her email; and the suggestion naming them."""
    web = await shop.customer(shop.web, "w-ada", "Ada", "ada@example.com")
    app = await shop.customer(shop.app, "a-ada", "Ada L.", "ada@example.com", locale="en-GB")
    await shop.core.store.customers.update_one(
        {"_id": web}, {"$set": {"tags": ["vip"], "attributes": {"city": "London"}}}
    )
    await shop.core.store.customers.update_one(
        {"_id": app},
        {
            "$set": {
                "tags": ["beta"],
                "attributes": {"plan": "gold", "city": "Paris"},
                "consent.api": {"state": "granted", "at": shop.core.clock.now(), "via": "form"},
            }
        },
    )
    [suggestion] = (await shop.get("/merge-suggestions")).json()["items"]
    # The other customer's dismissal record is customer data too: it must travel and return.
    await shop.post(f"/merge-suggestions/{suggestion['id']}/dismiss")
    await shop.customer(shop.web, "w-ada-2", "Ada 2", "ada@example.com")
    [suggestion] = (await shop.get("/merge-suggestions")).json()["items"]
    return web, app, suggestion["id"]


async def merge(shop: Shop, suggestion_id: str, survivor: str, other: str) -> str:
    response = await shop.post(
        f"/merge-suggestions/{suggestion_id}/merge", {"survivor_id": survivor, "other_id": other}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["merge_id"])


async def test_undo_restores_both_customers_and_every_document_exactly(
    shop: Shop, core: Core
) -> None:
    web, app, suggestion = await two_adas(shop)
    before = await snapshot(core)

    merge_id = await merge(shop, suggestion, web, app)
    assert await snapshot(core) != before
    undone = await shop.post(f"/merges/{merge_id}/undo")

    assert undone.status_code == 200, undone.text
    report = undone.json()
    assert report["kept_on_survivor"] == []
    assert report["moved_back"]["messages"] == 1
    assert report["moved_back"]["identities"] == 1
    assert report["moved_back"]["merge_dismissals"] == 1
    assert set(report["gone"].values()) == {0}
    assert await snapshot(core) == before
    audit = (await shop.get("/merges")).json()["items"][0]
    assert audit["undone_at"] is not None
    assert audit["undone_by"]["name"] == "API token merges"
    assert await core.store.events.count_documents({"type": "customer.unmerged"}) == 1
    # The app identity belongs to the restored customer again.
    later = await ingest(core, shop.app, inbound(shop.app, user=InboundUser(id="a-ada")))
    assert later.message.customer_id == app


async def test_undo_after_later_changes_keeps_them_with_the_survivor(
    shop: Shop, core: Core
) -> None:
    web, app, suggestion = await two_adas(shop)
    app_before = await core.store.customers.find_one({"_id": app})
    merge_id = await merge(shop, suggestion, web, app)
    # After the merge: Ada writes on the app (lands on the survivor) and gains a tag.
    core.clock.advance(300)  # type: ignore[attr-defined]
    late = await ingest(core, shop.app, inbound(shop.app, user=InboundUser(id="a-ada"), text="hi"))
    assert late.message.customer_id == web
    tagged = await shop.http.patch(
        f"/api/v1/customers/{web}", json={"tags": ["vip", "beta", "loyal"]}, headers=shop.auth
    )
    assert tagged.status_code == 200

    report = (await shop.post(f"/merges/{merge_id}/undo")).json()

    assert set(report["kept_on_survivor"]) == {"tags", "last_seen"}
    survivor = (await shop.get(f"/{web}")).json()
    assert survivor["tags"] == ["vip", "loyal"]  # the merge's "beta" goes, the later tag stays
    assert survivor["attributes"] == {"city": "London"}
    assert survivor["emails"] == ["ada@example.com"]
    assert [i["channel_id"] for i in survivor["identities"]] == [shop.web.id]
    assert await core.store.customers.find_one({"_id": app}) == app_before
    # The message that arrived after the merge stays with the survivor; the older one returns.
    assert (await core.store.messages.find_one({"_id": late.message.id}))["customer_id"] == web
    assert await core.store.messages.count_documents({"customer_id": app}) == 1


async def test_undo_is_refused_twice_and_while_the_survivor_is_merged_elsewhere(
    shop: Shop, core: Core
) -> None:
    web, app, suggestion = await two_adas(shop)
    third = await core.store.customers.find_one(
        {"emails": "ada@example.com", "_id": {"$nin": [web, app]}}
    )
    assert third is not None
    before = await snapshot(core)
    first = await merge(shop, suggestion, web, app)
    second = await merge(shop, suggestion, third["_id"], web)

    blocked = await shop.post(f"/merges/{first}/undo")
    assert blocked.status_code == 409
    assert blocked.json()["error"]["code"] == "survivor_merged"
    assert (await shop.post(f"/merges/{second}/undo")).status_code == 200
    assert (await shop.post(f"/merges/{first}/undo")).status_code == 200

    again = await shop.post(f"/merges/{first}/undo")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_undone"
    assert await snapshot(core) == before


async def test_after_an_undo_erasing_the_restored_customer_leaves_no_trace_in_the_journal(
    shop: Shop, core: Core
) -> None:
    web, app, suggestion = await two_adas(shop)
    merge_id = await merge(shop, suggestion, web, app)
    assert (await shop.post(f"/merges/{merge_id}/undo")).status_code == 200

    erased = await shop.http.delete(f"/api/v1/customers/{app}", headers=shop.auth)

    assert erased.status_code == 200
    journal = await core.store.collection("merges").find_one({"_id": merge_id})
    assert journal is not None
    text = str(journal)
    assert "Ada L." not in text and "ada@example.com" not in text and "Paris" not in text
    [audit] = (await shop.get("/merges")).json()["items"]
    assert audit["undone_at"] is not None and audit["other_name"] is None
