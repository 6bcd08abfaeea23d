"""`/api/v1/broadcasts` (API tokens) and `/app/api/broadcasts` (the page's session): one set
of routes, two ways of saying who asks. Routes parse, call an action and answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, computed_field

from kith.broadcasts import actions
from kith.broadcasts.estimate import Estimate, EstimateIn, estimate_for, estimate_input
from kith.broadcasts.models import (
    Broadcast,
    BroadcastIn,
    BroadcastPatch,
    MessageIn,
    RecipientStatus,
    Stats,
    Status,
)
from kith.broadcasts.preview import Preview, preview
from kith.broadcasts.recipients_list import (
    RecipientOut,
    csv_names,
    list_recipients,
    recipient_rows,
)
from kith.communities.broadcasts import Delivery, deliveries
from kith.core.csv_text import CSV_RESPONSES, csv_download, csv_text
from kith.core.errors import Forbidden
from kith.core.models import Author, AuthorKind, Role
from kith.web.api.deps import CoreDep, Cursor, WorkspaceDep
from kith.web.api.schemas import Page
from kith.web.inbox.deps import AgentDep


class Asker(BaseModel):
    workspace_id: str
    author: Author


class StatsOut(Stats):
    @computed_field(  # type: ignore[prop-decorator]  # pydantic's documented use on a property
        description="`clicked` / `sent`, from 0 to 1 (null before anything is sent): the "
        "share of the recipients sent to who followed a link of their message."
    )
    @property
    def click_rate(self) -> float | None:
        return round(self.clicked / self.sent, 4) if self.sent else None


class BroadcastOut(BaseModel):
    id: str
    name: str
    status: Status
    segment_id: str | None
    customer_ids: list[str] | None
    community_ids: list[str] | None = None
    message: MessageIn
    channels: list[str]
    send_at: datetime | None
    send_by: datetime | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    audience_ready: bool
    stats: StatsOut
    version: int = Field(
        default=1, description="Bumped by every saved edit; send it back in a PATCH (`version`)."
    )


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=64)
    channel: str | None = Field(default=None, min_length=1, max_length=32)


def out(broadcast: Broadcast) -> BroadcastOut:
    return BroadcastOut(
        audience_ready=broadcast.audience.done,
        **broadcast.model_dump(include=set(BroadcastOut.model_fields) - {"audience_ready"}),
    )


async def token_asker(workspace_id: WorkspaceDep) -> Asker:
    return Asker(workspace_id=workspace_id, author=Author(kind=AuthorKind.system, name="api"))


async def session_asker(agent: AgentDep) -> Asker:
    if agent.user.role not in {Role.admin, Role.marketer}:
        raise Forbidden("only admins and marketers manage broadcasts")
    author = Author(kind=AuthorKind.agent, id=agent.user.id, name=agent.user.name)
    return Asker(workspace_id=agent.user.workspace_id, author=author)


Move = Callable[[Any, Broadcast, Author], Awaitable[Broadcast]]
MOVES: dict[str, Move] = {
    "schedule": actions.do_schedule,
    "pause": actions.do_pause,
    "resume": actions.do_resume,
    "cancel": actions.do_cancel,
}


def build(prefix: str, who: Callable[..., Awaitable[Asker]], schema: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["broadcasts"], include_in_schema=schema)
    # A closure's annotations are strings under `from __future__ import annotations`, which
    # FastAPI resolves in the module: the dependency goes in the default instead.
    asked = Depends(who)

    @router.post("", status_code=201, response_model=BroadcastOut)
    async def create(body: BroadcastIn, core: CoreDep, asker: Asker = asked) -> BroadcastOut:
        """A draft; templates, channels and the audience are checked now."""
        made = await actions.do_create_broadcast(core, asker.workspace_id, body, asker.author)
        return out(made)

    @router.get("", response_model=Page[BroadcastOut])
    async def list_(
        core: CoreDep,
        asker: Asker = asked,
        cursor: Cursor = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
    ) -> Page[BroadcastOut]:
        items, next_cursor = await actions.list_broadcasts(
            core, asker.workspace_id, cursor=cursor, limit=limit
        )
        return Page(items=[out(b) for b in items], next_cursor=next_cursor)

    @router.post("/estimate", response_model=Estimate)
    async def estimate_(body: EstimateIn, core: CoreDep, asker: Asker = asked) -> Estimate:
        """Who an audience would reach on these channels, before saving: in the audience,
        reachable, consented (or held by quiet hours), and the top skip reasons; the policy
        is asked for at most 300 customers (`sampled`), nothing is sent."""
        return await estimate_input(core, asker.workspace_id, body)

    @router.get("/{broadcast_id}", response_model=BroadcastOut)
    async def get(broadcast_id: str, core: CoreDep, asker: Asker = asked) -> BroadcastOut:
        return out(await actions.get_broadcast(core, asker.workspace_id, broadcast_id))

    @router.patch("/{broadcast_id}", response_model=BroadcastOut)
    async def change(
        broadcast_id: str, body: BroadcastPatch, core: CoreDep, asker: Asker = asked
    ) -> BroadcastOut:
        """Edit a draft (409 on `status` otherwise): the fields given replace the draft's,
        checked as on create; all of it or nothing is saved. With `version` (the one read),
        an edit of a draft changed since is refused: 409 on `version`, reason `changed`."""
        broadcast = await actions.get_broadcast(core, asker.workspace_id, broadcast_id)
        return out(await actions.do_update_broadcast(core, broadcast, body, asker.author))

    @router.get("/{broadcast_id}/estimate", response_model=Estimate)
    async def estimate_saved(broadcast_id: str, core: CoreDep, asker: Asker = asked) -> Estimate:
        """The estimate of a saved broadcast's audience, as `POST /estimate` gives it."""
        broadcast = await actions.get_broadcast(core, asker.workspace_id, broadcast_id)
        return await estimate_for(core, broadcast)

    @router.get("/{broadcast_id}/communities", response_model=list[Delivery])
    async def communities_(
        broadcast_id: str, core: CoreDep, asker: Asker = asked
    ) -> list[Delivery]:
        """A community broadcast's post into each community and its outcome (empty for a
        broadcast to customers)."""
        broadcast = await actions.get_broadcast(core, asker.workspace_id, broadcast_id)
        return await deliveries(core, broadcast)

    @router.get("/{broadcast_id}/recipients", response_model=Page[RecipientOut])
    async def recipients_(
        broadcast_id: str,
        core: CoreDep,
        asker: Asker = asked,
        status: Annotated[list[RecipientStatus] | None, Query()] = None,
        cursor: Cursor = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 25,
    ) -> Page[RecipientOut]:
        """Each customer (or community) it was for: sent, waiting, skipped or failed and
        why, in a stable order; `status` (given again for more) narrows."""
        broadcast = await actions.get_broadcast(core, asker.workspace_id, broadcast_id)
        items, next_cursor = await list_recipients(
            core, broadcast, status or [], cursor=cursor, limit=limit
        )
        return Page(items=items, next_cursor=next_cursor)

    @router.get(
        "/{broadcast_id}/recipients.csv",
        response_class=StreamingResponse,
        responses=CSV_RESPONSES,
    )
    async def recipients_csv(
        broadcast_id: str,
        core: CoreDep,
        asker: Asker = asked,
        status: Annotated[list[RecipientStatus] | None, Query()] = None,
    ) -> StreamingResponse:
        """The recipients as a CSV file (all of them, or those of `status`), in the list's
        order; a status is written as stored (`sent`, `skipped`...), its reason as a code.
        The file is named after the broadcast and the time of the export
        (`broadcast-spring-sale-20261207-1200-recipients.csv`; a Chinese name in UTF-8)."""
        broadcast = await actions.get_broadcast(core, asker.workspace_id, broadcast_id)
        rows = recipient_rows(core, broadcast, status or [])
        return csv_download(csv_text(rows), *csv_names(broadcast, core.clock.now()))

    @router.post("/{broadcast_id}/preview", response_model=Preview)
    async def preview_(
        broadcast_id: str, body: PreviewIn, core: CoreDep, asker: Asker = asked
    ) -> Preview:
        broadcast = await actions.get_broadcast(core, asker.workspace_id, broadcast_id)
        return await preview(core, broadcast, body.customer_id, body.channel)

    for name, action in MOVES.items():
        router.add_api_route(
            f"/{{broadcast_id}}/{name}",
            _mover(action, asked),
            methods=["POST"],
            response_model=BroadcastOut,
            name=f"{name}_broadcast{prefix.replace('/', '_')}",
            summary=f"{name.capitalize()} a broadcast",
        )
    return router


def _mover(action: Move, asked: Any) -> Callable[..., Awaitable[BroadcastOut]]:
    async def route(broadcast_id: str, core: CoreDep, asker: Asker = asked) -> BroadcastOut:
        broadcast = await actions.get_broadcast(core, asker.workspace_id, broadcast_id)
        return out(await action(core, broadcast, asker.author))

    return route


api_router = build("/api/v1/broadcasts", token_asker, schema=True)
app_router = build("/app/api/broadcasts", session_asker, schema=False)
