"""Regression (h15): a list of ids naming one that is not in the workspace (a user's
`team_ids`, a team's `member_ids` / `add_member_ids` / `remove_member_ids`, a broadcast's or
an estimate's `customer_ids`) is refused with a reason, `no_<noun>`, as every other "no such …
in this workspace" refusal is (an assignee's `no_user`, a step's `no_team`), so that pages
word it in their language. Before: the refusal (`core.storage.existing_ids`) had none."""

from __future__ import annotations

import pytest

from kith.web.inbox.i18n import LOCALES, messages
from tests.web.conftest import PASSWORD, Cast


async def test_unknown_teams_and_members_are_refused_with_a_reason(cast: Cast, browser) -> None:
    admin = await browser("admin")
    sales, bob = cast.users["sales"].id, cast.users["bob"].id
    cases = [
        (
            "POST",
            "/users",
            {"email": "carol@kith.test", "password": PASSWORD, "team_ids": [sales, "nope"]},
            ("team_ids.1", "no_team"),
        ),
        (
            "POST",
            "/teams",
            {"name": "Night", "member_ids": ["nobody"]},
            ("member_ids.0", "no_user"),
        ),
        (
            "PATCH",
            f"/teams/{sales}",
            {"add_member_ids": [bob, "x"]},
            ("add_member_ids.1", "no_user"),
        ),
        (
            "PATCH",
            f"/teams/{sales}",
            {"remove_member_ids": ["x"]},
            ("remove_member_ids.0", "no_user"),
        ),
    ]
    for method, path, body, expected in cases:
        answer = await admin.api(method, path, json=body)
        assert answer.status_code == 422, (path, answer.text)
        error = answer.json()["error"]
        assert (error["field"], error["reason"]) == expected, path
        assert error["message"].startswith("no such "), error


@pytest.mark.parametrize("locale", LOCALES)
def test_each_reason_is_worded_in_every_language(locale: str) -> None:
    words = messages(locale)
    for reason in ("no_customer", "no_team", "no_user"):
        assert words.get(f"reason_{reason}"), (locale, reason)
    assert messages("zh")["reason_no_customer"] != messages("en")["reason_no_customer"]
