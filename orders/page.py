"""A customer's Orders section: its script and style, served from a fixed list. The section
itself is in `inbox.html` (the customer panel), `ticket.html` and `contacts_customer.html`;
its data comes from `/app/api/orders`."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from kith.web.inbox.pages import static_file

router = APIRouter(include_in_schema=False)
_HERE = Path(__file__).parent
STATIC = {"orders_panel.js": "text/javascript", "orders_panel.css": "text/css"}


@router.get("/app/orders/static/{name}")
async def static(name: str) -> Response:
    media = STATIC.get(name)
    return static_file(_HERE / "static" / name if media else None, media)
