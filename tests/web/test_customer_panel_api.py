"""`GET /app/api/customers/{id}` answers the customer's latest tickets and orders as the
features' own lists answer them for the same reader: an agent never sees another team's
tickets there."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.orders.actions import do_create_order
from kith.orders.feature import feature as orders_feature
from kith.orders.models import OrderIn
from kith.tickets.actions import do_create_ticket
from kith.tickets.feature import feature as tickets_feature
from kith.tickets.models import TicketIn
from tests.web.conftest import Cast

ITEMS = [{"sku": "TEA-1", "name": "Longjing tea", "quantity": 2, "unit_price": 1250}]


@pytest.fixture(autouse=True)
async def with_desk(core: Core) -> None:
    install(core, [tickets_feature(core), orders_feature(core)])
    await core.start()


async def test_the_panel_carries_the_tickets_and_orders_the_reader_may_see(
    cast: Cast, browser, core: Core
) -> None:
    shop = cast.conversations["shop"]
    ada = (await core.store.conversations.find_one({"_id": shop}))["customer_id"]
    ws = cast.workspace_id
    for subject, team in (
        ("Sales", cast.users["sales"].id),
        ("Support", cast.users["support"].id),
        ("Nobody's", None),
    ):
        body = TicketIn(subject=subject, conversation_id=shop, team_id=team)
        await do_create_ticket(core, ws, body)
    for external_id in ("A-1", "A-2"):
        body = OrderIn.model_validate(
            {"conversation_id": shop, "currency": "CNY", "items": ITEMS, "external_id": external_id}
        )
        await do_create_order(core, ws, body)

    alice, admin = await browser("alice"), await browser("admin")
    panel = (await alice.api("GET", f"/customers/{ada}")).json()
    assert [t["subject"] for t in panel["tickets"]] == ["Nobody's", "Sales"]  # not Support's
    listed = (await alice.api("GET", "/tickets", params={"customer_id": ada})).json()
    assert panel["tickets"] == listed["items"]
    assert sorted(o["external_id"] for o in panel["orders"]) == ["A-1", "A-2"]
    assert {o["total_shown"] for o in panel["orders"]} == {"25.00 CNY"}
    orders = (await alice.api("GET", "/orders", params={"customer_id": ada})).json()
    assert panel["orders"] == orders["items"]
    everything = (await admin.api("GET", f"/customers/{ada}")).json()
    assert sorted(t["subject"] for t in everything["tickets"]) == ["Nobody's", "Sales", "Support"]
