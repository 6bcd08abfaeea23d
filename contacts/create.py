"""Creating a customer through the API: identities normalised, no address owned twice.

A customer created with an email, a phone or a channel identity that already belongs to
someone is refused with 409 naming the field and the customer who has it, as HubSpot's
contacts API does (409 "Contact already exists", with the existing id) and Chatwoot's
(email and phone unique per account): the client then updates that customer or merges. The
CSV import, made for loading a list into what is there, merges instead (`kith.contacts.imports`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pymongo.errors import BulkWriteError, DuplicateKeyError

from kith.contacts.normalize import normalize_email, normalize_phone
from kith.core.context import Core
from kith.core.errors import Conflict, InvalidInput
from kith.core.events import SYSTEM, build_event, record
from kith.core.ids import new_id
from kith.core.languages import LOCALE_MAX, check_locale
from kith.core.models import Author, Consent, ConsentState, Customer, Identity, IdentityRef
from kith.core.storable import DocumentKey, Int64
from kith.core.tags import fold_tag
from kith.core.timers import zone

MAX_IDENTITIES = 20


class IdentityIn(BaseModel):
    """The customer's user id on one of the workspace's channels."""

    model_config = ConfigDict(extra="forbid")

    channel_id: str = Field(min_length=1, max_length=64)
    external_id: str = Field(min_length=1, max_length=256)


def clean_tags(value: list[str]) -> list[str]:
    """Folded (`kith.core.tags`): `VIP` and `vip` are one tag."""
    cleaned = [fold_tag(t) for t in value]
    if any(not t or len(t) > 64 for t in cleaned):
        raise ValueError("tags must be 1 to 64 characters")
    return list(dict.fromkeys(cleaned))


class CustomerCreate(BaseModel):
    """A new customer, who has a name, an email, a phone or a channel identity (one at least:
    an empty profile is nobody anyone can find or reach). Emails and phones are normalised
    (phones without +country code are read in `KITH_PHONE_REGION`); consent is per channel
    type (`email`, `wechat` …)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=256)
    avatar_url: str | None = Field(default=None, max_length=4096)
    locale: str | None = Field(
        default=None,
        max_length=LOCALE_MAX,
        description="A BCP 47 tag, language[-Script][-REGION]: `en`, `zh-CN`, `zh-Hant-TW`.",
    )
    timezone: str | None = Field(default=None, max_length=64)
    emails: list[str] = Field(default_factory=list, max_length=MAX_IDENTITIES)
    phones: list[str] = Field(default_factory=list, max_length=MAX_IDENTITIES)
    identities: list[IdentityIn] = Field(default_factory=list, max_length=MAX_IDENTITIES)
    tags: list[str] = Field(default_factory=list, max_length=100)
    attributes: dict[DocumentKey, str | Int64 | float | bool] = Field(default_factory=dict)
    consent: dict[DocumentKey, ConsentState] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        return clean_tags(value)

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        return None if value is None else check_locale(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value

    @model_validator(mode="after")
    def _someone(self) -> CustomerCreate:
        if not (self.name or "").strip() and not (self.emails or self.phones or self.identities):
            raise ValueError("give at least one of name, emails, phones or identities")
        return self

    @field_validator("emails", "phones")
    @classmethod
    def _lengths(cls, value: list[str]) -> list[str]:
        if any(len(v) > 320 for v in value):
            raise ValueError("at most 320 characters each")
        return value


def _normalized(values: list[str], field: str, normalize: Any) -> list[str]:
    out: list[str] = []
    for n, raw in enumerate(values):
        try:
            out.append(normalize(raw))
        except ValueError as exc:
            raise InvalidInput(str(exc), field=f"{field}.{n}") from None
    return list(dict.fromkeys(out))


async def _refuse_owned(core: Core, workspace_id: str, field: str, values: list[str]) -> None:
    """409 when another customer already has one of `values` in `field`."""
    if not values:
        return
    query = {"workspace_id": workspace_id, "merged_into": None, field: {"$in": values}}
    owner = await core.store.customers.find_one(query, {field: 1})
    if owner is not None:
        n = next(i for i, v in enumerate(values) if v in owner.get(field, []))
        raise Conflict(
            f"customer {owner['_id']} already has this {field[:-1]}", field=f"{field}.{n}"
        )


async def _identities(
    core: Core, workspace_id: str, customer_id: str, given: list[IdentityIn]
) -> list[Identity]:
    """The identities to insert, each on a channel of the workspace."""
    now = core.clock.now()
    out: list[Identity] = []
    for n, ident in enumerate(given):
        channel = await core.store.channels.find_one(
            {"_id": ident.channel_id, "workspace_id": workspace_id}, {"type": 1}
        )
        if channel is None:
            raise InvalidInput(
                "no such channel in this workspace", field=f"identities.{n}.channel_id"
            )
        out.append(
            Identity(
                id=new_id(),
                workspace_id=workspace_id,
                channel_id=ident.channel_id,
                channel_type=channel["type"],
                external_id=ident.external_id,
                customer_id=customer_id,
                created_at=now,
            )
        )
    return out


async def _claim_identities(core: Core, identities: list[Identity]) -> None:
    """Insert the identities (their unique index settles a race with a first message);
    none is kept if one already belongs to someone."""
    if not identities:
        return
    try:
        await core.store.identities.insert_many(
            [{**i.to_doc(), "last_seen": None} for i in identities]
        )
    except (BulkWriteError, DuplicateKeyError):
        await core.store.identities.delete_many({"_id": {"$in": [i.id for i in identities]}})
        raise Conflict("this identity already belongs to a customer", field="identities") from None


async def do_create_customer(
    core: Core, workspace_id: str, body: CustomerCreate, actor: Author = SYSTEM
) -> Customer:
    """Create a customer with normalised identities; records `customer.created`."""
    emails = _normalized(body.emails, "emails", normalize_email)
    region = core.settings.phone_region
    phones = _normalized(body.phones, "phones", lambda raw: normalize_phone(raw, region))
    await _refuse_owned(core, workspace_id, "emails", emails)
    await _refuse_owned(core, workspace_id, "phones", phones)
    customer_id = new_id()
    identities = await _identities(core, workspace_id, customer_id, body.identities)
    for n, ident in enumerate(identities):
        key = {"workspace_id": workspace_id, "channel_id": ident.channel_id}
        owner = await core.store.identities.find_one({**key, "external_id": ident.external_id})
        if owner is not None:
            message = f"customer {owner['customer_id']} already has this identity"
            raise Conflict(message, field=f"identities.{n}")
    now = core.clock.now()
    via = actor.kind.value if actor is not SYSTEM else "api"
    customer = Customer(
        id=customer_id,
        workspace_id=workspace_id,
        name=body.name,
        avatar_url=body.avatar_url,
        locale=body.locale,
        timezone=body.timezone,
        tags=body.tags,
        attributes=body.attributes,
        consent={k: Consent(state=state, at=now, via=via) for k, state in body.consent.items()},
        emails=emails,
        phones=phones,
        identities=[
            IdentityRef(channel_id=i.channel_id, external_id=i.external_id) for i in identities
        ],
        channels=list(dict.fromkeys(i.channel_type for i in identities)),
        first_seen=now,
        last_seen=now,
    )
    await _claim_identities(core, identities)
    await core.store.customers.insert_one(customer.to_doc())
    event = build_event(
        core,
        workspace_id,
        "customer.created",
        actor=actor,
        customer_id=customer.id,
        data={"via": "api", "tags_added": customer.tags},
    )
    await record(core, event)
    return customer
