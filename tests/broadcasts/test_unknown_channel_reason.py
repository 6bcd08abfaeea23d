"""An unknown channel type in a broadcast is refused with a reason a page words in its own
language (`unknown_channel_type`, the type in `limits`), on save and on the estimate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from kith.core.context import Core
from tests.broadcasts.test_api import TEXT, auth


async def test_an_unknown_channel_type_names_its_reason(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    body = {
        "name": "Spring sale",
        "message": {"text": TEXT},
        "channels": ["api", "smoke-signal"],
        "customer_ids": [ada.id],
    }
    estimate = {k: body[k] for k in ("channels", "customer_ids")}
    for path, sent in (("/api/v1/broadcasts", body), ("/api/v1/broadcasts/estimate", estimate)):
        answer = await client.post(path, json=sent, headers=auth(token))
        assert answer.status_code == 422, (path, answer.text)
        error = answer.json()["error"]
        assert (error["field"], error["reason"], error["limits"]) == (
            "channels.1",
            "unknown_channel_type",
            {"channel_type": "smoke-signal"},
        ), path
