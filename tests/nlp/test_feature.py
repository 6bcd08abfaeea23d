"""Sentiment on every inbound message, the conversation's mood, and escalation once per
episode, with the real model."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from kith.core.clock import ManualClock, ScaledClock
from kith.core.context import Core
from kith.core.conversations import do_update_conversation, get_conversation
from kith.core.models import ConversationStatus, Customer, Message, Preview, Priority
from kith.core.pipeline import ingest
from kith.nlp.feature import SentimentWorker
from kith.nlp.moods import ESCALATION_LABEL
from kith.web.inbox.queries import sentiment_history
from tests.support.cast import api_channel, inbound
from tests.support.faults import failing, racing

ANGRY = [
    "This is the worst service I have ever had. Absolutely terrible.",
    "I am furious, nobody answers and my money is gone!",
    "Still nothing. You are useless and I want a refund now.",
]
HAPPY = "Thank you so much, that fixed it, you are wonderful!"


async def test_each_inbound_message_gets_sentiment_and_language(
    core: Core, workspace_id: str, analyzer: object
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    worker = SentimentWorker(core, analyzer)  # type: ignore[arg-type]
    en = await ingest(core, channel, inbound(channel, "ada", HAPPY))
    zh = await ingest(core, channel, inbound(channel, "li", "质量太差了，非常失望，再也不买了"))
    assert (await core.store.messages.find_one({"_id": en.message.id}))["nlp"] is None

    assert await worker.run_once() == 2
    assert await worker.run_once() == 0

    en_doc = await core.store.messages.find_one({"_id": en.message.id})
    zh_doc = await core.store.messages.find_one({"_id": zh.message.id})
    assert en_doc["nlp"]["sentiment"]["label"] == "positive" and en_doc["nlp"]["language"] == "en"
    assert zh_doc["nlp"]["sentiment"]["label"] == "negative" and zh_doc["nlp"]["language"] == "zh"
    customer = await core.store.customers.find_one({"_id": zh.message.customer_id})
    assert customer["sentiment"]["samples"][-1]["score"] < 0
    conversation = await get_conversation(core, workspace_id, zh.conversation.id)
    assert conversation.sentiment is not None and conversation.sentiment.label == "negative"


async def test_escalation_fires_once_per_episode(
    core: Core, workspace_id: str, analyzer: object
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    worker = SentimentWorker(core, analyzer)  # type: ignore[arg-type]

    async def say(text: str) -> str:
        received = await ingest(core, channel, inbound(channel, "grace", text))
        await worker.run_once()
        return received.conversation.id

    conversation_id = await say("Hello, I have a question about my order.")
    for text in ANGRY:
        await say(text)

    conversation = await get_conversation(core, workspace_id, conversation_id)
    assert conversation.priority == Priority.high
    assert ESCALATION_LABEL in conversation.labels
    assert await core.store.events.count_documents({"type": "conversation.escalated"}) == 1
    note = await core.store.messages.find_one({"private": True, "conversation_id": conversation_id})
    assert note["text"].startswith("Escalated:")
    # each agent's inbox words it in their language (`said_<key>`); the text stays English
    assert note["wording"]["key"] in {"escalated_streak", "escalated_score"}
    assert Preview.of(Message.from_doc(note)).model_dump()["wording"] == note["wording"]

    await say(HAPPY)  # the episode ends
    await do_update_conversation(core, conversation, priority=Priority.none)
    for text in ANGRY[:2]:
        await say(text)
    assert await core.store.events.count_documents({"type": "conversation.escalated"}) == 2


async def test_two_workers_never_analyse_one_message_twice(
    core: Core, workspace_id: str, analyzer: object
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    for i in range(10):
        await ingest(core, channel, inbound(channel, "ada", f"message number {i}"))
    first = SentimentWorker(core, analyzer, batch_size=6, owner="one")  # type: ignore[arg-type]
    second = SentimentWorker(core, analyzer, batch_size=6, owner="two")  # type: ignore[arg-type]

    a = await first.claim()
    b = await second.claim()

    assert len(a) == 6 and len(b) == 4
    assert not {d["_id"] for d in a} & {d["_id"] for d in b}


async def test_resolution_ends_an_episode(core: Core, workspace_id: str, analyzer: object) -> None:
    channel, _ = await api_channel(core, workspace_id)
    worker = SentimentWorker(core, analyzer)  # type: ignore[arg-type]
    received = None
    for text in ANGRY[:2]:
        received = await ingest(core, channel, inbound(channel, "ada", text))
        await worker.run_once()
    assert received is not None
    conversation = await get_conversation(core, workspace_id, received.conversation.id)
    await do_update_conversation(core, conversation, status=ConversationStatus.resolved)
    await core.store.conversations.update_one(
        {"_id": conversation.id}, {"$set": {"status": "resolved"}}
    )
    await ingest(core, channel, inbound(channel, "ada", ANGRY[2]))
    await worker.run_once()
    assert await core.store.events.count_documents({"type": "conversation.escalated"}) == 1


async def test_one_batch_folds_each_conversation_in_message_order(
    core: Core, workspace_id: str, analyzer: object
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    worker = SentimentWorker(core, analyzer)  # type: ignore[arg-type]
    angry = [await ingest(core, channel, inbound(channel, "grace", text)) for text in ANGRY]
    happy = await ingest(core, channel, inbound(channel, "ada", HAPPY))
    await ingest(core, channel, inbound(channel, "ada", "Great, thanks again!"))

    assert await worker.run_once() == 5

    grace = await get_conversation(core, workspace_id, angry[0].conversation.id)
    assert grace.sentiment is not None
    assert (grace.sentiment.count, grace.sentiment.negative_streak) == (3, 3)
    assert grace.sentiment.escalated and grace.priority == Priority.high
    assert await core.store.events.count_documents({"type": "conversation.escalated"}) == 1
    ada = await get_conversation(core, workspace_id, happy.conversation.id)
    assert ada.sentiment is not None and ada.sentiment.count == 2 and not ada.sentiment.escalated
    trend = (await core.store.customers.find_one({"_id": angry[0].message.customer_id}))[
        "sentiment"
    ]["samples"]
    assert [s["at"] for s in trend] == sorted(s["at"] for s in trend) and len(trend) == 3


async def test_workers_sharing_a_conversation_lose_no_result(
    core: Core, workspace_id: str, analyzer: object
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    for text in [*ANGRY, ANGRY[0]]:
        received = await ingest(core, channel, inbound(channel, "grace", text))
    workers = [
        SentimentWorker(core, analyzer, batch_size=2, owner=name)  # type: ignore[arg-type]
        for name in ("one", "two")
    ]

    done = 0
    for _ in range(4):  # a worker that loses a claim race gets nothing that round
        done += sum(await asyncio.gather(*(w.run_once() for w in workers)))
    assert done == 4

    conversation = await get_conversation(core, workspace_id, received.conversation.id)
    assert conversation.sentiment is not None and conversation.sentiment.count == 4
    assert await core.store.events.count_documents({"type": "conversation.escalated"}) == 1
    customer = await core.store.customers.find_one({"_id": received.message.customer_id})
    assert len(customer["sentiment"]["samples"]) == 4


async def test_drain_writes_batches_in_order_while_the_next_is_analysed(
    core: Core, workspace_id: str, analyzer: object
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    texts = ["Hello, a question about my order.", *ANGRY, HAPPY]
    for text in texts:
        received = await ingest(core, channel, inbound(channel, "grace", text))
    worker = SentimentWorker(core, analyzer, batch_size=2)  # type: ignore[arg-type]

    assert await worker.drain() == len(texts)

    conversation = await get_conversation(core, workspace_id, received.conversation.id)
    assert conversation.sentiment is not None
    assert conversation.sentiment.count == len(texts) and conversation.sentiment.label == "positive"
    assert await core.store.events.count_documents({"type": "conversation.escalated"}) == 1
    customer = await core.store.customers.find_one({"_id": received.message.customer_id})
    labels = [s["label"] for s in customer["sentiment"]["samples"]]
    assert labels[1:4] == ["negative"] * 3 and labels[-1] == "positive"
    assert await core.store.messages.count_documents({"direction": "in", "nlp": None}) == 0


async def test_a_mood_another_worker_changed_meanwhile_is_folded_again(
    core: Core, workspace_id: str, analyzer: object
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    for text in ANGRY:
        received = await ingest(core, channel, inbound(channel, "grace", text))
    first = SentimentWorker(core, analyzer, batch_size=2, owner="first")  # type: ignore[arg-type]
    second = SentimentWorker(core, analyzer, batch_size=2, owner="second")  # type: ignore[arg-type]

    with racing(core.store.conversations, "bulk_write", second.run_once):
        assert await first.run_once() == 2  # the second worker folds message 3 meanwhile

    conversation = await get_conversation(core, workspace_id, received.conversation.id)
    assert conversation.sentiment is not None and conversation.sentiment.count == 3
    assert conversation.sentiment.negative_streak == 3 and conversation.sentiment.escalated
    assert await core.store.events.count_documents({"type": "conversation.escalated"}) == 1
    assert await second.run_once() == 0


async def test_a_batch_handled_twice_adds_one_trend_sample_per_message(
    core: Core, workspace_id: str, analyzer: object, clock: ManualClock
) -> None:
    """Regression: a worker whose lease ran out mid-batch and the worker that took the batch
    over both wrote its trend samples (4 history rows for 2 messages) and folded its messages
    into the mood (a count of 4)."""
    channel, _ = await api_channel(core, workspace_id)
    received = [await ingest(core, channel, inbound(channel, "ada", t)) for t in ANGRY[:2]]
    customer_id = received[0].message.customer_id
    before = clock.now() - timedelta(days=1)
    older = {"at": before, "score": 0.5, "label": "positive"}  # from before samples named one
    await core.store.customers.update_one(
        {"_id": customer_id}, {"$set": {"sentiment": {"score": 0.5, "samples": [older]}}}
    )
    first = SentimentWorker(core, analyzer, lease_seconds=60, owner="first")  # type: ignore[arg-type]
    second = SentimentWorker(core, analyzer, owner="second")  # type: ignore[arg-type]

    async def lease_runs_out_and_another_takes_over() -> None:
        clock.advance(61)
        assert await second.run_once() == 2  # the same batch, handled whole

    with racing(core.store.customers, "bulk_write", lease_runs_out_and_another_takes_over):
        assert await first.run_once() == 2  # then the first worker writes it too

    doc = await core.store.customers.find_one({"_id": customer_id})
    samples = doc["sentiment"]["samples"]
    assert [s.get("message_id") for s in samples] == [None, *(r.message.id for r in received)]
    history = sentiment_history(Customer.from_doc(doc))  # the contact panel's reader
    assert [h["label"] for h in history] == ["negative", "negative", "positive"]
    assert history[-1]["score"] == 0.5
    # and the conversation's mood counts each message once, escalating at most once
    conversation = await get_conversation(core, workspace_id, received[0].conversation.id)
    assert conversation.sentiment is not None and conversation.sentiment.count == 2
    escalated = await core.store.events.count_documents({"type": "conversation.escalated"})
    notes = await core.store.messages.count_documents({"private": True})
    assert escalated == notes == int(conversation.sentiment.escalated)


async def test_a_worker_dying_after_the_fold_leaves_its_escalation_to_the_next(
    core: Core, workspace_id: str, analyzer: object, clock: ManualClock
) -> None:
    """Regression: a batch's messages were marked analysed first, so a worker that died
    before its escalation (or its mood and trend writes) lost them for good: the turn went
    unnoticed. Now the batch is claimed again and finished, each part once."""
    channel, _ = await api_channel(core, workspace_id)
    for text in ANGRY:
        received = await ingest(core, channel, inbound(channel, "grace", text))
    first = SentimentWorker(core, analyzer, lease_seconds=60, owner="first")  # type: ignore[arg-type]
    second = SentimentWorker(core, analyzer, owner="second")  # type: ignore[arg-type]

    with failing(core.store.conversations, "find_one"), pytest.raises(ConnectionError):
        await first.run_once()  # dies reading the conversation to escalate it
    conversation = await get_conversation(core, workspace_id, received.conversation.id)
    assert conversation.sentiment is not None and conversation.sentiment.escalated
    assert conversation.priority != Priority.high  # not carried out yet
    assert await second.run_once() == 0  # the batch is still the first worker's
    clock.advance(61)
    assert await second.run_once() == 3

    conversation = await get_conversation(core, workspace_id, received.conversation.id)
    assert conversation.sentiment is not None and conversation.sentiment.count == 3
    assert conversation.priority == Priority.high and ESCALATION_LABEL in conversation.labels
    assert await core.store.events.count_documents({"type": "conversation.escalated"}) == 1
    assert await core.store.messages.count_documents({"private": True}) == 1
    customer = await core.store.customers.find_one({"_id": received.message.customer_id})
    assert len(customer["sentiment"]["samples"]) == 3
    assert await core.store.messages.count_documents({"direction": "in", "nlp": None}) == 0
    assert await second.run_once() == 0


async def test_a_worker_dying_before_marking_its_batch_adds_nothing_twice(
    core: Core, workspace_id: str, analyzer: object, clock: ManualClock
) -> None:
    channel, _ = await api_channel(core, workspace_id)
    for text in (HAPPY, "Great, thanks again!"):
        received = await ingest(core, channel, inbound(channel, "ada", text))
    first = SentimentWorker(core, analyzer, lease_seconds=60, owner="first")  # type: ignore[arg-type]
    second = SentimentWorker(core, analyzer, owner="second")  # type: ignore[arg-type]

    with failing(core.store.messages, "bulk_write"), pytest.raises(ConnectionError):
        await first.run_once()  # dies marking the messages analysed
    clock.advance(61)
    assert await second.run_once() == 2

    conversation = await get_conversation(core, workspace_id, received.conversation.id)
    assert conversation.sentiment is not None and conversation.sentiment.count == 2
    customer = await core.store.customers.find_one({"_id": received.message.customer_id})
    assert len(customer["sentiment"]["samples"]) == 2
    assert await core.store.messages.count_documents({"direction": "in", "nlp": None}) == 0


async def test_a_lease_lasts_real_seconds_on_the_demos_fast_clock(
    core: Core, workspace_id: str, analyzer: object, clock: ManualClock
) -> None:
    """The demo's clock runs an hour a second: a batch leased to one worker stays its own
    for the lease's real seconds, not 1/3600 of them."""
    ticks = [1000.0]
    core.clock = ScaledClock(3600, base=clock, monotonic=lambda: ticks[0])
    channel, _ = await api_channel(core, workspace_id)
    await ingest(core, channel, inbound(channel, "ada", HAPPY))
    first = SentimentWorker(core, analyzer, owner="first")  # type: ignore[arg-type]
    second = SentimentWorker(core, analyzer, owner="second")  # type: ignore[arg-type]
    assert len(await first.claim()) == 1
    ticks[0] += 1  # an hour of Kith's time, a second of the lease's
    assert await second.claim() == []
    clock.advance(301)  # the lease's five minutes, for real
    assert len(await second.claim()) == 1
