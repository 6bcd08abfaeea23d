"""What enrols customers by itself, driven by real events through core and the consumer
worker (both lanes): a segment entered, a tag added, a WeChat subscribe from a scene QR
code, a Telegram `/start` payload, a bot's `enrol` step; once under redelivery."""

from __future__ import annotations

from typing import Any

from aiogram.types import Update

from kith.bots.engine import BotEngine
from kith.bots.flows import BotDefinition, StepTypes
from kith.bots.knowledge import KnowledgeBase
from kith.bots.store import save_bot
from kith.connectors.telegram.inbound import handle_update
from kith.connectors.wechat.inbound import parse
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.customers import do_update_customer, get_customer
from kith.core.features import install
from kith.core.models import Channel, ChannelEvent, Customer
from kith.core.pipeline import ingest, ingest_event
from kith.sequences.models import Enrolment
from kith.sequences.store import enrolments
from kith.web.app import BASE_FEATURES, bot_step_types
from tests.connectors.telegram.conftest import update
from tests.connectors.wechat.conftest import fixture
from tests.segments.conftest import VIP, segment
from tests.sequences.conftest import MakeSequence, People
from tests.support.cast import inbound
from tests.support.consumers import drain

CONSUMER = "sequence-triggers"


async def enrolled(core: Core, sequence_id: str) -> list[Enrolment]:
    rows = enrolments(core).find({"sequence_id": sequence_id})
    return [Enrolment.from_doc(d) async for d in rows]


async def tag(core: Core, customer: Customer, *tags: str) -> None:
    current = await get_customer(core, customer.workspace_id, customer.id)
    await do_update_customer(core, current, fields={"tags": [*current.tags, *tags]})


async def redeliver(core: Core, event_type: str) -> None:
    """Hand every event of this type back to the triggers consumer, as an expired claim
    would, and run it again."""
    await core.store.events.update_many({"type": event_type}, {"$addToSet": {"pending": CONSUMER}})
    await drain(core)


CONFIGS: dict[str, dict[str, Any]] = {
    "telegram": {"bot_token": "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawQ"},
    "wechat": {"app_id": "wx0123456789abcdef", "app_secret": "s" * 16, "token": "tok123"},
}


async def platform_channel(core: Core, workspace_id: str, type_: str) -> Channel:
    """A stored channel of `type_` with its config (its platform is never called: inbound
    only)."""
    made, _ = await create_channel(core, workspace_id, type_, type_, CONFIGS[type_])
    return made


