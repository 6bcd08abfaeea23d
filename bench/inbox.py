"""Benchmark the inbox against bare indexed queries on the same store, in the same run.

    python bench/inbox.py --conversations 2000                 # embedded engine, small
    python bench/inbox.py --mongo-uri mongodb://… --conversations 100000

Seeds N conversations (one customer each) and 10×N messages with bulk inserts, then times
three inbox reads through the real HTTP app (session, permissions, serialization included)
and, for each, a bare indexed `find` that fetches the same page:
- the conversation list, first page;
- the conversation list, a deep cursor page (80 % of the way down);
- a conversation view (its latest 100 messages);
- search (`q`): a rare word, a Chinese phrase without spaces and a Chinese customer name,
  each against a bare indexed `find` of the same conversations by id (the page it answered).
Seeded messages and customers carry their search terms, and conversations theirs in
`conversation_terms`, as ingest and the search consumer write them;
per search it also prints the search's own queries (`list_inbox`, in-process) against the
bare one.
It prints p50/p95 of both and the ratio (the issue's budget: at most 3×), as the client saw
it and as the server reported it (`Server-Timing`: routing, session, permissions, queries and
serialization, without the benchmark client's own HTTP work), the HTTP floor (an empty
request through the same app and client, included in every client figure), then the time
from `ingest()` to the event arriving on a connected browser's SSE stream, both for an
ingest in the serving process and one in another process (the tailing read).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn

from kith.core.auth import create_user
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.conversation_terms import term_docs
from kith.core.ids import derived_id, new_id
from kith.core.models import InboundMessage, InboundUser, Role
from kith.core.pagination import after, encode_cursor
from kith.core.permissions import Scope, scope_of
from kith.core.pipeline import ingest
from kith.core.realtime import feed_for
from kith.core.search_terms import customer_terms, text_terms
from kith.core.sessions import open_session
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import build_core, create_app
from kith.web.inbox.deps import SESSION_COOKIE
from kith.web.inbox.queries import ListQuery, list_inbox

PAGE = 25
VIEW = 100
BATCH = 10_000
WORDS = "order parcel refund late thanks hello where help size colour blue invoice".split()
PHRASES = (
    "我要退款 快递到哪了 尺码偏小 发票抬头 颜色不对 什么时候发货 可以便宜点吗 质量很好".split()
)
SURNAMES = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "梅雷芳娜伟强敏静丽军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红"
SKUS = 50_000  # product codes: one per message, so a code is a rare word


async def seed(core: Core, workspace_id: str, channel_ids: list[str], n: int, per: int) -> None:
    """N customers and conversations, N×per messages, through insert_many in batches.

    Inbound messages carry their dedup key, as ingested ones do. The embedded engine
    (mongomock) ignores the partial filter of that unique index when building it over
    existing documents, so there outbound ones get a unique key too.
    """
    # The newest conversation's last message is now, as in a working inbox (a search reads
    # the newest matches first).
    start = datetime.now(UTC) - timedelta(seconds=n * 7 + per * 3)
    conversations: list[dict[str, Any]] = []
    customers: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []  # conversations' terms (kith.core.conversation_terms)

    async def flush(force: bool = False) -> None:
        for collection, docs in (
            (core.store.customers, customers),
            (core.store.conversations, conversations),
            (core.store.messages, messages),
            (core.store.conversation_terms, held),
        ):
            if docs and (force or len(docs) >= BATCH):
                await collection.insert_many(list(docs), ordered=False)
                docs.clear()

    for i in range(n):
        customer_id, channel_id = new_id(), random.choice(channel_ids)
        thread = f"user:seed-{i}"
        conversation_id = derived_id("conversation", workspace_id, channel_id, thread)
        first = start + timedelta(seconds=i * 7)
        last = first
        name = chinese_name(i)
        terms: dict[str, None] = dict.fromkeys(customer_terms(name))
        for j in range(per):
            last = first + timedelta(seconds=j * 3)
            inbound = j % 2 == 0
            text = " ".join(
                [
                    *random.choices(WORDS, k=8),
                    random.choice(PHRASES),
                    f"sku{random.randrange(SKUS)}",
                ]
            )
            messages.append(
                {
                    "_id": new_id(),
                    "workspace_id": workspace_id,
                    "conversation_id": conversation_id,
                    "customer_id": customer_id,
                    "channel_id": channel_id,
                    "direction": "in" if inbound else "out",
                    "author": {"kind": "customer" if inbound else "agent", "name": name},
                    "text": text,
                    "terms": text_terms(text),
                    "attachments": [],
                    "buttons": [],
                    "private": False,
                    "created_at": last,
                    "delivery": None if inbound else {"status": "sent", "attempts": 1},
                }
            )
            terms.update(dict.fromkeys(messages[-1]["terms"]))
            if inbound or core.store.embedded:
                messages[-1]["dedup_key"] = f"{channel_id}:seed-{i}-{j}"
        customers.append(
            {
                "_id": customer_id,
                "workspace_id": workspace_id,
                "name": name,
                "terms": customer_terms(name),
                "tags": [],
                "attributes": {},
                "identities": [{"channel_id": channel_id, "external_id": f"seed-{i}"}],
                "first_seen": first,
                "last_seen": last,
            }
        )
        conversations.append(
            {
                "_id": conversation_id,
                "workspace_id": workspace_id,
                "customer_id": customer_id,
                "channel_id": channel_id,
                "channel_type": "api",
                "thread_key": thread,
                "external_user_id": f"seed-{i}",
                "status": "open" if i % 5 else "resolved",
                "labels": ["billing"] if i % 7 == 0 else [],
                "priority": "none",
                "last_message_at": last,
                "unread_count": i % 3,
                "created_at": first,
            }
        )
        held += term_docs(workspace_id, conversation_id, terms)  # messages' and customer's
        await flush()
    await flush(force=True)


def chinese_name(i: int) -> str:
    """A surname and a two-character given name: about 16,000 names, so one is shared by a
    few customers at 100,000."""
    given = len(GIVEN)
    first, second = (i // len(SURNAMES)) % given, (i // (len(SURNAMES) * given)) % given
    return SURNAMES[i % len(SURNAMES)] + GIVEN[first] + GIVEN[second]


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes), as `uptime` shows them."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
    for _ in range(3):  # warm-up
        await fn()
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


class ServerTimes:
    """The server's own time per request, from its `Server-Timing: app;dur=…` header: the
    inbox's cost without the benchmark client's (httpx) share."""

    def __init__(self) -> None:
        self.samples: list[float] = []

    async def __call__(self, response: httpx.Response) -> None:
        timing = response.headers.get("server-timing", "")
        if timing.startswith("app;dur="):
            self.samples.append(float(timing.removeprefix("app;dur=")))

    async def timed(self, fn: Callable[[], Awaitable[Any]], runs: int) -> list[float]:
        """Client-side samples of `fn`, keeping the matching server-side ones."""
        self.samples.clear()
        client = await timed(fn, runs)
        self.last = self.samples[-runs:]
        return client


def report(name: str, inbox: list[float], bare: list[float], server: list[float]) -> None:
    p50, p95 = statistics.median(inbox), percentile(inbox, 0.95)
    b50, b95 = statistics.median(bare), percentile(bare, 0.95)
    s50, s95 = statistics.median(server), percentile(server, 0.95)
    print(
        f"{name:<26} inbox p50 {p50:8.2f} ms  p95 {p95:8.2f} ms | bare p50 {b50:8.2f} ms"
        f"  p95 {b95:8.2f} ms | ratio p50 {p50 / b50:5.2f}×  p95 {p95 / b95:5.2f}×\n"
        f"{'':<26} server side p50 {s50:6.2f} ms  p95 {s95:6.2f} ms"
        f" | ratio p50 {s50 / b50:5.2f}×  p95 {s95 / b95:5.2f}×"
    )


async def reads(core: Core, app: Any, cookie: str, scope: Scope, runs: int) -> dict[str, Any]:
    """The reads' figures (printed), and those of the searches for the JSON line."""
    workspace_id = scope.user.workspace_id
    transport = httpx.ASGITransport(app=app)
    server = ServerTimes()
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://bench",
        cookies={SESSION_COOKIE: cookie},
        event_hooks={"response": [server]},
    ) as http:
        base = {"workspace_id": workspace_id, "status": "open"}
        sort = [("last_message_at", -1), ("_id", -1)]

        async def bare_page(query: dict[str, Any]) -> list[dict[str, Any]]:
            return (
                await core.store.conversations.find(query).sort(sort).limit(PAGE + 1).to_list(None)
            )

        async def inbox_page(params: dict[str, str]) -> None:
            answer = await http.get("/app/api/conversations", params=params)
            answer.raise_for_status()

        first = await server.timed(lambda: inbox_page({}), runs)
        listed = server.last
        report("list, first page", first, await timed(lambda: bare_page(base), runs), listed)
        own = await timed(lambda: list_inbox(core, scope, ListQuery()), runs)
        route50, own50 = statistics.median(listed), statistics.median(own)
        print(
            f"{'':<26} its own queries (list_inbox) p50 {own50:6.2f} ms: the route's session,"
            f" scope and serialization add {route50 - own50:.2f} ms p50"
        )
        total = await core.store.conversations.count_documents(base)
        deep = (
            await core.store.conversations.find(base)
            .sort(sort)
            .skip(int(total * 0.8))
            .limit(1)
            .to_list(1)
        )
        cursor = encode_cursor(deep[0]["last_message_at"], deep[0]["_id"])
        deep_query = {"$and": [base, after("last_message_at", cursor, True)]}
        deep_page = await server.timed(lambda: inbox_page({"cursor": cursor}), runs)
        bare_deep = await timed(lambda: bare_page(deep_query), runs)
        report("list, deep cursor page", deep_page, bare_deep, server.last)
        conversation_id = deep[0]["_id"]

        async def view() -> None:
            (await http.get(f"/app/api/conversations/{conversation_id}")).raise_for_status()

        async def bare_view() -> None:
            await (
                core.store.messages.find({"conversation_id": conversation_id})
                .sort([("created_at", -1), ("_id", -1)])
                .limit(VIEW)
                .to_list(None)
            )

        viewed = await server.timed(view, runs)
        report("conversation view", viewed, await timed(bare_view, runs), server.last)

        figures = await searches(core, http, server, scope, runs)

        async def floor() -> None:
            assert (await http.get("/app/api/no-such-route")).status_code == 404

        floor_ms = statistics.median(await timed(floor, runs))
        print(
            f"HTTP floor (a 404 through the same app and client, no database): p50"
            f" {floor_ms:.2f} ms; every client figure above includes it, the bare queries do not"
        )
    return {
        "list_route_p50": round(route50, 2),
        "list_own_p50": round(own50, 2),
        "searches": figures,
    }


