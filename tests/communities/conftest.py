"""Communities are driven by Telegram updates through the webhook, at the fake Bot API."""

from __future__ import annotations

import pytest

from kith.communities.feature import feature
from kith.core.context import Core
from kith.core.features import install
from tests.connectors.telegram.conftest import bot_api, callbacks, clock, telegram

__all__ = ["bot_api", "callbacks", "clock", "core", "telegram"]


@pytest.fixture
async def core(core: Core) -> Core:
    """The base core with communities installed (its indexes made)."""
    install(core, [feature(core)])
    await core.start()
    return core
