"""aiogram costs seconds of CPU to import (its ~300 pydantic models): the app, the CLI and a
started core must not import it, so that no `kith` command, test process or start pays for a
Telegram bot it never talks to. A serving process imports it in `Feature.prepare`, in a thread."""

from __future__ import annotations

import os
import subprocess
import sys

IMPORTS = """
import sys
import kith.web.app, kith.web.cli
assert "aiogram" not in sys.modules, "importing the app or the CLI imported aiogram"
"""

STARTS = """
import asyncio, sys
from kith.core.features import prepare
from kith.core.settings import Settings
from kith.web.app import build_core, create_app

async def main():
    core = build_core(Settings(mongo_uri=None, nlp_enabled=False))
    create_app(core=core, run_workers=False)
    await core.start()
    assert "aiogram" not in sys.modules, "building or starting a core imported aiogram"
    await prepare(core)
    assert "aiogram" in sys.modules, "the telegram feature's prepare did not import aiogram"
    await core.close()

asyncio.run(main())
"""


def run(script: str) -> subprocess.CompletedProcess[str]:
    """`script` in a fresh interpreter on the embedded engine, with no KITH_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KITH_")}
    return subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=90
    )


def test_importing_the_app_and_the_cli_leaves_aiogram_out() -> None:
    done = run(IMPORTS)
    assert done.returncode == 0, done.stderr


def test_building_and_starting_a_core_leaves_aiogram_to_prepare() -> None:
    done = run(STARTS)
    assert done.returncode == 0, done.stderr