async def searches(
    core: Core, http: httpx.AsyncClient, server: ServerTimes, scope: Scope, runs: int
) -> list[dict[str, Any]]:
    """Search through the inbox against a bare indexed `find` of the conversations its first
    page holds (the same ids): the route as the server timed it, and the search's own
    database work (`list_inbox`, what the route runs for the page, on the same client), the
    first time (no window remembered) and repeated."""
    sort = [("last_message_at", -1), ("_id", -1)]

    def sample() -> list[dict[str, Any]]:  # a new one per call: mongomock consumes its stages
        return [{"$match": {"terms": {"$exists": True}}}, {"$sample": {"size": 1}}]

    [message] = await (await core.store.messages.aggregate(sample())).to_list(1)
    [customer] = await (await core.store.customers.aggregate(sample())).to_list(1)
    figures = []
    for name, q in (
        ("search, rare word", message["text"].split()[-1]),  # its sku: in few messages
        ("search, Chinese phrase", random.choice(PHRASES)),
        ("search, customer name", customer["name"]),
    ):
        params = {"q": q, "status": "any"}
        listed = ListQuery(q=q, status=None)
        started = time.perf_counter()
        docs, _ = await list_inbox(core, scope, listed)
        cold = (time.perf_counter() - started) * 1000
        ids = [c.id for c in docs]

        async def inbox_search() -> None:
            (await http.get("/app/api/conversations", params=params)).raise_for_status()  # noqa: B023

        async def own_search() -> None:
            await list_inbox(core, scope, listed)  # noqa: B023

        async def bare_search() -> None:
            found = core.store.conversations.find({"_id": {"$in": ids}})  # noqa: B023
            await found.sort(sort).limit(PAGE + 1).to_list(None)

        inbox = await server.timed(inbox_search, runs)
        route = server.last
        own = await timed(own_search, runs)
        bare = await timed(bare_search, runs)
        label = f"{name} ({len(ids)})"
        report(label, inbox, bare, route)
        o50, o95 = statistics.median(own), percentile(own, 0.95)
        b50, b95 = statistics.median(bare), percentile(bare, 0.95)
        print(
            f"{'':<26} search's own queries p50 {o50:6.2f} ms  p95 {o95:6.2f} ms"
            f" | ratio p50 {o50 / b50:5.2f}×  p95 {o95 / b95:5.2f}× (first search {cold:.2f} ms)"
        )
        figures.append(
            {
                "search": name,
                "page": len(ids),
                "route_p50": round(statistics.median(route), 2),
                "route_p95": round(percentile(route, 0.95), 2),
                "own_p50": round(o50, 2),
                "own_p95": round(o95, 2),
                "own_first": round(cold, 2),
                "bare_p50": round(b50, 2),
                "bare_p95": round(b95, 2),
                "ratio_p50": round(o50 / b50, 2),
                "ratio_p95": round(o95 / b95, 2),
            }
        )
    return figures


