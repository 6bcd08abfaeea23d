"""Erasing a customer leaves nothing that names them, in any collection.

A scripted life touches every feature that keeps customer data: messages on two channels
(the API and a real mailbox), a bot session, sentiment, email threads, raw mail, an order
and its notice, a merge.
After the erasure every document of every collection is searched for the customer's ids,
their identities and their words. A collection that holds customer data without being
declared (`Feature.customer_data`) fails this test.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from kith.bots.engine import BotEngine
from kith.bots.flows import BotDefinition
from kith.bots.knowledge import KnowledgeBase
from kith.bots.store import save_bot
from kith.core.context import Core
from kith.core.customers import do_erase_customer, do_merge_customers
from kith.core.features import install
from kith.core.models import Channel
from kith.core.outbox import OutboxWorker
from kith.core.pipeline import ingest
from kith.nlp.feature import SentimentWorker
from kith.orders.actions import do_create_order, do_move_order
from kith.orders.feature import feature as orders_feature
from kith.orders.models import OrderIn, OrderStatus
from tests.connectors.email.conftest import (  # noqa: F401 (fixtures)
    Mailbox,
    clock,
    email_channel,
    imap_server,
    mailbox,
    poll,
    smtp_server,
)
from tests.nlp.conftest import analyzer, model_dir  # noqa: F401 (fixtures)
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain

ASK_EMAIL = {
    "id": "contact",
    "trigger": {"kind": "keyword", "values": ["change"]},
    "steps": [{"id": "q", "type": "ask", "text": "Your new email?", "attribute": "new_email"}],
}
API_WORDS = ["I want to change my address", "This is terrible service, I am furious"]
MAIL_WORDS = "Where is my order #1234"
ORDER_ADDRESS = "12 Analytical Engine Row, London"


def traces(doc: dict[str, Any], needles: list[str]) -> list[str]:
    text = json.dumps(doc, default=str, ensure_ascii=False)
    return [needle for needle in needles if needle in text]


async def everything(core: Core) -> dict[str, list[dict[str, Any]]]:
    names = await core.store.db.list_collection_names()
    return {name: await core.store.db[name].find({}).to_list(None) for name in sorted(names)}


@pytest.mark.timeout(600)  # the sentiment model's first load, on a busy machine
async def test_after_merge_and_erase_no_collection_names_the_customer(
    core: Core,
    workspace_id: str,
    email_channel: Channel,  # noqa: F811
    mailbox: Mailbox,  # noqa: F811
    analyzer: object,  # noqa: F811
) -> None:
    install(
        core,
        [
            BotEngine(KnowledgeBase()).feature(),
            SentimentWorker(core, analyzer).feature(),  # type: ignore[arg-type]
            orders_feature(core),
        ],
    )
    api, _ = await api_channel(core, workspace_id)
    bot = BotDefinition.model_validate(
        {"name": "Kithy", "channel_ids": [api.id], "knowledge_base": False, "flows": [ASK_EMAIL]}
    )
    await save_bot(core, workspace_id, bot)
    for text in API_WORDS:
        first = await ingest(core, api, inbound(api, "ada", text))
    order = {
        "conversation_id": first.conversation.id,
        "external_id": "shop-order-7",
        "currency": "GBP",
        "items": [{"sku": "PEN", "name": "Fountain pen", "quantity": 1, "unit_price": 2500}],
        "shipping": {"address": ORDER_ADDRESS},
    }
    made, _ = await do_create_order(core, workspace_id, OrderIn.model_validate(order))
    await do_move_order(core, workspace_id, made.id, OrderStatus.paid)  # a notice is sent
    await mailbox.deliver_fixture("plain_first_contact.eml")  # from ada@example.com
    await poll(core, email_channel)
    [mail] = await core.store.messages.find({"channel_id": email_channel.id}).to_list(None)
    await drain(core)
    await OutboxWorker(core).run_once()
    await SentimentWorker(core, analyzer).drain()  # type: ignore[arg-type]
    await drain(core)
    survivor = first.message.customer_id
    await do_merge_customers(core, workspace_id, survivor, mail["customer_id"])
    assert (
        await core.store.collection("bot_sessions").count_documents({"customer_id": survivor}) == 1
    )

    await do_erase_customer(core, workspace_id, survivor)

    needles = [survivor, mail["customer_id"], "u-ada", "ada@example.com", MAIL_WORDS, *API_WORDS]
    needles += [ORDER_ADDRESS, "shop-order-7", first.conversation.id, mail["conversation_id"]]
    found = {
        f"{name}/{doc['_id']}": hits
        for name, docs in (await everything(core)).items()
        for doc in docs
        if (hits := traces(doc, needles))
    }
    assert found == {}


async def test_a_customer_writing_after_erasure_starts_afresh(
    core: Core, workspace_id: str
) -> None:
    install(core, [BotEngine(KnowledgeBase()).feature()])
    api, _ = await api_channel(core, workspace_id)
    bot = BotDefinition.model_validate(
        {"name": "Kithy", "channel_ids": [api.id], "knowledge_base": False, "flows": [ASK_EMAIL]}
    )
    await save_bot(core, workspace_id, bot)
    first = await ingest(core, api, inbound(api, "ada", "human"))  # the bot hands off, pauses
    await drain(core)
    assert (await core.store.collection("bot_sessions").find_one({}))["paused"] is True

    await do_erase_customer(core, workspace_id, first.message.customer_id)
    again = await ingest(core, api, inbound(api, "ada", "I want to change my email"))
    await drain(core)

    session = await core.store.collection("bot_sessions").find_one({"_id": again.conversation.id})
    assert again.message.customer_id != first.message.customer_id
    assert session is not None and not session.get("paused")
    assert session["waiting"] == "q"  # the bot answered the new customer
