"""A test's core on a database of its own: started, then its database dropped and the core
closed however the test ends (the suite's `core` fixture, browser tests' live apps, tests
that need a second core)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from kith.core.context import Core
from kith.core.settings import Settings


def own_database(settings: Settings) -> Settings:
    """`settings` with sentiment off and a database no other test uses."""
    return settings.model_copy(
        update={"nlp_enabled": False, "db_name": f"kith_test_{uuid.uuid4().hex[:12]}"}
    )


@contextlib.asynccontextmanager
async def started(core: Core) -> AsyncIterator[Core]:
    await core.start()
    try:
        yield core
    finally:
        await core.store.client.drop_database(core.settings.db_name)
        await core.close()
