"""Who may see what, as filters every list and search starts from: the conversations and
customers a reader may see (`kith.core.permissions.Scope`: None is an API token, which sees
the whole workspace). The inbox's pages and `GET /api/v1/search` both read them from here,
so a group of the search across everything holds what its own list shows and nothing more.
Tickets keep theirs beside their store (`kith.tickets.store.visible`), as features do.
"""

from __future__ import annotations

from typing import Any

from kith.core.context import Core
from kith.core.errors import Forbidden
from kith.core.models import Customer
from kith.core.permissions import Scope


def conversations_visible(workspace_id: str, scope: Scope | None) -> dict[str, Any]:
    """The filter of the conversations `scope` may read: an agent their teams' channels'
    and those handed to their teams (`Scope.conversation_filter`)."""
    return scope.conversation_filter() if scope is not None else {"workspace_id": workspace_id}


def customers_visible(scope: Scope | None, query: dict[str, Any]) -> dict[str, Any]:
    """`query` narrowed to the customers `scope` lists: an agent only those with an identity
    on their teams' channels (the Contacts list, the search across everything)."""
    channels = scope.channel_ids if scope is not None else None
    if channels is None:
        return query
    return {"$and": [query, {"identities.channel_id": {"$in": sorted(channels)}}]}


async def ensure_can_read_customer(core: Core, scope: Scope, customer: Customer) -> None:
    """An agent reads a customer who reaches their teams' channels, or one whose
    conversation was handed to their team; anyone else is refused (403)."""
    channels = scope.channel_ids
    if channels is None or any(r.channel_id in channels for r in customer.identities):
        return
    seen = await core.store.conversations.find_one(
        {"$and": [scope.conversation_filter(), {"customer_id": customer.id}]}, {"_id": 1}
    )
    if seen is None:
        raise Forbidden("this customer talks to another team")
