"""The outbox's consent guard: a marketing message whose customer revoked consent on its
channel by delivery time is skipped with a reason and an event; service messages and other
channels are not affected."""

from __future__ import annotations

from kith.core.models import Author, AuthorKind, Conversation, OutboundContent, Purpose
from kith.core.outbox import OutboxWorker, send
from tests.consent.conftest import Shop

BROADCAST = Author(kind=AuthorKind.system, name="broadcast")


async def queue(shop: Shop, conversation_id: str, text: str, purpose: Purpose) -> str:
    doc = await shop.core.store.conversations.find_one({"_id": conversation_id})
    assert doc is not None
    message = await send(
        shop.core,
        Conversation.from_doc(doc),
        OutboundContent(text=text, purpose=purpose),
        BROADCAST,
    )
    return message.id


async def status(shop: Shop, message_id: str) -> tuple[str, str | None]:
    doc = await shop.core.store.messages.find_one({"_id": message_id})
    assert doc is not None
    return doc["delivery"]["status"], doc["delivery"].get("error")


async def test_revoked_between_queueing_and_delivery(shop: Shop) -> None:
    received = await shop.says("hi")
    conversation = received.conversation.id
    marketing = await queue(shop, conversation, "Sale!", Purpose.marketing)
    service = await queue(shop, conversation, "Your ticket is solved", Purpose.service)
    answer = await shop.http.put(
        f"/api/v1/customers/{received.message.customer_id}/consent/api",
        json={"state": "revoked"},
        headers=shop.auth,
    )
    assert answer.status_code == 200
    await OutboxWorker(shop.core).run_once()
    assert await status(shop, marketing) == ("skipped", "no_consent")
    assert await status(shop, service) == ("sent", None)
    [event] = await shop.events("message.skipped")
    assert event.message_id == marketing and event.data == {"reason": "no_consent"}


async def test_granted_unknown_and_another_channels_refusal_let_marketing_through(
    shop: Shop,
) -> None:
    received = await shop.says("hi")
    customer_id, conversation = received.message.customer_id, received.conversation.id
    first = await queue(shop, conversation, "Sale!", Purpose.marketing)  # unknown
    await shop.http.put(
        f"/api/v1/customers/{customer_id}/consent/email",
        json={"state": "revoked"},
        headers=shop.auth,
    )
    second = await queue(shop, conversation, "Sale 2", Purpose.marketing)
    await shop.http.put(
        f"/api/v1/customers/{customer_id}/consent/api", json={"state": "granted"}, headers=shop.auth
    )
    third = await queue(shop, conversation, "Sale 3", Purpose.marketing)
    await OutboxWorker(shop.core).run_once()
    for message_id in (first, second, third):
        assert await status(shop, message_id) == ("sent", None)
    assert await shop.events("message.skipped") == []
