"""The browser tests' live server (tests/support/browser.py) is stopped however its start ends:
one left running after a failed readiness check (a loaded machine) kept its socket, whose
ResourceWarning at a later garbage collection failed an unrelated test."""

from __future__ import annotations

import asyncio
import gc

import httpx
import pytest

from kith.core.settings import Settings
from kith.web.app import build_core
from tests.support.browser import live_server


async def test_a_server_whose_health_check_fails_is_stopped(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = build_core(settings.model_copy(update={"nlp_enabled": False}))

    async def no_answer(self: httpx.AsyncClient, url: str, **_: object) -> httpx.Response:
        raise httpx.ReadTimeout("no answer in time")  # the network, on a loaded machine

    monkeypatch.setattr(httpx.AsyncClient, "get", no_answer)
    try:
        with pytest.raises(httpx.ReadTimeout):
            async with live_server(core):
                pytest.fail("the block must not run")
        serving = [t for t in asyncio.all_tasks() if "Server.serve" in repr(t.get_coro())]
        assert serving == []
        gc.collect()  # an open socket left behind warns here, and warnings are errors
    finally:
        await core.close()
