"""The delivery worker: POSTs due deliveries, signed, through the egress guard, and retries.

Every `kith serve` runs one. A delivery is claimed under a lease kept in its own document
(`lease_owner`, `lease_until`), longer than one attempt may last, so no two workers send it at
once and a killed worker's delivery is sent by another once its lease runs out. Attempts run
side by side, at most `per_endpoint` at a time for one endpoint in a process, so a slow
endpoint holds its own deliveries and nobody else's. A failed attempt (no answer, a non-2xx,
the deadline passed) is tried again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h (the
schedule Standard Webhooks suggests), then the delivery has failed; an endpoint that has been
failing for `webhook_disable_after_days` is disabled, with the reason. Each failure is stored
as the English (`last_error`, `disabled_error`) and, beside it, as a key and values the
Webhooks page words (`error_wording`, `disabled_error_wording`; `kith.webhooks.wording`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from pymongo import ReturnDocument

from kith.core.clock import aware, wall
from kith.core.context import Core
from kith.core.httpcap import ResponseTooLarge, post_capped
from kith.core.leases import unleased, worker_owner
from kith.core.sealing import sealer_for
from kith.core.waiting import wait_any
from kith.webhooks import signing
from kith.webhooks.actions import wakeup
from kith.webhooks.models import KEEP_ANSWER_CHARS, KEEP_ATTEMPTS, Attempt, DeliveryStatus
from kith.webhooks.store import deliveries, endpoints, purge_at
from kith.webhooks.wording import (
    ANSWER_TOO_LARGE,
    NO_ANSWER,
    NOT_SENT,
    Failure,
    http_status,
    timed_out,
)

log = logging.getLogger(__name__)

RETRY_DELAYS = (5, 300, 1800, 7200, 18000, 36000, 36000)
"""Seconds to wait after the 1st, 2nd … failed attempt; after the last, the delivery failed."""
IDLE_SECONDS = 1.0


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: the answer's status and time, or (`failure`) why it failed."""

    response_status: int | None = None
    latency_ms: int | None = None
    failure: Failure | None = None
    answer: str | None = None  # the answer's first `KEEP_ANSWER_CHARS`
    answer_truncated: bool = False


