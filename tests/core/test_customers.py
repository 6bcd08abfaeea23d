"""Customer merge and erase."""

from __future__ import annotations

import pytest

from kith.core.context import Core
from kith.core.customers import do_erase_customer, do_merge_customers, get_customer
from kith.core.errors import InvalidInput, NotFound
from kith.core.models import InboundUser
from kith.core.pipeline import ingest
from tests.support.cast import api_channel, inbound


async def _two_customers(core: Core, workspace_id: str):
    web, _ = await api_channel(core, workspace_id, "Web")
    app, _ = await api_channel(core, workspace_id, "App")
    a = await ingest(core, web, inbound(web, "ada", "from the web"))
    b = await ingest(core, app, inbound(app, "ada", "from the app"))
    await core.store.customers.update_one(
        {"_id": a.message.customer_id},
        {"$set": {"tags": ["vip"], "attributes": {"plan": "gold", "city": "London"}}},
    )
    await core.store.customers.update_one(
        {"_id": b.message.customer_id},
        {"$set": {"tags": ["beta", "vip"], "attributes": {"plan": "free", "age": 36}}},
    )
    return web, app, a, b


async def test_merge_moves_identities_conversations_tags_and_attributes(
    core: Core, workspace_id: str
) -> None:
    web, app, a, b = await _two_customers(core, workspace_id)
    survivor_id, other_id = a.message.customer_id, b.message.customer_id

    merged = await do_merge_customers(core, workspace_id, survivor_id, other_id)

    assert merged.tags == ["vip", "beta"]
    assert merged.attributes == {"plan": "gold", "city": "London", "age": 36}
    assert {(i.channel_id, i.external_id) for i in merged.identities} == {
        (web.id, "u-ada"),
        (app.id, "u-ada"),
    }
    assert await core.store.identities.count_documents({"customer_id": survivor_id}) == 2
    assert await core.store.conversations.count_documents({"customer_id": survivor_id}) == 2
    assert await core.store.messages.count_documents({"customer_id": other_id}) == 0
    with pytest.raises(NotFound):
        await get_customer(core, workspace_id, other_id)
    # The next message on the other channel lands on the survivor.
    later = await ingest(core, app, inbound(app, "ada", "me again"))
    assert later.message.customer_id == survivor_id
    assert await core.store.events.count_documents({"type": "customer.merged"}) == 1


async def test_merge_is_idempotent_and_refuses_nonsense(core: Core, workspace_id: str) -> None:
    _, _, a, b = await _two_customers(core, workspace_id)
    survivor_id, other_id = a.message.customer_id, b.message.customer_id
    first = await do_merge_customers(core, workspace_id, survivor_id, other_id)
    again = await do_merge_customers(core, workspace_id, survivor_id, other_id)

    assert again == first
    assert await core.store.events.count_documents({"type": "customer.merged"}) == 1
    with pytest.raises(InvalidInput):
        await do_merge_customers(core, workspace_id, survivor_id, survivor_id)
    with pytest.raises(NotFound):  # a merged customer cannot survive another merge
        await do_merge_customers(core, workspace_id, other_id, survivor_id)


async def test_erase_removes_profile_identities_messages_and_keeps_a_pii_free_audit(
    core: Core, workspace_id: str
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    secret = InboundUser(id="u-erase", name="Erin Secret", email="erin@example.com")
    received = await ingest(core, channel, inbound(channel, user=secret, text="my address is X"))
    bystander = await ingest(core, channel, inbound(channel, "grace", "unrelated"))
    customer_id = received.message.customer_id

    counts = await do_erase_customer(core, workspace_id, customer_id)

    assert counts["messages"] == 1 and counts["identities"] == 1
    assert await core.store.customers.count_documents({"_id": customer_id}) == 0
    assert await core.store.identities.count_documents({"customer_id": customer_id}) == 0
    assert await core.store.messages.count_documents({"customer_id": customer_id}) == 0
    assert await core.store.events.count_documents({"customer_id": customer_id}) == 0
    audit = await core.store.events.find_one({"type": "customer.erased"})
    assert "Erin" not in str(audit) and "erin@" not in str(audit) and customer_id not in str(audit)
    assert await core.store.messages.count_documents({"_id": bystander.message.id}) == 1
    # The same person writing again starts afresh.
    again = await ingest(core, channel, inbound(channel, user=secret, text="hello again"))
    assert again.new_customer and again.message.customer_id != customer_id
