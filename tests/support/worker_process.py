"""One Kith worker as its own OS process, for tests that kill processes for real.

    python -m tests.support.worker_process

Configured by the environment: the `KITH_*` settings (database, secret), the shared clock's
file (`KITH_TEST_CLOCK_FILE`, see `tests.support.shared_clock`), the worker class
(`KITH_TEST_WORKER`, "module:Class", built as `Class(core, owner=…)` and run with
`run_forever(stop)`) and the features to install (`KITH_TEST_FEATURES`, comma-separated
"module:name", each a `Feature` or a function of the `Core` that returns one). Only those
features are imported: the whole app takes tens of seconds to import on a loaded machine,
longer than a worker lives in a kill test. It prints `ready` once it works; SIGTERM stops
it cleanly, SIGKILL is what the tests send.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import signal
from pathlib import Path
from typing import Any

from kith.core.context import Core
from kith.core.features import Feature, install
from kith.core.settings import Settings
from tests.support.shared_clock import ENV as CLOCK_ENV
from tests.support.shared_clock import FileClock

WORKER_ENV = "KITH_TEST_WORKER"
FEATURES_ENV = "KITH_TEST_FEATURES"


def named(spec: str) -> Any:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def features(core: Core, specs: str) -> list[Feature]:
    found = []
    for spec in filter(None, specs.split(",")):
        item = named(spec)
        found.append(item if isinstance(item, Feature) else item(core))
    return found


async def main() -> None:
    settings = Settings()
    core = Core.from_settings(settings, clock=FileClock(Path(os.environ[CLOCK_ENV])))
    install(core, features(core, os.environ.get(FEATURES_ENV, "")))
    worker = named(os.environ[WORKER_ENV])(core, owner=f"process-{os.getpid()}")
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    try:
        await worker.run_forever(stop)
    finally:
        await core.close()


if __name__ == "__main__":
    asyncio.run(main())
