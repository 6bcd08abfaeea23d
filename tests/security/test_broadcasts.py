"""Broadcasts: only admins and marketers manage them, every write needs the CSRF token, and a
template cannot reach beyond the customer's plain data (refused at save, sandboxed at send)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from kith.broadcasts import templates
from kith.broadcasts.feature import feature
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Customer
from tests.web.conftest import Cast


@pytest.fixture(autouse=True)
def with_broadcasts(core: Core) -> None:
    """Installed before the app is built (autouse fixtures come first)."""
    install(core, [feature(core)])


def body(cast: Cast, text: str = "Hello {{ customer.name }}") -> dict[str, Any]:
    return {"name": "Sale", "customer_ids": ["nobody"], "message": {"text": {"en": text}},
            "channels": ["api"]}  # fmt: skip


async def test_agents_are_refused_and_marketers_need_the_csrf_token(
    cast: Cast, browser: Callable[..., Any]
) -> None:
    alice = await browser("alice")
    assert (await alice.api("GET", "/broadcasts")).status_code == 403
    assert (await alice.api("POST", "/broadcasts", json=body(cast))).status_code == 403
    mary = await browser("mary")
    assert (await mary.api("GET", "/broadcasts")).status_code == 200
    forged = await mary.api("POST", "/broadcasts", json=body(cast), headers={"X-CSRF-Token": ""})
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "csrf"
    page = await alice.http.get("/app/broadcasts")
    assert page.status_code == 403


@pytest.mark.parametrize(
    "source",
    [
        "{{ customer.__class__ }}",
        "{{ self.__init__.__globals__ }}",
        "{{ lipsum.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% set x = customer.emails %}",
    ],
)
async def test_templates_naming_anything_but_customer_data_are_refused_at_save(
    cast: Cast, browser: Callable[..., Any], source: str
) -> None:
    mary = await browser("mary")
    answer = await mary.api("POST", "/broadcasts", json=body(cast, source))
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == "message.text.en"


@pytest.mark.parametrize(
    "source",
    [
        "{{ customer.name.__class__.__mro__ }}",
        "{{ customer.attributes.x.__class__ }}",
        "{{ customer.tags.append('x') }}{{ customer.tags }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ (customer.name|attr('__class__')) }}",
    ],
)
def test_the_sandbox_refuses_at_send_whatever_reached_it(source: str) -> None:
    """Defence in depth: rendered without the save check (a template stored before a rule)."""
    now = datetime(2026, 1, 1, tzinfo=UTC)
    customer = Customer(
        id="c", workspace_id="w", name="Ada", attributes={"x": "y"}, first_seen=now, last_seen=now
    )
    with pytest.raises(templates.TemplateError):
        templates.render(source, customer)
