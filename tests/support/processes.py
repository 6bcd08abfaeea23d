"""Worker processes a test kills with SIGKILL and replaces (`WorkerPool`): what a crash of a
real `kith serve` leaves behind (a connection dropped mid-command, claims that stay leased),
not a cancelled task that may still clean up; and in-process stand-ins for other processes
(`cores_like`)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from kith.core.context import Core
from kith.core.features import Feature, install
from kith.core.storage import Store
from tests.support.worker_process import FEATURES_ENV, WORKER_ENV

ROOT = Path(__file__).resolve().parents[2]
LOADED_DEADLINE = 180.0  # importing a worker on a loaded 2-core machine
READY_DEADLINE = 60.0


class WorkerPool:
    """`size` workers running `worker` ("module:Class") with `features`, on `env`'s settings
    and shared clock, forked by one parent (`tests.support.worker_process`); the stderr of
    every process goes to `log`."""

    def __init__(
        self, size: int, worker: str, features: list[str], env: dict[str, str], log: Path
    ) -> None:
        self.size = size
        self.env = {**os.environ, **env, WORKER_ENV: worker, FEATURES_ENV: ",".join(features)}
        self.log = log
        self.running: list[int] = []
        self.ready: dict[int, asyncio.Event] = {}
        self.exits: dict[int, int] = {}
        self.gone: dict[int, asyncio.Event] = {}
        self.killed: set[int] = set()
        self.kills = 0
        self._spawned: asyncio.Queue[int] = asyncio.Queue()
        self._loaded = asyncio.Event()
        self._parent: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        with self.log.open("ab") as err:
            self._parent = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.support.worker_process",
                cwd=ROOT,
                env=self.env,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
            )
        self._reader = asyncio.create_task(self._read())
        await asyncio.wait_for(self._loaded.wait(), LOADED_DEADLINE)
        for _ in range(self.size):
            await self.spawn()
        await asyncio.wait_for(
            asyncio.gather(*(self.ready[pid].wait() for pid in self.running)), READY_DEADLINE
        )

    async def _read(self) -> None:
        assert self._parent is not None and self._parent.stdout is not None
        async for raw in self._parent.stdout:
            word, *rest = raw.decode().split()
            if word == "loaded":
                self._loaded.set()
            elif word == "spawned":
                await self._spawned.put(int(rest[0]))
            elif word == "ready":
                self.ready.setdefault(int(rest[0]), asyncio.Event()).set()
            elif word == "exit":
                self.exits[int(rest[0])] = int(rest[1])
                self.gone.setdefault(int(rest[0]), asyncio.Event()).set()

    async def spawn(self) -> int:
        assert self._parent is not None and self._parent.stdin is not None
        self._parent.stdin.write(b"spawn\n")
        await self._parent.stdin.drain()
        pid = await asyncio.wait_for(self._spawned.get(), READY_DEADLINE)
        self.ready.setdefault(pid, asyncio.Event())
        self.running.append(pid)
        return pid

    async def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a worker that is working (ready), and fork another in its place."""
        working = [pid for pid in self.running if self.ready[pid].is_set()]
        if not working:
            return
        victim = rng.choice(working)
        os.kill(victim, signal.SIGKILL)
        self.killed.add(victim)
        self.running.remove(victim)
        self.kills += 1
        await self.spawn()

    def check_alive(self) -> None:
        """A worker that exits by itself crashed: the test should say so, not hang."""
        crashed = {pid: code for pid, code in self.exits.items() if pid not in self.killed}
        if crashed:
            raise AssertionError(f"workers exited by themselves {crashed}; see {self.log}")

    async def stop(self) -> None:
        """SIGTERM the workers, wait until the parent reaped them, then end the parent."""
        for pid in self.running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        waits = [self.gone.setdefault(pid, asyncio.Event()).wait() for pid in self.running]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*waits), 30)
        for pid in self.running:
            if pid not in self.exits:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.running = []
        if self._parent is not None and self._parent.stdin is not None:
            self._parent.stdin.close()
            await asyncio.wait_for(self._parent.wait(), 30)
        if self._reader is not None:
            await self._reader


@contextlib.asynccontextmanager
async def cores_like(
    core: Core, n: int, features: Callable[[Core], list[Feature]]
) -> AsyncIterator[list[Core]]:
    """`n` more Kith processes' Cores on `core`'s database and clock, each its own client on
    a real server (the embedded engine lives in one process: there they share its store)."""
    made = []
    for _ in range(n):
        store = core.store if core.store.embedded else Store.from_settings(core.settings)
        other = Core(store=store, settings=core.settings, clock=core.clock)
        install(other, features(other))
        made.append(other)
    try:
        yield made
    finally:
        for other in made:
            await other.http.aclose()
            if other.store is not core.store:
                await other.store.close()
