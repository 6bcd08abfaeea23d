"""The web app's consent change: admins and marketers may, agents may not, and the session's
CSRF token is needed like on every other state-changing `/app` request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kith.consent.feature import feature as consent_feature
from kith.core.context import Core
from kith.core.features import install
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


@pytest.fixture(autouse=True)
def _consent(core: Core) -> None:
    install(core, [consent_feature])  # before the app is made


async def test_marketers_and_admins_change_consent_agents_do_not(
    core: Core,
    cast: Cast,  # noqa: F811
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    conversation = await core.store.conversations.find_one({"_id": cast.conversations["shop"]})
    assert conversation is not None
    path = f"/customers/{conversation['customer_id']}/consent/email"
    mary = await browser("mary")
    answer = await mary.api("PUT", path, json={"state": "granted", "via": "agent"})
    assert answer.status_code == 200 and answer.json()["state"] == "granted"
    event = await core.store.events.find_one({"type": "consent.changed"})
    assert event is not None and event["actor"]["kind"] == "agent"
    admin = await browser("admin")
    assert (await admin.api("PUT", path, json={"state": "revoked"})).json()["state"] == "revoked"
    alice = await browser("alice")
    assert (await alice.api("PUT", path, json={"state": "granted"})).status_code == 403
    mary.csrf = "wrong"
    assert (await mary.api("PUT", path, json={"state": "granted"})).status_code == 403
    customer = await core.store.customers.find_one({"_id": conversation["customer_id"]})
    assert customer is not None and customer["consent"]["email"]["state"] == "revoked"
