"""A pool of worker processes (`tests.support.worker_process`) that a test kills with SIGKILL
and replaces: what a crash of a real `kith serve` leaves behind (an open connection dropped
mid-command, claims that stay leased), not a cancelled task that may still clean up."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import sys
from pathlib import Path

from tests.support.worker_process import FEATURES_ENV, WORKER_ENV

ROOT = Path(__file__).resolve().parents[2]
READY_DEADLINE = 120.0  # importing a worker on a loaded 2-core machine


class Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.ready = asyncio.Event()
        self._watch = asyncio.create_task(self._wait_ready())

    async def _wait_ready(self) -> None:
        assert self.process.stdout is not None
        line = await self.process.stdout.readline()
        if line.strip() == b"ready":
            self.ready.set()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGKILL)

    async def reap(self) -> int:
        self._watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._watch
        return await self.process.wait()


class WorkerPool:
    """`size` workers running `worker` ("module:Class") with `features`, on `env`'s settings
    and shared clock; stderr of every process goes to `log`."""

    def __init__(
        self, size: int, worker: str, features: list[str], env: dict[str, str], log: Path
    ) -> None:
        self.size = size
        self.env = {
            **os.environ,
            **env,
            WORKER_ENV: worker,
            FEATURES_ENV: ",".join(features),
        }
        self.log = log
        self.running: list[Worker] = []
        self.kills = 0
        self.exited: list[int] = []

    async def spawn(self) -> Worker:
        with self.log.open("ab") as err:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tests.support.worker_process",
                cwd=ROOT,
                env=self.env,
                stdout=asyncio.subprocess.PIPE,
                stderr=err,
            )
        worker = Worker(process)
        self.running.append(worker)
        return worker

    async def start(self) -> None:
        for _ in range(self.size):
            await self.spawn()
        await self.all_ready()

    async def all_ready(self) -> None:
        await asyncio.wait_for(
            asyncio.gather(*(w.ready.wait() for w in self.running)), READY_DEADLINE
        )

    async def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a worker that is working (ready), and start another in its place."""
        ready = [w for w in self.running if w.ready.is_set()]
        if not ready:
            return
        victim = rng.choice(ready)
        victim.kill()
        self.running.remove(victim)
        await victim.reap()
        self.kills += 1
        await self.spawn()

    def check_alive(self) -> None:
        """A worker that exits by itself crashed: the test should say so, not hang."""
        for worker in self.running:
            if worker.process.returncode is not None:
                raise AssertionError(
                    f"a worker exited with {worker.process.returncode}; see {self.log}"
                )

    async def stop(self) -> None:
        for worker in self.running:
            with contextlib.suppress(ProcessLookupError):
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.running:
            try:
                self.exited.append(await asyncio.wait_for(worker.reap(), 30))
            except TimeoutError:
                worker.kill()
                self.exited.append(await worker.reap())
        self.running = []
