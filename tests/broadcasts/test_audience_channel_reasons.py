"""The audience, channel and time checks of a broadcast each refuse with their own `reason` (and
values) at the field a page shows it next to, so that the page words it in its language rather
than showing the API's English: two audiences at once, none at all, channels for a community
post, no channels, a channel listed twice, a send-by time not after the send time. Each reason,
and the empty customer and community lists, has words in English and Chinese.

Regression: these were plain `ValueError`s (`value_error`), shown in English on the Chinese
page ("send_by must come after send_at"); and an empty customer list was worded as if no
community had been picked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from kith.core.context import Core
from kith.web.inbox.i18n import messages
from tests.broadcasts.test_api import auth, draft

AT, EARLIER = "2030-01-02T09:00:00Z", "2030-01-01T09:00:00Z"


def refusal(answer: httpx.Response) -> tuple[str, str, dict[str, Any]]:
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    return error["field"], error["reason"], error["limits"]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"segment_id": "s1", "customer_ids": ["c1"]},
            ("customer_ids", "segment_and_customers", {}),
        ),
        (
            {"segment_id": "s1", "community_ids": ["k1"], "channels": []},
            ("community_ids", "segment_and_communities", {}),
        ),
        (
            {"customer_ids": ["c1"], "community_ids": ["k1"], "channels": []},
            ("community_ids", "customers_and_communities", {}),
        ),
        ({}, ("community_ids", "no_audience", {})),
        ({"community_ids": ["k1"]}, ("channels", "channels_for_communities", {})),
        ({"customer_ids": ["c1"], "channels": []}, ("channels", "no_channels", {})),
        (
            {"customer_ids": ["c1"], "channels": ["api", "email", "api"]},
            ("channels", "channel_twice", {"channel_type": "api"}),
        ),
        (
            {"customer_ids": ["c1"], "send_at": AT, "send_by": EARLIER},
            ("send_by", "send_by_not_after_send_at", {}),
        ),
        (
            {"customer_ids": ["c1"], "send_at": AT, "send_by": AT},
            ("send_by", "send_by_not_after_send_at", {}),
        ),
    ],
)
async def test_each_check_names_its_reason_at_its_field(
    bcore: Core,
    client: httpx.AsyncClient,
    token: str,
    fields: dict[str, Any],
    expected: tuple[str, str, dict[str, Any]],
) -> None:
    assert refusal(await draft(client, token, **fields)) == expected


async def test_an_edit_is_refused_with_the_same_reasons(
    bcore: Core, client: httpx.AsyncClient, token: str, people: Callable[..., Any]
) -> None:
    (ada,) = await people(1)
    made = await draft(client, token, customer_ids=[ada.id], send_at=AT)
    assert made.status_code == 201, made.text
    url = f"/api/v1/broadcasts/{made.json()['id']}"
    for change, expected in (
        ({"send_by": EARLIER}, ("send_by", "send_by_not_after_send_at", {})),
        (
            {"channels": ["email", "email"]},
            ("channels", "channel_twice", {"channel_type": "email"}),
        ),
        ({"channels": []}, ("channels", "no_channels", {})),
    ):
        answer = await client.patch(url, json=change, headers=auth(token))
        assert refusal(answer) == expected, change


@pytest.mark.parametrize(
    "key",
    [
        "segment_and_customers",
        "segment_and_communities",
        "customers_and_communities",
        "no_audience",
        "channels_for_communities",
        "no_channels",
        "channel_twice",
        "send_by_not_after_send_at",
        "customer_ids_too_short",
        "community_ids_too_short",
        "channels_too_short",
    ],
)
def test_each_refusal_is_worded_in_both_languages(key: str) -> None:
    english = messages("en")[f"broadcasts_refused_{key}"]
    chinese = messages("zh")[f"broadcasts_refused_{key}"]
    assert english and chinese and english != chinese


def test_an_empty_customer_list_is_not_worded_as_communities() -> None:
    """The one sentence for every too-short list said "Pick at least one community"."""
    assert "broadcasts_refused_too_short" not in messages("en")
    for locale, community in (("en", "communit"), ("zh", "社群")):
        customers = messages(locale)["broadcasts_refused_customer_ids_too_short"]
        assert community not in customers, locale
        assert community in messages(locale)["broadcasts_refused_community_ids_too_short"]
