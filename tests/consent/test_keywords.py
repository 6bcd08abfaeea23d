"""Consent by keyword in chat: each default keyword (English, Chinese), a configured list,
START to grant back, one reply per event however often it runs, and a quiet bot."""

from __future__ import annotations

import pytest

from kith.bots.engine import BotEngine
from kith.bots.flows import BotDefinition
from kith.bots.knowledge import KnowledgeBase
from kith.bots.store import save_bot
from kith.core.features import install
from kith.core.models import ConsentState
from tests.consent.conftest import Shop
from tests.support.consumers import drain


async def consent_of(shop: Shop, customer_id: str, channel_type: str = "api") -> ConsentState:
    consent = (await shop.customer(customer_id)).consent.get(channel_type)
    return consent.state if consent else ConsentState.unknown


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("STOP", "en"),
        ("  stop  ", "en"),
        ("Unsubscribe!", "en"),
        ("UNSUBSCRIBE", "en"),
        ("退订", "zh"),
        ("取消订阅。", "zh"),
    ],
)
async def test_a_default_keyword_revokes_and_is_confirmed_once(
    shop: Shop, text: str, language: str
) -> None:
    received = await shop.says(text)
    customer = await shop.customer(received.message.customer_id)
    assert customer.consent["api"].state == ConsentState.revoked
    assert customer.consent["api"].via == "keyword"
    [changed] = await shop.events("consent.changed")
    assert changed.customer_id == customer.id
    assert changed.data == {
        "channel_type": "api",
        "from": "unknown",
        "to": "revoked",
        "via": "keyword",
    }
    [reply] = await shop.outbound(received.conversation.id)
    assert reply["purpose"] == "service"
    assert ("退订" in reply["text"]) == (language == "zh")


async def test_a_keyword_inside_a_sentence_is_just_a_message(shop: Shop) -> None:
    received = await shop.says("please stop the noise")
    assert await consent_of(shop, received.message.customer_id) == ConsentState.unknown
    assert await shop.outbound(received.conversation.id) == []


async def test_start_grants_back(shop: Shop) -> None:
    received = await shop.says("STOP")
    await shop.says("start")
    assert await consent_of(shop, received.message.customer_id) == ConsentState.granted
    await shop.says("退订")
    await shop.says("订阅")
    assert await consent_of(shop, received.message.customer_id) == ConsentState.granted
    changes = [(e.data["from"], e.data["to"]) for e in await shop.events("consent.changed")]
    assert changes == [
        ("unknown", "revoked"),
        ("revoked", "granted"),
        ("granted", "revoked"),
        ("revoked", "granted"),
    ]
    assert len(await shop.outbound(received.conversation.id)) == 4


async def test_an_event_handled_again_replies_once(shop: Shop) -> None:
    """At-least-once delivery: a worker that died after replying leaves the event pending."""
    received = await shop.says("STOP")
    event_id = f"{received.message.id}.received"
    for _ in range(2):
        await shop.core.store.events.update_one(
            {"_id": event_id}, {"$addToSet": {"pending": "consent"}}
        )
        assert await drain(shop.core) == 1
    assert len(await shop.outbound(received.conversation.id)) == 1
    assert len(await shop.events("consent.changed")) == 1


async def test_a_second_stop_confirms_again_but_changes_nothing(shop: Shop) -> None:
    received = await shop.says("STOP")
    await shop.says("STOP")
    assert len(await shop.events("consent.changed")) == 1
    assert len(await shop.outbound(received.conversation.id)) == 2


async def test_the_workspace_configures_its_own_keywords(shop: Shop) -> None:
    body = {"stop_keywords": ["NOMORE", "别发了"], "start_keywords": ["MORE"]}
    answer = await shop.http.put("/api/v1/consent/settings", json=body, headers=shop.auth)
    assert answer.status_code == 200
    assert (await shop.http.get("/api/v1/consent/settings", headers=shop.auth)).json() == body
    stop = await shop.says("STOP")  # no longer a keyword here
    assert await consent_of(shop, stop.message.customer_id) == ConsentState.unknown
    await shop.says("nomore")
    assert await consent_of(shop, stop.message.customer_id) == ConsentState.revoked
    await shop.says("More")
    assert await consent_of(shop, stop.message.customer_id) == ConsentState.granted
    await shop.says("别发了")
    assert await consent_of(shop, stop.message.customer_id) == ConsentState.revoked


async def test_keyword_settings_refuse_bad_input_by_field(shop: Shop) -> None:
    for body, field in (
        ({"stop_keywords": ["STOP"], "start_keywords": ["stop"]}, "start_keywords"),
        ({"stop_keywords": [""]}, "stop_keywords.0"),
        ({"stop_keywords": ["x" * 65]}, "stop_keywords.0"),
        ({"keywords": []}, "keywords"),
    ):
        answer = await shop.http.put("/api/v1/consent/settings", json=body, headers=shop.auth)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["field"] == field, body


async def test_the_bot_stays_quiet_on_a_keyword(shop: Shop) -> None:
    install(shop.core, [BotEngine(KnowledgeBase()).feature()])
    bot = {"name": "Kithy", "channel_ids": [shop.api.id], "knowledge_base": False, "flows": []}
    await save_bot(shop.core, shop.workspace_id, BotDefinition.model_validate(bot))
    received = await shop.says("STOP")
    [reply] = await shop.outbound(received.conversation.id)
    assert reply["author"]["kind"] == "system"
    await shop.says("what are your opening hours?")  # anything else: the bot answers
    authors = [m["author"]["kind"] for m in await shop.outbound(received.conversation.id)]
    assert authors == ["system", "bot"]