async def latency(core: Core, app: Any, cookie: str, channel: Any, runs: int) -> None:
    """Time from `ingest()` to the event's frame on a live SSE connection."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    other = Core(
        store=Store(client=core.store.client, db=core.store.db, embedded=core.store.embedded),
        settings=core.settings,
        channels=core.channels,
    )
    try:
        async with (
            httpx.AsyncClient(timeout=30, cookies={SESSION_COOKIE: cookie}) as http,
            http.stream("GET", f"http://127.0.0.1:{port}/app/api/events") as stream,
        ):
            lines = stream.aiter_lines()
            for label, via in (("same process", core), ("other process", other)):
                samples = []
                for i in range(runs):
                    message_id = f"lat-{label}-{i}-{uuid.uuid4().hex[:6]}"
                    started = time.perf_counter()
                    await ingest(via, channel, inbound(channel, message_id))
                    async for line in lines:
                        if line.startswith("data:") and '"message.received"' in line:
                            break
                    samples.append((time.perf_counter() - started) * 1000)
                print(
                    f"ingest → browser event ({label}): p50 {statistics.median(samples):.2f} ms"
                    f"  p95 {percentile(samples, 0.95):.2f} ms  (n={runs}, tail poll"
                    f" {feed_for(core).poll_seconds:.1f} s)"
                )
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, 5)
        await other.http.aclose()


def inbound(channel: Any, message_id: str) -> InboundMessage:
    return InboundMessage.on(
        channel,
        channel_message_id=message_id,
        user=InboundUser(id="bench-user", name="Bench"),
        text="ping",
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mongo-uri", default=None, help="real server; default: embedded engine")
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--messages-per-conversation", type=int, default=10)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--latency-runs", type=int, default=20)
    parser.add_argument(
        "--settle",
        type=float,
        default=0.0,
        help="seconds to wait after seeding (a server's background work after a bulk load)",
    )
    args = parser.parse_args()
    settings = Settings(mongo_uri=args.mongo_uri, db_name=f"kith_bench_{uuid.uuid4().hex[:8]}")
    core = build_core(settings)
    load_start = load()
    print(f"load average at the start: {load_start} (2 cores, shared)")
    try:
        workspace = await ensure_default_workspace(core)
        channels = [
            (await create_channel(core, workspace.id, "api", f"API {i}", {}))[0] for i in range(4)
        ]
        started = time.perf_counter()
        await seed(
            core,
            workspace.id,
            [c.id for c in channels],
            args.conversations,
            args.messages_per_conversation,
        )
        await core.start()  # indexes after the bulk load: faster on every engine
        engine = "embedded engine" if core.store.embedded else args.mongo_uri
        print(
            f"seeded {args.conversations:,} conversations, "
            f"{args.conversations * args.messages_per_conversation:,} messages on {engine} "
            f"in {time.perf_counter() - started:.1f} s"
        )
        if args.settle:
            print(f"settling for {args.settle:.0f} s after the bulk load")
            await asyncio.sleep(args.settle)
        admin = await create_user(
            core, workspace.id, "bench@kith.test", "bench-password", role=Role.admin
        )
        cookie = await open_session(core, admin)
        app = create_app(core=core, run_workers=False)
        figures = await reads(core, app, cookie, await scope_of(core, admin), args.runs)
        await latency(core, app, cookie, channels[0], args.latency_runs)
        load_end = load()
        print(f"load average at the end: {load_end}")
        print(
            json.dumps(
                {
                    "bench": "inbox",
                    "conversations": args.conversations,
                    "messages": args.conversations * args.messages_per_conversation,
                    "engine": "embedded" if core.store.embedded else "real",
                    "load_start": load_start,
                    "load_end": load_end,
                    **figures,
                }
            )
        )
    finally:
        await core.store.client.drop_database(settings.db_name)
        await core.close()


if __name__ == "__main__":
    asyncio.run(main())
