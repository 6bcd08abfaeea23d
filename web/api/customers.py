"""`/api/v1/customers`: search, read, edit, erase and merge customer profiles."""

from __future__ import annotations

import re
import unicodedata
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
from kith.core.search_terms import query_terms
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


# A phone number as people type it: digits with spaces, dashes, dots or brackets, perhaps a
# leading + (full-width forms are folded first). Fewer digits than this are not a number.
_TYPED_PHONE = re.compile(r"^\+?[0-9\s\-().]+$")
PHONE_DIGITS_MIN = 3
PREFIX_MIN = 2  # a one-letter prefix would read most of the index


def _phone_digits(q: str) -> list[str]:
    """The digits of `q` if it is a phone number as typed (none otherwise), and without the
    trunk `0` or international `00` a number dialled at home or abroad starts with."""
    if not _TYPED_PHONE.match(q):
        return []
    digits = re.sub(r"[^0-9]", "", q)
    if len(digits) < PHONE_DIGITS_MIN:
        return []
    forms = [digits]
    if len(digits) >= 7 and digits.startswith("0"):
        forms.append(digits[2:] if digits.startswith("00") else digits[1:])
    return forms


def _word_clauses(q: str) -> list[dict[str, Any]]:
    """`q`'s words among the customer's search terms (`kith.core.search_terms`: name words,
    CJK characters and pairs, whole emails and their words, phone digits and national
    numbers), every word whole but the last, which may be a prefix (still being typed); with
    an `@`, the start of a whole address, so `ada@example.com` is not Ada at another address
    of example.com."""
    if "@" in q:  # an email, perhaps half typed: the start of a whole address
        return [
            {"terms": {"$regex": "^" + literal_regex(unicodedata.normalize("NFKC", q).casefold())}}
        ]
    wanted = query_terms(q)
    if not wanted:
        return []
    *whole, last = wanted
    if len(last) < PREFIX_MIN:
        return [{"terms": {"$all": wanted}}]
    prefix = {"terms": {"$regex": "^" + literal_regex(last)}}
    return [{"$and": [{"terms": {"$all": whole}}, prefix]} if whole else prefix]


def search_filter(q: str) -> dict[str, Any]:
    """What the Contacts search `q` finds (docs/contacts.md): a name holding it (any case, any
    language), a tag equal to it in any case, an identity's id, a whole email or the start of
    an email's words, and a phone as typed (+country code, national number, spaces, dashes)
    or its last digits. `q` is only data: strings compared or escaped, never operators.

    Every branch but two is an equality or a prefix on an index (`terms`, `emails`,
    `phones`); the name substring and a phone's last digits are not, so the `$or` as a whole
    reads the workspace's customers newest first until the page is full, as it always has."""
    text = q.strip() or q
    clauses: list[dict[str, Any]] = [
        {"name": {"$regex": literal_regex(text), "$options": "i"}},
        {"tags": {"$regex": f"^{literal_regex(text)}$", "$options": "i"}},
        {"identities.external_id": text},
        {"emails": text.lower()},
        {"phones": text},
        *_word_clauses(text),
    ]
    for digits in _phone_digits(unicodedata.normalize("NFKC", text)):
        clauses.append({"terms": {"$regex": "^" + digits}})  # international or national
        clauses.append({"phones": {"$regex": digits + "$"}})  # the last digits
    return {"$or": clauses}


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
