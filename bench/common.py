"""Helpers shared by the benchmarks: timing, percentiles, output and a server to load."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from kith.core.context import Core
from kith.core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# The benchmarks' callback endpoints listen on loopback, a private destination: allow it here
# (and in the servers they start, which inherit the environment), as the test suite does.
os.environ.setdefault("KITH_EGRESS_ALLOW", "127.0.0.0/8,::1,localhost")


@dataclass
class Run:
    """One measured run: how many operations, how long in all, each one's latency."""

    n: int
    seconds: float
    latencies: list[float]

    @property
    def per_s(self) -> float:
        return self.n / self.seconds

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def summary(self) -> dict[str, float]:
        return {
            "per_s": round(self.per_s, 1),
            "p50_ms": round(self.pct(0.50), 2),
            "p99_ms": round(self.pct(0.99), 2),
            "mean_ms": round(statistics.fmean(self.latencies) * 1000, 2),
        }


async def measure(n: int, concurrency: int, op: Callable[[int], Awaitable[object]]) -> Run:
    """Run `op(i)` for i in range(n) with `concurrency` workers; time each call."""
    latencies: list[float] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            started = time.perf_counter()
            await op(i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Run(n, time.perf_counter() - started, latencies)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(module: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `python -m module PORT` and wait until it accepts connections."""
    proc = subprocess.Popen(  # noqa: S603 (our own module, fixed arguments)
        [sys.executable, "-m", module, str(port)],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        if proc.poll() is not None:
            raise RuntimeError(f"{module} exited with {proc.returncode}")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{module} did not start")


async def serve_app(app: Any, port: int) -> None:
    """Serve an ASGI app on loopback as the HTTP benchmark's servers do (Kith's and the bare
    baseline alike): quiet, keep-alive connections kept, a deep accept queue."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        timeout_keep_alive=120,
        backlog=4096,
    )
    await uvicorn.Server(config).serve()


def emit(result: dict[str, object]) -> None:
    """The last line of every benchmark: one JSON object for scripts."""
    print(json.dumps(result, ensure_ascii=False))


def store_option(parser: argparse.ArgumentParser) -> None:
    """`--mongo-uri`: a real server (default `$KITH_MONGO_URI`); none: the embedded engine."""
    parser.add_argument("--mongo-uri", default=os.environ.get("KITH_MONGO_URI"))


def announce(args: argparse.Namespace) -> None:
    """The first line of a run: which store, and every argument (to repeat the run)."""
    print(f"store: {args.mongo_uri or 'embedded engine'}; {vars(args)}")


def store_name(mongo_uri: str | None) -> str:
    """The `store` field of the JSON line."""
    return "real" if mongo_uri else "embedded"


def run_settings(mongo_uri: str | None, **fields: Any) -> Settings:
    """Settings for one run: a database of its own (dropped by `running`), no `.env` read."""
    return Settings(
        mongo_uri=mongo_uri,
        db_name=f"kith_bench_{uuid.uuid4().hex[:8]}",
        _env_file=None,  # type: ignore[call-arg]
        **fields,
    )


@contextlib.asynccontextmanager
async def running(core: Core) -> AsyncIterator[Core]:
    """`core` started; afterwards its database dropped and the core closed, even on failure."""
    await core.start()
    try:
        yield core
    finally:
        await core.store.client.drop_database(core.settings.db_name)
        await core.close()


class ServerProcess:
    """A fake platform (`python -m module PORT`) in a process of its own, on a free port."""

    def __init__(self, module: str) -> None:
        self.module = module
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = start_server(module, self.port, {})

    def restart(self) -> None:
        """A new process on the same port: what it counted so far is gone."""
        self.stop()
        self.proc = start_server(self.module, self.port, {})

    def stop(self) -> None:
        self.proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


@contextlib.contextmanager
def server_process(module: str) -> Iterator[ServerProcess]:
    """`ServerProcess(module)`, stopped at the end."""
    server = ServerProcess(module)
    try:
        yield server
    finally:
        server.stop()
