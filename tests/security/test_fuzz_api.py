"""Fuzzing the OpenAPI document: no input, however odd, makes the API fail with a 5xx, and
every refusal is a JSON 4xx in Kith's error shape naming the field at fault.

Schemathesis generates requests from the app's own OpenAPI document: its coverage phase
(every boundary and every wrong type, e.g. `null` for a list, NUL bytes, huge integers) and
a fuzzing phase, valid requests (which must not crash the server) and invalid ones (which
must be refused), with valid credentials. Every case is sent as generated and again on
records that exist, so that bodies reach the code that stores them. Hypothesis runs
derandomized with a bounded number of examples: a run is repeatable and takes minutes.

The app runs on an event loop of its own (a blocking portal's thread), as under a server;
the test, Hypothesis and Schemathesis stay synchronous.
"""

from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from anyio.from_thread import BlockingPortal, start_blocking_portal
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, reject
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from kith.contacts.xlsxfile import XLSX_TYPE
from kith.core.auth import create_api_token
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.features import install
from kith.core.settings import Settings
from kith.core.storage import Store
from kith.core.workspaces import ensure_default_workspace
from kith.web.app import BASE_FEATURES, bot_step_types, create_app
from kith.web.surface import routes_app
from tests.conftest import REAL_URI
from tests.support.callbacks import CallbackServer

# Minutes on the embedded engine, a quarter of an hour on the real one: run it there by hand
# (KITH_TEST_FUZZ_REAL=1) after changing what is stored.
pytestmark = pytest.mark.skipif(
    bool(REAL_URI) and not os.environ.get("KITH_TEST_FUZZ_REAL"),
    reason="fuzzing runs on the embedded engine; set KITH_TEST_FUZZ_REAL=1 for the real one",
)

BASE_URL = "http://kith.test"
# Not fuzzed: the Prometheus text, the widget's event stream (it never ends), and the
# Telegram file proxy (it calls Telegram).
SKIPPED = [
    "/metrics",
    "/widget/{channel_id}/events",
    "/webhooks/telegram/{channel_id}/files/{file_id}",
]
CONFIG = {
    "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
    "generation": {"mode": "all", "max-examples": 10, "deterministic": True},
}


@functools.cache
def _document() -> dict[str, Any]:
    """The OpenAPI document of the app the tests build (no database needed to describe it)."""
    plain = Settings(_env_file=None)  # type: ignore[call-arg]
    core = Core(store=Store.from_settings(plain), settings=plain)
    install(core, BASE_FEATURES)
    return routes_app(core, bot_step_types(core.features)).openapi()  # what the app serves


# Excel workbooks (the import's other body): bytes of any kind, which must be refused as no
# workbook (422 at `file`), never fail.
schemathesis.openapi.media_type(XLSX_TYPE, st.binary(max_size=2048))

schema = schemathesis.openapi.from_dict(
    _document(), config=schemathesis.Config.from_dict(CONFIG)
).exclude(path=SKIPPED)


@dataclass
class Target:
    """The app under fuzzing, its credentials and the ids of records that exist."""

    portal: BlockingPortal
    http: httpx.AsyncClient
    headers: dict[str, dict[str, str]]  # by path prefix
    ids: dict[str, dict[str, str]]  # by path prefix: path parameter -> existing id

    @staticmethod
    def _for(table: dict[str, dict[str, str]], path: str) -> dict[str, str]:
        return next((v for prefix, v in table.items() if path.startswith(prefix)), {})

    def aimed(self, case: Any) -> Any:
        """The case on records that exist where its path names them, unless the case is
        about the path parameter itself."""
        known = self._for(self.ids, case.path)
        fixed = {k: known[k] for k in case.path_parameters if k in known}
        data = getattr(case.meta.phase, "data", None) if case.meta else None
        if not fixed or str(getattr(data, "parameter_location", "")).endswith("path"):
            return case
        aimed = case.derive()
        aimed.path_parameters.update(fixed)
        return aimed

    def send(self, case: Any) -> httpx.Response:
        """The case put on the wire as Schemathesis would (through requests)."""
        headers = self._for(self.headers, case.path)
        kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=headers)
        fields = ("method", "url", "headers", "params", "data", "json", "cookies")
        prepared = requests.Request(**{k: v for k, v in kwargs.items() if k in fields}).prepare()
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        return self.portal.call(
            functools.partial(
                self.http.request,
                str(prepared.method),
                str(prepared.url),
                headers=dict(prepared.headers),
                content=body,
            )
        )


