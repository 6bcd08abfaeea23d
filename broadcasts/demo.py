"""The demo's broadcast: a draft to the "VIP in 上海" segment on the demo's channels."""

from __future__ import annotations

from kith.broadcasts.actions import do_create_broadcast
from kith.broadcasts.models import BroadcastIn
from kith.core.context import Core
from kith.core.models import Author, AuthorKind
from kith.segments.filters import parse, to_query

SEGMENT = "VIP in 上海"
FILTER = {
    "all": [
        {"field": "tags", "op": "contains", "value": "vip"},
        {"field": "attributes.city", "op": "eq", "value": "上海"},
    ]
}
TEXT = {
    "zh": "{{ customer.name }}，您好！上海会员专享：本周末全场 8 折。回复“退订”不再接收。",
    "en": "Hi {{ customer.name }}! Members in Shanghai: 20% off everything this weekend. "
    "Reply STOP to opt out.",
}


async def seed_demo_broadcast(core: Core, workspace_id: str) -> None:
    """A draft to the segment if the demo has it, else to the customers its filter selects
    now (none: no draft)."""
    segment = await core.store.collection("segments").find_one(
        {"workspace_id": workspace_id, "name": SEGMENT}, {"_id": 1}
    )
    audience: dict[str, object]
    if segment is not None:
        audience = {"segment_id": segment["_id"]}
    else:
        query = {
            "$and": [{"workspace_id": workspace_id}, to_query(parse(FILTER), core.clock.now())]
        }
        ids = await core.store.customers.distinct("_id", query)
        if not ids:
            return
        audience = {"customer_ids": sorted(ids)}
    channels = [t for t in ("webchat", "api") if core.channels.get(t) is not None]
    body = BroadcastIn.model_validate(
        {"name": "上海会员周末特惠", "message": {"text": TEXT}, "channels": channels, **audience}
    )
    marketer = Author(kind=AuthorKind.system, name="demo")
    await do_create_broadcast(core, workspace_id, body, marketer)