async def test_entering_a_segment_enrols_into_active_sequences_only(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    vip = await segment(score, workspace_id, VIP)
    trigger = [{"kind": "segment_entered", "value": vip.id}]
    active = await make_sequence(triggers=trigger)
    draft = await make_sequence(active=False, triggers=trigger)
    elsewhere = await segment(score, workspace_id, {**VIP, "value": "x"}, name="Other")
    other = await make_sequence(triggers=[{"kind": "segment_entered", "value": elsewhere.id}])
    (ada, _grace) = await people(2)
    await drain(score)
    assert await enrolled(score, active.id) == []  # writing once enters no VIP segment
    await tag(score, ada, "vip")
    await drain(score)
    [enrolment] = await enrolled(score, active.id)
    assert enrolment.customer_id == ada.id
    assert enrolment.source == f"segment:{vip.id}"
    assert await enrolled(score, draft.id) == []
    assert await enrolled(score, other.id) == []


async def test_a_tag_added_enrols_once_even_when_the_event_is_redelivered(
    score: Core, workspace_id: str, people: People, make_sequence: MakeSequence
) -> None:
    sequence = await make_sequence(triggers=[{"kind": "tag_added", "value": "lead"}])
    (ada,) = await people(1)
    await tag(score, ada, "newsletter")
    await drain(score)
    assert await enrolled(score, sequence.id) == []
    await tag(score, ada, "lead")
    updated = await score.store.events.find_one(
        {"type": "customer.updated", "data.tags_added": "lead"}
    )
    assert updated is not None and updated["data"]["tags_added"] == ["lead"]  # not newsletter
    await drain(score)
    await redeliver(score, "customer.updated")
    [enrolment] = await enrolled(score, sequence.id)
    assert enrolment.source == "tag:lead" and enrolment.customer_id == ada.id
    assert await score.store.events.count_documents({"type": "sequence.enrolled"}) == 1


async def test_a_wechat_subscribe_from_a_scene_code_enrols(
    score: Core, workspace_id: str, make_sequence: MakeSequence
) -> None:
    sequence = await make_sequence(triggers=[{"kind": "wechat_scene", "value": "123123"}])
    channel = await platform_channel(score, workspace_id, "wechat")
    plain = parse(channel, fixture("subscribe"))
    scanned = parse(channel, fixture("subscribe_qrscene"))  # EventKey qrscene_123123
    assert isinstance(plain, ChannelEvent) and isinstance(scanned, ChannelEvent)
    await ingest_event(score, channel, plain)
    await drain(score)
    assert await enrolled(score, sequence.id) == []
    await ingest_event(score, channel, scanned)
    await drain(score)
    [enrolment] = await enrolled(score, sequence.id)
    assert enrolment.source == "wechat_scene:123123"


async def test_a_telegram_start_payload_enrols(
    score: Core, workspace_id: str, make_sequence: MakeSequence
) -> None:
    sequence = await make_sequence(
        channels=["telegram"], triggers=[{"kind": "telegram_start", "value": "spring-promo"}]
    )
    other = await make_sequence(
        channels=["telegram"], triggers=[{"kind": "telegram_start", "value": "autumn"}]
    )
    channel = await platform_channel(score, workspace_id, "telegram")
    body: dict[str, Any] = update("start_payload")  # "/start spring-promo"
    await handle_update(score, channel, Update.model_validate(body))
    await drain(score)
    [enrolment] = await enrolled(score, sequence.id)
    assert enrolment.source == "telegram_start:spring-promo"
    assert await enrolled(score, other.id) == []
    # The /start message itself is no reply: the enrolment is neither marked nor stopped.
    again = Enrolment.from_doc(await enrolments(score).find_one({"_id": enrolment.id}) or {})
    assert again.state == "active" and again.replied_at is None


ENROL_FLOW: dict[str, Any] = {
    "id": "join",
    "trigger": {"kind": "keyword", "values": ["join"]},
    "steps": [
        {"id": "in", "type": "enrol", "sequence_id": "SEQUENCE"},
        {"id": "ok", "type": "send_text", "text": "You are in!"},
    ],
}


async def test_a_bot_step_enrols_the_conversations_customer(
    score: Core, workspace_id: str, channel: Channel, make_sequence: MakeSequence
) -> None:
    step_types = bot_step_types(BASE_FEATURES)
    assert "enrol" in {s.name for s in step_types}  # what the app hands the bots API
    install(score, [BotEngine(KnowledgeBase(), step_types=step_types).feature()])
    sequence = await make_sequence()
    flow = {**ENROL_FLOW, "steps": [{**ENROL_FLOW["steps"][0], "sequence_id": sequence.id}]}
    flow["steps"].append(ENROL_FLOW["steps"][1])
    definition = BotDefinition.model_validate(
        {"name": "Kithy", "channel_ids": [channel.id], "flows": [flow]}
    )
    await save_bot(score, workspace_id, definition, step_types=StepTypes(step_types))
    received = await ingest(score, channel, inbound(channel, "ada", "join"))
    await drain(score)
    [enrolment] = await enrolled(score, sequence.id)
    assert enrolment.source == "bot"
    assert enrolment.customer_id == received.message.customer_id
    said = await score.store.messages.find_one({"direction": "out", "text": "You are in!"})
    assert said is not None  # the flow went on after the step


async def test_a_tag_a_bot_adds_enrols(
    score: Core, workspace_id: str, channel: Channel, make_sequence: MakeSequence
) -> None:
    install(score, [BotEngine(KnowledgeBase()).feature()])
    sequence = await make_sequence(triggers=[{"kind": "tag_added", "value": "lead"}])
    flow = {
        "id": "interested",
        "trigger": {"kind": "keyword", "values": ["price"]},
        "steps": [{"id": "mark", "type": "set", "add_tags": ["lead"]}],
    }
    definition = {"name": "Kithy", "channel_ids": [channel.id], "flows": [flow]}
    await save_bot(score, workspace_id, BotDefinition.model_validate(definition))
    await ingest(score, channel, inbound(channel, "ada", "price"))
    await drain(score)
    [enrolment] = await enrolled(score, sequence.id)
    assert enrolment.source == "tag:lead"
