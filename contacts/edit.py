"""Editing a customer's profile from their Contacts page: name, emails, phones, locale, time
zone and attributes, as HubSpot and Chatwoot let an agent do.

Checked as a new customer is (`kith.contacts.create`): emails through email-validator,
phones through phonenumbers in `KITH_PHONE_REGION`, and an address another customer has is
a 409 naming the field and that customer. Every bad field is refused in one answer, each
with a `reason` the page words in its language. The write is core's `do_update_customer`,
so one `customer.updated` event names what changed and who changed it (the timeline, the
search terms, segments and open inbox panels follow it).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)
from pydantic_core import PydanticCustomError

from kith.contacts.create import MAX_IDENTITIES
from kith.contacts.normalize import normalize_email, normalize_phone
from kith.core.context import Core
from kith.core.customers import do_update_customer
from kith.core.errors import Conflict, KithError, all_refused, raise_all
from kith.core.languages import LOCALE_MAX, check_locale
from kith.core.models import Author, Customer
from kith.core.storable import DocumentKey, Int64
from kith.core.timers import zone

REGION = "phone_region"  # the validation context's key: where a national number is read


def _email(raw: str) -> str:
    try:
        return normalize_email(raw)
    except ValueError as exc:
        raise PydanticCustomError("not_an_email", str(exc), {"value": raw}) from None


def _phone(raw: str, info: ValidationInfo) -> str:
    region = (info.context or {}).get(REGION, "CN")
    try:
        return normalize_phone(raw, region)
    except ValueError as exc:
        raise PydanticCustomError("not_a_phone", str(exc), {"value": raw}) from None


def _locale(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    try:
        return check_locale(raw.strip())
    except ValueError as exc:
        raise PydanticCustomError("not_a_locale", str(exc), {"value": raw}) from None


def _timezone(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    try:
        zone(raw.strip())
    except ValueError as exc:
        raise PydanticCustomError("unknown_timezone", str(exc), {"value": raw}) from None
    return raw.strip()


def _name(raw: str | None) -> str | None:
    return (raw or "").strip() or None


Address = Annotated[str, Field(max_length=320)]


class ProfileEdit(BaseModel):
    """The fields the page changes; one left out stays as it is. `emails` and `phones`
    replace the lists (the first is the one shown), blank `name`, `locale` or `timezone`
    clears it, and `attributes` merge key by key (null removes one)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str | None, Field(max_length=256), AfterValidator(_name)] = None
    locale: Annotated[str | None, Field(max_length=LOCALE_MAX + 8), AfterValidator(_locale)] = None
    timezone: Annotated[str | None, Field(max_length=64), AfterValidator(_timezone)] = None
    emails: list[Annotated[Address, AfterValidator(_email)]] | None = Field(
        default=None, max_length=MAX_IDENTITIES
    )
    phones: list[Annotated[Address, AfterValidator(_phone)]] | None = Field(
        default=None, max_length=MAX_IDENTITIES
    )
    attributes: dict[DocumentKey, str | Int64 | float | bool | None] | None = Field(
        default=None, max_length=100
    )


def parse_edit(core: Core, body: dict[str, Any]) -> ProfileEdit:
    """`body` checked, every bad field in one refusal (phones read in the workspace's region)."""
    try:
        return ProfileEdit.model_validate(body, context={REGION: core.settings.phone_region})
    except ValidationError as exc:
        raise all_refused(exc.errors(), body) from None


async def _owned(core: Core, customer: Customer, field: str, values: list[str]) -> list[KithError]:
    """A 409 for each of `values` another (unmerged) customer of the workspace has."""
    if not values:
        return []
    query = {
        "workspace_id": customer.workspace_id,
        "merged_into": None,
        "_id": {"$ne": customer.id},
        field: {"$in": values},
    }
    owners = await core.store.customers.find(query, {field: 1, "name": 1}).to_list(None)
    refusals: list[KithError] = []
    for n, value in enumerate(values):
        owner = next((o for o in owners if value in o.get(field, [])), None)
        if owner is None or value in values[:n]:
            continue
        shown = owner.get("name") or value
        refusals.append(
            Conflict(
                f"customer {owner['_id']} ({shown}) already has {value}",
                field=f"{field}.{n}",
                code=f"{field[:-1]}_taken",
                reason=f"customer_has_{field[:-1]}",
                limits={"value": value, "customer_id": owner["_id"], "customer": shown},
            )
        )
    return refusals


async def do_edit_profile(
    core: Core, customer: Customer, edit: ProfileEdit, actor: Author
) -> Customer:
    """Apply `edit` to `customer`, recorded as `actor`'s `customer.updated`; 409 at each
    address another customer has (nothing is written then)."""
    given = edit.model_dump(exclude_unset=True)
    fields = {k: v for k, v in given.items() if k != "attributes"}
    refusals = [
        *await _owned(core, customer, "emails", fields.get("emails", [])),
        *await _owned(core, customer, "phones", fields.get("phones", [])),
    ]
    raise_all(refusals)
    for key in ("emails", "phones"):  # an address typed twice is kept once
        if key in fields:
            fields[key] = list(dict.fromkeys(fields[key]))
    return await do_update_customer(
        core, customer, actor=actor, fields=fields, attributes=given.get("attributes")
    )
