"""The builder page's lane, `/app/api/sequences`: the same routes with the signed-in session
(a marketer builds, activates, enrols, reads the figures and plans a dry run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kith.core.context import Core
from kith.core.features import install
from kith.sequences.feature import feature
from tests.sequences.conftest import WELCOME
from tests.web.conftest import (  # noqa: F401 (fixtures, found by name)
    Cast,
    app,
    browser,
    cast,
    cheap_password_hashing,
)


@pytest.fixture(autouse=True)
def with_sequences(core: Core) -> None:
    """Installed before the app is built (autouse fixtures come first)."""
    install(core, [feature(core)])


async def test_a_marketer_builds_enrols_and_reads_through_the_page_lane(
    core: Core,
    cast: Cast,  # noqa: F811 (the fixture imported above)
    browser: Callable[..., Any],  # noqa: F811
) -> None:
    conversation = await core.store.conversations.find_one({"_id": cast.conversations["shop"]})
    assert conversation is not None
    ada = conversation["customer_id"]
    mary = await browser("mary")
    made = await mary.api("POST", "/sequences", json=WELCOME)
    assert made.status_code == 201, made.text
    base = f"/sequences/{made.json()['id']}"
    assert (await mary.api("POST", f"{base}/activate")).json()["status"] == "active"
    enrolled = await mary.api("POST", f"{base}/enrolments", json={"customer_ids": [ada]})
    assert enrolled.json()["results"][0]["outcome"] == "enrolled", enrolled.text
    listed = (await mary.api("GET", f"{base}/enrolments")).json()
    assert [(e["customer_id"], e["state"]) for e in listed["items"]] == [(ada, "active")]
    stats = (await mary.api("GET", f"{base}/stats")).json()
    assert (stats["enrolled"], stats["active"], len(stats["daily"])) == (1, 1, 30)
    plan = await mary.api("POST", f"{base}/dry-run", json={"customer_id": ada})
    assert [s["step_id"] for s in plan.json()["steps"]] == ["welcome", "pause", "tip"]
    rendered = await mary.api("POST", f"{base}/steps/welcome/render", json={"customer_id": ada})
    assert rendered.json()["text"] == "Hi Ada Lovelace"
    alice = await browser("alice")
    assert (await alice.api("GET", f"{base}/enrolments")).status_code == 200
    refused = await alice.api("DELETE", f"{base}/enrolments/{listed['items'][0]['id']}")
    assert refused.status_code == 403
