"""`/api/v1/orders` (API tokens: a shop or an ERP) and `/app/api/orders` (the inbox's session):
one set of routes, two ways of saying who asks. Routes parse, call an action and answer.

On the session side agents and admins create and move orders (an agent only for customers
their teams' channels talk to); marketers read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from kith.core.context import Core
from kith.core.errors import Forbidden, InvalidInput
from kith.core.ids import refuse_non_ids
from kith.core.models import Author, AuthorKind
from kith.core.pagination import page
from kith.core.permissions import Scope, ensure_can_reach
from kith.orders import actions
from kith.orders.models import MOVES, Order, OrderIn, OrderPatch, OrderStatus, Source
from kith.orders.money import EXPONENTS, shown
from kith.orders.store import LATEST, get_order, orders
from kith.web.api.deps import CoreDep, WorkspaceDep
from kith.web.api.schemas import Page
from kith.web.inbox.deps import AgentDep

READ = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Asker:
    workspace_id: str
    author: Author
    source: Source
    scope: Scope | None = None  # None: the whole workspace (an API token)


async def token_asker(workspace_id: WorkspaceDep) -> Asker:
    author = Author(kind=AuthorKind.system, name="api")
    return Asker(workspace_id=workspace_id, author=author, source=Source.api)


async def session_asker(request: Request, agent: AgentDep) -> Asker:
    """The signed-in user (CSRF checked on writes); a marketer may only read."""
    if not agent.scope.can_write and request.method not in READ:
        raise Forbidden("only agents and admins change orders")
    author = Author(kind=AuthorKind.agent, id=agent.user.id, name=agent.user.name)
    return Asker(agent.user.workspace_id, author, Source.chat, agent.scope)


class OrderOut(Order):
    """The order, with its total as people read it ("19.99 USD") and the statuses it may move
    to now (`moves`, sorted), so that a client offers only those."""

    total_shown: str
    moves: list[OrderStatus]

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls(
            **order.model_dump(),
            total_shown=shown(order.total, order.currency),
            moves=sorted(MOVES[order.status]),
        )


Cursor = Annotated[str | None, Query(max_length=1024)]
Limit = Annotated[int, Query(ge=1, le=100)]
Id = Annotated[str | None, Query(min_length=1, max_length=64)]


def build(prefix: str, who: Callable[..., Awaitable[Asker]], schema: bool) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=["orders"], include_in_schema=schema)
    # A closure's annotations are strings under `from __future__ import annotations`, which
    # FastAPI resolves in the module: the dependency goes in the default instead.
    asked = Depends(who)

    @router.post("", status_code=201, response_model=OrderOut)
    async def create(body: OrderIn, core: CoreDep, asker: Asker = asked) -> Any:
        """A new order (201); a repeat of an `external_id` answers the existing order (200),
        or 409 on `external_id` when it comes with other contents.
        Amounts are integers of the currency's minor unit; a `total` or an item's `amount`
        that disagrees with the items is refused (422 naming it)."""
        await ensure_can_reach(
            core, asker.scope, customer_id=body.customer_id, conversation_id=body.conversation_id
        )
        order, made = await actions.do_create_order(
            core, asker.workspace_id, body, asker.author, asker.source
        )
        if made:
            return OrderOut.of(order)
        return JSONResponse(OrderOut.of(order).model_dump(mode="json"), status_code=200)

    @router.get("/currencies", response_model=dict[str, int])
    async def currencies(asker: Asker = asked) -> dict[str, int]:
        """The ISO 4217 currencies orders may use, with their minor-unit exponents."""
        return EXPONENTS

    @router.get("", response_model=Page[OrderOut])
    async def list_(
        core: CoreDep,
        asker: Asker = asked,
        customer_id: Id = None,
        status: OrderStatus | None = None,
        cursor: Cursor = None,
        limit: Limit = 25,
    ) -> Page[OrderOut]:
        """Latest first (by `placed_at`, then id); narrowed to one customer and/or one
        status."""
        refuse_non_ids({"customer_id": customer_id})
        if asker.scope is not None and asker.scope.channel_ids is not None and not customer_id:
            raise InvalidInput("name the customer whose orders to list", field="customer_id")
        await ensure_can_reach(core, asker.scope, customer_id=customer_id, conversation_id=None)
        query: dict[str, Any] = {"workspace_id": asker.workspace_id}
        if customer_id:
            query["customer_id"] = customer_id
        if status is not None:
            query["status"] = status.value
        docs, next_cursor = await page(
            orders(core), query, LATEST, cursor=cursor, limit=limit, descending=True
        )
        items = [OrderOut.of(Order.from_doc(d)) for d in docs]
        return Page(items=items, next_cursor=next_cursor)

    @router.get("/{order_id}", response_model=OrderOut)
    async def get(order_id: str, core: CoreDep, asker: Asker = asked) -> OrderOut:
        return OrderOut.of(await _visible(core, asker, order_id))

    @router.patch("/{order_id}", response_model=OrderOut)
    async def patch(order_id: str, body: OrderPatch, core: CoreDep, asker: Asker = asked) -> Any:
        """Move the order to `status` (409 listing the allowed ones if it cannot), with an
        optional `reason` kept on the move, and/or change `shipping` (the fields given). The
        customer is told when it becomes paid, shipped, delivered, cancelled or refunded."""
        await _visible(core, asker, order_id)
        ws = asker.workspace_id
        if body.status is not None:
            moved = await actions.do_move_order(
                core, ws, order_id, body.status, asker.author, body.shipping, body.reason
            )
            return OrderOut.of(moved)
        if body.reason is not None:
            raise InvalidInput("a reason goes with a status to move to", field="reason")
        if body.shipping is not None:
            changed = await actions.do_update_shipping(
                core, ws, order_id, body.shipping, asker.author
            )
            return OrderOut.of(changed)
        raise InvalidInput("give status or shipping", field="status")

    return router


async def _visible(core: Core, asker: Asker, order_id: str) -> Order:
    order = await get_order(core, asker.workspace_id, order_id)
    await ensure_can_reach(core, asker.scope, customer_id=order.customer_id, conversation_id=None)
    return order


api_router = build("/api/v1/orders", token_asker, schema=True)
app_router = build("/app/api/orders", session_asker, schema=False)
