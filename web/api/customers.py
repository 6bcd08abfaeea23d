"""`/api/v1/customers`: search, read, edit, erase and merge customer profiles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from kith.core.customers import (
    do_erase_customer,
    do_merge_customers,
    do_update_customer,
    get_customer,
)
from kith.core.models import Customer
from kith.core.pagination import page
from kith.core.storable import literal_regex
from kith.segments.filters import parse_json, to_query
from kith.web.api.deps import CoreDep, Cursor, WorkspaceDep
from kith.web.api.schemas import CustomerOut, CustomerPatch, Erased, MergeRequest, Page

# A query string, percent-encoded, stays under the 64 KiB that HTTP clients and proxies allow
# (a segment's full filter, up to 100 conditions, goes in a JSON body: /api/v1/segments).
FILTER_MAX = 4_000
FILTER_HELP = "A segment filter as JSON (see docs/segments.md), e.g. "
FILTER_HELP += '{"field": "tags", "op": "contains", "value": "vip"}'

router = APIRouter(prefix="/customers", tags=["customers"])


def customer_out(customer: Customer) -> CustomerOut:
    data = customer.model_dump(mode="json")
    return CustomerOut.model_validate(data)


def search_filter(q: str) -> dict[str, Any]:
    """Name (substring, any case), exact tag, identity id, email or phone. `q` is only data."""
    return {
        "$or": [
            {"name": {"$regex": literal_regex(q), "$options": "i"}},
            {"tags": q},
            {"identities.external_id": q},
            {"emails": q.strip().lower()},
            {"phones": q.strip()},
        ]
    }


@router.get("", response_model=Page[CustomerOut])
async def list_(
    core: CoreDep,
    workspace_id: WorkspaceDep,
    q: Annotated[str | None, Query(min_length=1, max_length=256)] = None,
    filter: Annotated[str | None, Query(max_length=FILTER_MAX, description=FILTER_HELP)] = None,
    cursor: Cursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> Page[CustomerOut]:
    query: dict[str, Any] = {"workspace_id": workspace_id, "merged_into": None}
    if q:
        query.update(search_filter(q))
    if filter:
        query = {"$and": [query, to_query(parse_json(filter), core.clock.now())]}
    docs, next_cursor = await page(
        core.store.customers, query, "_id", cursor=cursor, limit=limit, descending=True
    )
    return Page(items=[customer_out(Customer.from_doc(d)) for d in docs], next_cursor=next_cursor)


@router.get("/{customer_id}", response_model=CustomerOut)
async def get(customer_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> CustomerOut:
    return customer_out(await get_customer(core, workspace_id, customer_id))


@router.patch("/{customer_id}", response_model=CustomerOut)
async def patch(
    customer_id: str, body: CustomerPatch, core: CoreDep, workspace_id: WorkspaceDep
) -> CustomerOut:
    """Fields given replace the stored ones; attributes merge key by key (null removes one)."""
    customer = await get_customer(core, workspace_id, customer_id)
    updated = await do_update_customer(
        core,
        customer,
        fields=body.model_dump(exclude_unset=True, exclude={"attributes"}),
        attributes=body.attributes,
    )
    return customer_out(updated)


@router.delete("/{customer_id}", response_model=Erased)
async def erase(customer_id: str, core: CoreDep, workspace_id: WorkspaceDep) -> Erased:
    """Erase the customer and everything they said (GDPR-style); keeps a PII-free audit."""
    return Erased(deleted=await do_erase_customer(core, workspace_id, customer_id))


@router.post("/{customer_id}/merge", response_model=CustomerOut)
async def merge(
    customer_id: str, body: MergeRequest, core: CoreDep, workspace_id: WorkspaceDep
) -> CustomerOut:
    return customer_out(await do_merge_customers(core, workspace_id, customer_id, body.other_id))
