"""Kith workers as OS processes, forked from one parent that has imported them: for tests
that kill processes for real, about every 2 s.

    python -m tests.support.worker_process

The parent (a "zygote") imports the worker class and the features, then reads commands on
stdin: `spawn` forks a child, which builds its own `Core` (its own database client) and runs
the worker; the parent answers `spawned PID`, the child prints `ready PID` once it works,
and the parent reports `exit PID CODE` when it reaps a child (a SIGKILLed one: CODE -9).
Importing a worker takes 10-20 s on a loaded 2-core machine; a fork takes milliseconds, so
a killed worker is replaced at once. Nothing but imports happens before a fork (no event
loop, no client, no thread), which is what makes forking safe.

Configured by the environment: the `KITH_*` settings (database, secret), the shared clock's
file (`KITH_TEST_CLOCK_FILE`, see `tests.support.shared_clock`), the worker class
(`KITH_TEST_WORKER`, "module:Class", built as `Class(core, owner=…)` and run with
`run_forever(stop)`) and the features to install (`KITH_TEST_FEATURES`, comma-separated
"module:name", each a `Feature` or a function of the `Core` that returns one). SIGTERM stops
a child cleanly; closing stdin ends the parent, which SIGKILLs the children left.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import selectors
import signal
import sys
from pathlib import Path
from typing import Any

from kith.core.context import Core
from kith.core.features import Feature, install
from kith.core.settings import Settings
from tests.support.shared_clock import ENV as CLOCK_ENV
from tests.support.shared_clock import FileClock

WORKER_ENV = "KITH_TEST_WORKER"
FEATURES_ENV = "KITH_TEST_FEATURES"
CHILDREN: set[int] = set()  # in the parent: the workers it forked and has not reaped


def say(line: str) -> None:
    """One line to the test, in one write: parent and children share the pipe."""
    os.write(sys.stdout.fileno(), f"{line}\n".encode())


def named(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def feature_specs() -> list[str]:
    return list(filter(None, os.environ.get(FEATURES_ENV, "").split(",")))


def features(core: Core) -> list[Feature]:
    found = []
    for spec in feature_specs():
        item = named(spec)
        found.append(item if isinstance(item, Feature) else item(core))
    return found


async def work() -> None:
    settings = Settings()
    core = Core.from_settings(settings, clock=FileClock(Path(os.environ[CLOCK_ENV])))
    install(core, features(core))
    worker = named(os.environ[WORKER_ENV])(core, owner=f"process-{os.getpid()}")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    say(f"ready {os.getpid()}")
    try:
        await worker.run_forever(stop)
    finally:
        await core.close()


def child() -> None:
    """In a freshly forked child: run the worker, never return into the parent's loop."""
    code = 0
    try:
        sys.stdin.close()
        asyncio.run(work())
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def reap() -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        CHILDREN.discard(pid)
        say(f"exit {pid} {os.waitstatus_to_exitcode(status)}")


def zygote() -> None:
    named(os.environ[WORKER_ENV])
    for spec in feature_specs():
        named(spec)
    say("loaded")
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
    pending = b""
    while True:
        if selector.select(timeout=0.1):
            chunk = os.read(sys.stdin.fileno(), 4096)
            if not chunk:  # the test is gone: so are its workers
                for pid in CHILDREN:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                break
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.strip() == b"spawn":
                    spawn()
        reap()


def spawn() -> None:
    pid = os.fork()
    if pid == 0:
        child()
    CHILDREN.add(pid)
    say(f"spawned {pid}")


if __name__ == "__main__":
    zygote()
