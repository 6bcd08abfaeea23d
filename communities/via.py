"""Which Kith invite link a stay came through. The platform names a join's link as it has it
(`Span.via`: Telegram's link name, cut to 32 characters and ending in ` ref_<code>`), so the
roster reads the code back to the invite it belongs to: the link's name as the manager gave
it and whose link it is (`Span.link`, filled on reading, never stored)."""

from __future__ import annotations

from typing import Any

from kith.communities import waiting
from kith.communities.invites import code_of, invites
from kith.communities.models import Community, Member, ViaLink
from kith.core.context import Core


async def roster(core: Core, community: Community, docs: list[dict[str, Any]]) -> list[Member]:
    """The roster's members as shown: each marked when it waits to accept the rules, each
    stay through a Kith invite link naming that link and its owner."""
    shown = await waiting.with_waiting(core, community.id, docs)
    codes = {code for m in shown for s in m.spans if (code := code_of(s.via))}
    if not codes:
        return shown
    found = invites(core).find(
        {"community_id": community.id, "code": {"$in": sorted(codes)}},
        {"code": 1, "name": 1, "customer_id": 1},
    )
    made = {doc["code"]: doc async for doc in found}
    owners = {str(doc["customer_id"]) for doc in made.values()}
    names = {
        doc["_id"]: doc.get("name")
        async for doc in core.store.customers.find({"_id": {"$in": sorted(owners)}}, {"name": 1})
    }
    for member in shown:
        for span in member.spans:
            doc = made.get(code_of(span.via) or "")
            if doc is not None:
                span.link = ViaLink(
                    invite_id=str(doc["_id"]),
                    name=str(doc.get("name") or ""),
                    customer_id=str(doc["customer_id"]),
                    owner=names.get(doc["customer_id"]),
                )
    return shown