async def _seed(http: httpx.AsyncClient, core: Core) -> tuple[dict, dict]:
    """A workspace token, an API and a web chat channel, a conversation, a bot, an article."""
    workspace_id = (await ensure_default_workspace(core)).id
    admin = {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 'fuzz')}"}
    api, api_token = await create_channel(core, workspace_id, "api", "Website", {})
    webchat, _ = await create_channel(core, workspace_id, "webchat", "Widget", {})
    channel_auth = {"Authorization": f"Bearer {api_token}"}
    said = await http.post(
        f"/webhooks/api/{api.id}",
        json={"message_id": "m-1", "user": {"id": "u-1"}, "text": "hello"},
        headers=channel_auth,
    )
    session = await http.post(f"/widget/{webchat.id}/session", json={})
    article = await http.post(
        "/api/v1/knowledge",
        json={"title": "Hours", "questions": ["When are you open?"], "answer": {"en": "9-5"}},
        headers=admin,
    )
    flow = {
        "id": "f",
        "trigger": {"kind": "first_message"},
        "steps": [{"id": "a", "type": "send_text", "text": "hi"}],
    }
    bot = await http.post(
        "/api/v1/bots",
        json={"name": "Helper", "channel_ids": [api.id], "flows": [flow]},
        headers=admin,
    )
    for answer in (said, session, article, bot):
        assert answer.status_code < 300, answer.text
    records = {
        "channel_id": api.id,
        "customer_id": said.json()["customer_id"],
        "conversation_id": said.json()["conversation_id"],
        "article_id": article.json()["id"],
        "bot_id": bot.json()["id"],
    }
    headers = {
        "/api/": admin,
        "/webhooks/api/": channel_auth,
        "/widget/": {"X-Kith-Visitor": session.json()["token"]},
    }
    return headers, {"/widget/": {"channel_id": webchat.id}, "/": records}


@asynccontextmanager
async def _running(settings: Settings, clock: ManualClock) -> AsyncIterator[tuple]:
    """The app as the suite builds it, on its own database; a crash comes back as a 500."""
    core = Core(
        store=Store.from_settings(settings),
        settings=settings,
        clock=clock,
        http=httpx.AsyncClient(transport=httpx.ASGITransport(app=CallbackServer())),
    )
    install(core, BASE_FEATURES)
    await core.start()
    try:
        app = create_app(core=core, run_workers=False)
        async with LifespanManager(app) as manager:
            transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
                yield (http, *await _seed(http, core))
    finally:
        await core.store.client.drop_database(settings.db_name)
        await core.close()


@pytest.fixture
def target(settings: Settings, clock: ManualClock) -> Iterator[Target]:
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(_running(settings, clock)) as (http, headers, ids),
    ):
        yield Target(portal, http, headers, ids)


def _check_refusal(case: Any, response: httpx.Response) -> None:
    """A refusal is JSON in Kith's error shape; bad input names its field."""
    where = f"{response.status_code} {response.text[:500]}\n{case.as_curl_command()}"
    assert response.headers.get("content-type") == "application/json", where
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"], where
    assert isinstance(error["message"], str) and error["message"], where
    if response.status_code == 422:
        assert error["field"], where


@pytest.mark.timeout(600)
@schema.parametrize()
@hypothesis_settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_no_input_makes_the_api_fail(case: Any, target: Target) -> None:
    sent = target.aimed(case)
    try:
        response = target.send(sent)
    except httpx.InvalidURL:  # longer than any HTTP client sends: nothing reaches Kith
        reject()
    sent.validate_response(response, checks=[not_a_server_error])
    if 400 <= response.status_code < 500:
        _check_refusal(sent, response)