class DeliveryWorker:
    def __init__(
        self,
        core: Core,
        owner: str | None = None,
        *,
        batch_size: int = 100,
        max_in_flight: int = 32,
        per_endpoint: int = 2,
        ask_each_up_to: int = 32,
    ) -> None:
        self.core = core
        self.owner = worker_owner(owner)
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        self.per_endpoint = per_endpoint
        self.ask_each_up_to = ask_each_up_to  # endpoints with room, asked one by one
        self._running: dict[str, tuple[str, asyncio.Task[None]]] = {}  # id -> (endpoint, task)
        self._progress = asyncio.Event()

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.core.settings.webhook_lease_seconds)

    async def run_once(self) -> int:
        """Claim what is due and send it, to the end (tests, `drain`); returns how many."""
        claimed = await self._claim()
        await asyncio.gather(*(self._attempt(doc) for doc in claimed))
        return len(claimed)

    async def drain(self, limit: int = 10_000) -> int:
        total = 0
        while total < limit and (sent := await self.run_once()):
            total += sent
        return total

    async def run_forever(self, stop: asyncio.Event) -> None:
        """Claims whenever an attempt ends or a delivery is queued here, and looks again every
        second for other processes' deliveries and retries coming due."""
        try:
            while not stop.is_set():
                wakeup(self.core).clear()
                self._progress.clear()
                try:
                    started = self._start(await self._claim())
                except Exception:
                    log.exception("webhook delivery pass failed")
                    started = 0
                if not started:
                    await wait_any((stop, wakeup(self.core), self._progress), IDLE_SECONDS)
        finally:
            tasks = [task for _, task in self._running.values()]
            for task in tasks:  # their leases expire and another worker takes over
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, claimed: Sequence[dict[str, Any]]) -> int:
        for doc in claimed:
            task = asyncio.create_task(self._attempt(doc))
            self._running[doc["_id"]] = (doc["endpoint_id"], task)
            task.add_done_callback(functools.partial(self._ended, doc["_id"]))
        return len(claimed)

    def _ended(self, key: str, _: asyncio.Task[None]) -> None:
        self._running.pop(key, None)
        self._progress.set()

    def _busy(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for endpoint_id, _ in self._running.values():
            counts[endpoint_id] = counts.get(endpoint_id, 0) + 1
        return counts

    async def _claim(self) -> list[dict[str, Any]]:
        """Due deliveries, oldest first, at most `per_endpoint` per endpoint in flight here;
        each taken with a conditional write, so of two workers only one gets it."""
        room = self.max_in_flight - len(self._running)
        if room <= 0:
            return []
        now = self.core.clock.now()
        due = {
            "status": DeliveryStatus.pending.value,
            "next_attempt_at": {"$lte": now},
            **unleased(now),
        }
        busy = self._busy()
        full = [e for e, n in busy.items() if n >= self.per_endpoint]
        if full:
            candidates = await self._due_elsewhere(due, full, busy)
        else:
            candidates = await self._due(due, self.batch_size)
        claimed: list[dict[str, Any]] = []
        lease = {"lease_owner": self.owner, "lease_until": now + self.lease}
        for candidate in candidates:
            endpoint_id = candidate["endpoint_id"]
            if len(claimed) >= room or busy.get(endpoint_id, 0) >= self.per_endpoint:
                continue
            doc = await deliveries(self.core).find_one_and_update(
                {"_id": candidate["_id"], **due},
                {"$set": lease},
                return_document=ReturnDocument.AFTER,
            )
            if doc is not None:
                claimed.append(doc)
                busy[endpoint_id] = busy.get(endpoint_id, 0) + 1
        return claimed

    async def _due(self, query: dict[str, Any], limit: int) -> list[dict[str, Any]]:
        """Up to `limit` deliveries matching `query`, the longest due first."""
        return (
            await deliveries(self.core)
            .find(query, {"_id": 1, "endpoint_id": 1, "next_attempt_at": 1})
            .sort([("next_attempt_at", 1), ("_id", 1)])
            .limit(limit)
            .to_list(limit)
        )

    async def _due_elsewhere(
        self, due: dict[str, Any], full: list[str], busy: dict[str, int]
    ) -> list[dict[str, Any]]:
        """Due deliveries of the endpoints with room here, asked endpoint by endpoint: one
        query leaving out the `full` ones would read all their due deliveries first (one
        slow receiver's backlog, on every wake-up). Past `ask_each_up_to` endpoints, that one
        query costs less than a query each."""
        asked = self.ask_each_up_to + 1  # one more tells "too many" without reading them all
        others = [
            doc["_id"]
            for doc in await endpoints(self.core)
            .find({"_id": {"$nin": full}}, {"_id": 1})
            .limit(asked)
            .to_list(asked)
        ]
        if len(others) > self.ask_each_up_to:
            return await self._due({**due, "endpoint_id": {"$nin": full}}, self.batch_size)
        found = await asyncio.gather(
            *(
                self._due(
                    {**due, "endpoint_id": endpoint_id},
                    self.per_endpoint - busy.get(endpoint_id, 0),
                )
                for endpoint_id in others
            )
        )
        merged = sorted(
            (doc for docs in found for doc in docs),
            key=lambda doc: (aware(doc["next_attempt_at"]), doc["_id"]),
        )
        return merged[: self.batch_size]

    async def _attempt(self, doc: dict[str, Any]) -> None:
        try:
            await self._send(doc)
        except Exception:
            # Left under its lease: tried again when the lease runs out.
            log.exception("webhook delivery failed", extra={"delivery_id": doc["_id"]})

    async def _send(self, doc: dict[str, Any]) -> None:
        endpoint = await endpoints(self.core).find_one({"_id": doc["endpoint_id"]})
        if endpoint is None:  # unsubscribed meanwhile: its log went with it
            await deliveries(self.core).delete_one({"_id": doc["_id"]})
            return
        if not endpoint.get("enabled", True):
            await self._finish(doc, DeliveryStatus.failed, None, failure=NOT_SENT)
            return
        keys = signing.signing_secrets(sealer_for(self.core), endpoint, self.core.clock.now())
        # Receivers check the timestamp against their own clock: the wall's, not the demo's.
        headers = signing.headers(doc["_id"], wall(self.core.clock).now(), doc["body"], keys)
        outcome = await self._post(endpoint["url"], doc["body"], headers)
        if outcome.failure is None:
            await self._finish(doc, DeliveryStatus.succeeded, outcome, headers=headers)
            await endpoints(self.core).update_one(
                {"_id": endpoint["_id"], "failing_since": {"$ne": None}},
                {"$set": {"failing_since": None}},
            )
            return
        attempts = int(doc.get("attempts", 0)) + 1
        now = self.core.clock.now()
        if not doc.get("manual") and attempts <= len(RETRY_DELAYS):
            due = now + timedelta(seconds=RETRY_DELAYS[attempts - 1])
            await self._finish(
                doc, DeliveryStatus.pending, outcome, next_attempt_at=due, headers=headers
            )
        else:
            await self._finish(doc, DeliveryStatus.failed, outcome, headers=headers)
        await self._note_failing(endpoint, now, outcome.failure)

    async def _post(self, url: str, body: str, headers: dict[str, str]) -> Outcome:
        """One POST within the total deadline and under the size cap."""
        timeout = self.core.settings.webhook_timeout_seconds
        started = asyncio.get_running_loop().time()
        try:
            async with asyncio.timeout(timeout):
                answer = await post_capped(
                    self.core.http,
                    url,
                    max_bytes=self.core.settings.outbox_response_max_bytes,
                    content=body.encode(),
                    headers=headers,
                    timeout=timeout,
                )
        except TimeoutError:
            return Outcome(failure=timed_out(timeout))
        except ResponseTooLarge:
            return Outcome(failure=ANSWER_TOO_LARGE)
        except (httpx.HTTPError, OSError):
            return Outcome(failure=NO_ANSWER)
        latency_ms = round((asyncio.get_running_loop().time() - started) * 1000)
        status = answer.status_code
        failure = None if 200 <= status < 300 else http_status(status)
        text = answer.body.decode("utf-8", errors="replace")
        cut = len(text) > KEEP_ANSWER_CHARS
        return Outcome(status, latency_ms, failure, text[:KEEP_ANSWER_CHARS], cut)

    async def _finish(
        self,
        doc: dict[str, Any],
        status: DeliveryStatus,
        outcome: Outcome | None,
        *,
        next_attempt_at: datetime | None = None,
        failure: Failure | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Record the attempt's `outcome` (None: not attempted, for `failure`) and let go; an
        attempt also joins the delivery's `attempt_log`, with the `headers` it sent."""
        changes: dict[str, Any] = {
            "status": status.value,
            "next_attempt_at": next_attempt_at,
            "lease_owner": None,
            "lease_until": None,
        }
        if status != DeliveryStatus.pending:
            changes["manual"] = False
        update: dict[str, Any] = {"$set": changes}
        if outcome is None:
            changes |= _stored(failure)
        else:
            now = self.core.clock.now()
            changes |= {
                "response_status": outcome.response_status,
                "latency_ms": outcome.latency_ms,
                **_stored(outcome.failure),
                "last_attempt_at": now,
                "purge_at": purge_at(self.core),
            }
            update["$inc"] = {"attempts": 1}
            attempt = Attempt(
                at=now,
                request_headers=headers or {},
                response_status=outcome.response_status,
                latency_ms=outcome.latency_ms,
                response_body=outcome.answer,
                response_truncated=outcome.answer_truncated,
                error=changes["last_error"],
                error_wording=changes["error_wording"],
            )
            entry = {"$each": [attempt.model_dump()], "$slice": -KEEP_ATTEMPTS}
            update["$push"] = {"attempt_log": entry}
        await deliveries(self.core).update_one(
            {"_id": doc["_id"], "lease_owner": self.owner}, update
        )

    async def _note_failing(
        self, endpoint: dict[str, Any], now: datetime, failure: Failure
    ) -> None:
        """Remember since when the endpoint fails; past the limit, disable it with why."""
        since = endpoint.get("failing_since")
        if since is None:
            await endpoints(self.core).update_one(
                {"_id": endpoint["_id"], "failing_since": None}, {"$set": {"failing_since": now}}
            )
            return
        limit = timedelta(days=self.core.settings.webhook_disable_after_days)
        if aware(since) + limit > now:
            return
        reason = f"failing since {aware(since):%Y-%m-%d %H:%M} UTC (last: {failure.english})"
        await endpoints(self.core).update_one(
            {"_id": endpoint["_id"], "enabled": True},
            {
                "$set": {
                    "enabled": False,
                    "disabled_reason": reason,
                    "disabled_since": since,
                    "disabled_error": failure.english,
                    "disabled_error_wording": failure.wording.model_dump(),
                    "updated_at": now,
                }
            },
        )
        log.warning("webhook endpoint disabled", extra={"endpoint_id": endpoint["_id"]})


def _stored(failure: Failure | None) -> dict[str, Any]:
    """A delivery's `last_error` and `error_wording` for `failure` (both None: no failure)."""
    if failure is None:
        return {"last_error": None, "error_wording": None}
    return {"last_error": failure.english, "error_wording": failure.wording.model_dump()}
