"""Kith's app for the HTTP benchmark: prints "<channel id> <channel token>", then serves."""

from __future__ import annotations

import asyncio
import sys

from bench.common import serve_app
from kith.core.channel_records import create_channel
from kith.core.settings import get_settings
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import build_core, create_app


async def main(port: int) -> None:
    settings = get_settings()
    core = build_core(settings)
    await core.start()
    workspace = await ensure_default_workspace(core)
    channel, token = await create_channel(core, workspace.id, "api", "bench", {})
    print(channel.id, token, flush=True)
    try:
        await serve_app(create_app(core=core), port)
    finally:
        await core.store.client.drop_database(settings.db_name)
        await core.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
