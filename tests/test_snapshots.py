"""A seed kept once per process (tests/support/snapshots.py): later tests get its documents
in their own database, each copy its own, with the manual clock where the seed left it."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import build_core
from tests.support.cores import own_database, started
from tests.support.snapshots import seed_once

START = datetime(2026, 12, 25, 12, 0, tzinfo=UTC)


@contextlib.asynccontextmanager
async def fresh_core(settings: Settings) -> AsyncIterator[Core]:
    """A started core on a database of its own (as each browser test's), clock at START."""
    settings = own_database(settings)
    core = build_core(settings)
    core.store = Store.from_settings(settings)
    core.clock = ManualClock(START)
    async with started(core):
        yield core


async def test_the_seed_runs_once_and_each_later_test_gets_its_own_copy(
    settings: Settings,
) -> None:
    runs: list[str] = []

    async def seed(core: Core) -> None:
        workspace = await ensure_default_workspace(core)
        runs.append(workspace.id)
        await core.store.customers.insert_many(
            [{"_id": f"c{n}", "workspace_id": workspace.id, "name": f"N{n}"} for n in range(3)]
        )
        assert isinstance(core.clock, ManualClock)
        core.clock.advance(90)

    key = f"test-{uuid.uuid4().hex}"
    async with fresh_core(settings) as first:
        await seed_once(first, seed, key)
        seeded = await first.store.customers.find({}).sort("_id").to_list(None)
    async with fresh_core(settings) as second:
        await seed_once(second, seed, key)
        assert runs == [(await ensure_default_workspace(second)).id]  # ran once: same workspace
        assert await second.store.customers.find({}).sort("_id").to_list(None) == seeded
        assert second.clock.now() == first.clock.now() == START.replace(minute=1, second=30)
        await second.store.customers.update_one({"_id": "c0"}, {"$set": {"name": "changed"}})
        await second.store.customers.delete_one({"_id": "c1"})
    async with fresh_core(settings) as third:
        await ensure_default_workspace(third)  # written before the copy: replaced by it
        await seed_once(third, seed, key)
        assert await third.store.customers.find({}).sort("_id").to_list(None) == seeded
        assert len(await third.store.workspaces.find({}).to_list(None)) == 1
