"""`/api/v1/webhooks` (API tokens) and `/app/api/webhooks` (an admin's session, for the
Webhooks page): one set of routes, two ways of saying who asks."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from kith.core.errors import Forbidden
from kith.core.models import Role, Wording
from kith.web.api.deps import CoreDep, Cursor, WorkspaceDep
from kith.web.api.schemas import Page
from kith.web.inbox.deps import AgentDep
from kith.webhooks import actions
from kith.webhooks.models import (
    EVENT_TYPES,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EndpointIn,
    EndpointPatch,
)
from kith.webhooks.wording import off_wording


class EndpointOut(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    created_at: datetime
    updated_at: datetime
    off: Wording | None = None  # why it is disabled, as the Webhooks page words it


class EndpointMade(EndpointOut):
    secret: str  # shown in this answer only


class SecretOut(BaseModel):
    id: str
    secret: str


class EventType(BaseModel):
    type: str
    description: str


class DeliveryOut(BaseModel):
    id: str  # the `webhook-id` header
    event_id: str
    type: str
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    response_status: int | None
    latency_ms: int | None
    last_error: str | None
    error: Wording | None = None  # `last_error` as the Webhooks page words it
    payload: dict[str, Any]


class AttemptOut(BaseModel):
    at: datetime
    request_headers: dict[str, str]  # as sent: `webhook-signature` is a signature, not the secret
    response_status: int | None
    latency_ms: int | None
    response_body: str | None  # the answer's first 2,000 characters
    response_truncated: bool
    error: str | None
    error_wording: Wording | None


class DeliveryDetails(DeliveryOut):
    body: str  # the request body byte for byte as sent (`payload` is it parsed)
    attempt_log: list[AttemptOut]  # the last 20 attempts, oldest first
    sending: bool  # a worker holds it now: a redelivery is refused (409)


def endpoint_out(endpoint: Endpoint) -> EndpointOut:
    fields = set(EndpointOut.model_fields) - {"off"}
    return EndpointOut(off=off_wording(endpoint), **endpoint.model_dump(include=fields))


def delivery_out(delivery: Delivery) -> DeliveryOut:
    fields = set(DeliveryOut.model_fields) - {"payload", "error"}
    return DeliveryOut(
        payload=json.loads(delivery.body),
        error=delivery.error_wording,
        **delivery.model_dump(include=fields),
    )


def details_out(found: actions.Details) -> DeliveryDetails:
    delivery = found.delivery
    attempts = [AttemptOut.model_validate(a.model_dump()) for a in delivery.attempt_log]
    return DeliveryDetails(
        body=delivery.body,
        attempt_log=attempts,
        sending=found.sending,
        **delivery_out(delivery).model_dump(),
    )


async def token_workspace(workspace_id: WorkspaceDep) -> str:
    return workspace_id


async def admin_workspace(agent: AgentDep) -> str:
    if agent.user.role != Role.admin:
        raise Forbidden("only admins manage webhooks")
    return agent.user.workspace_id


def build(prefix: str, who: Callable[..., Awaitable[str]], schema: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["webhooks"], include_in_schema=schema)
    # A closure's annotations are strings under `from __future__ import annotations`, which
    # FastAPI resolves in the module: the dependency goes in the default instead.
    asked = Depends(who)

    @router.get("/event-types", response_model=list[EventType])
    async def event_types(workspace_id: str = asked) -> list[EventType]:
        """The public event types an endpoint may subscribe to (`*` is every one)."""
        return [EventType(type=k, description=v) for k, v in EVENT_TYPES.items()]

    @router.post("", status_code=201, response_model=EndpointMade)
    async def create(body: EndpointIn, core: CoreDep, workspace_id: str = asked) -> EndpointMade:
        """Subscribe a URL; the answer carries the signing secret, shown this once."""
        made = await actions.do_create_endpoint(core, workspace_id, body)
        return EndpointMade(secret=made.secret, **endpoint_out(made.endpoint).model_dump())

    @router.get("", response_model=Page[EndpointOut])
    async def list_(core: CoreDep, workspace_id: str = asked) -> Page[EndpointOut]:
        found = await actions.list_endpoints(core, workspace_id)
        return Page(items=[endpoint_out(e) for e in found], next_cursor=None)

    @router.get("/{endpoint_id}", response_model=EndpointOut)
    async def get(endpoint_id: str, core: CoreDep, workspace_id: str = asked) -> EndpointOut:
        return endpoint_out(await actions.get_endpoint(core, workspace_id, endpoint_id))

    @router.patch("/{endpoint_id}", response_model=EndpointOut)
    async def patch(
        endpoint_id: str, body: EndpointPatch, core: CoreDep, workspace_id: str = asked
    ) -> EndpointOut:
        changed = await actions.do_update_endpoint(core, workspace_id, endpoint_id, body)
        return endpoint_out(changed)

    @router.delete("/{endpoint_id}", status_code=204)
    async def delete(endpoint_id: str, core: CoreDep, workspace_id: str = asked) -> Response:
        await actions.do_delete_endpoint(core, workspace_id, endpoint_id)
        return Response(status_code=204)

    @router.post("/{endpoint_id}/rotate-secret", response_model=SecretOut)
    async def rotate(endpoint_id: str, core: CoreDep, workspace_id: str = asked) -> SecretOut:
        """A new secret, shown this once; the previous one keeps signing beside it for a day."""
        made = await actions.do_rotate_secret(core, workspace_id, endpoint_id)
        return SecretOut(id=made.endpoint.id, secret=made.secret)

    @router.get("/{endpoint_id}/deliveries", response_model=Page[DeliveryOut])
    async def deliveries(
        endpoint_id: str,
        core: CoreDep,
        workspace_id: str = asked,
        status: DeliveryStatus | None = None,
        cursor: Cursor = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
    ) -> Page[DeliveryOut]:
        """The endpoint's delivery log, latest first."""
        found, next_cursor = await actions.list_deliveries(
            core, workspace_id, endpoint_id, status=status, cursor=cursor, limit=limit
        )
        return Page(items=[delivery_out(d) for d in found], next_cursor=next_cursor)

    @router.get("/{endpoint_id}/deliveries/{delivery_id}", response_model=DeliveryDetails)
    async def delivery(
        endpoint_id: str, delivery_id: str, core: CoreDep, workspace_id: str = asked
    ) -> DeliveryDetails:
        """One delivery in full: the body as sent, and each attempt's time, headers sent
        (signature included; never the secret) and answer (status, time, first 2,000
        characters)."""
        found = await actions.delivery_details(core, workspace_id, endpoint_id, delivery_id)
        return details_out(found)

    @router.post("/{endpoint_id}/test", status_code=202, response_model=DeliveryOut)
    async def send_test(endpoint_id: str, core: CoreDep, workspace_id: str = asked) -> DeliveryOut:
        """Send a `webhook.test` event to the endpoint now, signed, one attempt; its outcome
        shows in the delivery log."""
        return delivery_out(await actions.do_send_test(core, workspace_id, endpoint_id))

    @router.post(
        "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
        status_code=202,
        response_model=DeliveryOut,
    )
    async def redeliver(
        endpoint_id: str, delivery_id: str, core: CoreDep, workspace_id: str = asked
    ) -> DeliveryOut:
        """Send it again now (same `webhook-id`), one attempt."""
        queued = await actions.do_redeliver(core, workspace_id, endpoint_id, delivery_id)
        return delivery_out(queued)

    return router


api_router = build("/api/v1/webhooks", token_workspace, schema=True)
app_router = build("/app/api/webhooks", admin_workspace, schema=False)
