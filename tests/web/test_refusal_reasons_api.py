"""The refusals of managing users and of one's own password carry a `reason` that the pages
word in English and Chinese (`reason_<reason>` in the i18n files), and stay a 4xx JSON
answer naming the field.

alice is an agent in Sales, admin the one admin (see `tests/web/conftest.py`)."""

from __future__ import annotations

import pytest

from kith.core.auth import create_user
from kith.core.context import Core
from kith.core.errors import Conflict
from kith.core.models import Role
from kith.core.users import do_update_user
from kith.web.inbox.i18n import messages
from tests.web.conftest import PASSWORD, Cast


def error_of(answer) -> dict:
    return answer.json()["error"]


def worded_in_both(reason: str) -> None:
    english, chinese = messages("en")[f"reason_{reason}"], messages("zh")[f"reason_{reason}"]
    assert english != chinese, reason  # not the English fallback


async def test_a_wrong_or_unchanged_password_says_why(cast: Cast, browser) -> None:
    admin = await browser("admin")
    wrong = await admin.api(
        "PUT", "/me/password", json={"current_password": "not-it-at-all", "new_password": "x" * 12}
    )
    same = await admin.api(
        "PUT", "/me/password", json={"current_password": PASSWORD, "new_password": PASSWORD}
    )
    for answer, field, reason in (
        (wrong, "current_password", "wrong_password"),
        (same, "new_password", "password_unchanged"),
    ):
        assert answer.status_code == 422, answer.text
        error = error_of(answer)
        assert (error["field"], error["reason"]) == (field, reason)
        assert [(f["field"], f["reason"]) for f in error["fields"]] == [(field, reason)]
        worded_in_both(reason)
    assert error_of(wrong)["code"] == "wrong_password"  # as before


async def test_the_refusals_of_managing_users_say_why(cast: Cast, browser) -> None:
    admin = await browser("admin")
    me, alice = cast.users["admin"].id, cast.users["alice"].id
    expected = [
        (f"/users/{me}", {"disabled": True}, 409, "disabled", "own_account_disabled"),
        (f"/users/{me}", {"role": "agent"}, 409, "role", "own_admin_role"),
        (f"/users/{alice}", {"name": "   "}, 422, "name", "name_length"),
        ("/users/no-such-user", {"name": "Who"}, 404, "user_id", "no_user"),
    ]
    for path, body, status, field, reason in expected:
        answer = await admin.api("PATCH", path, json=body)
        assert answer.status_code == status, (path, body, answer.text)
        error = error_of(answer)
        assert (error["field"], error["reason"]) == (field, reason), error
        worded_in_both(reason)
    name = await admin.api("PATCH", f"/users/{alice}", json={"name": "   "})
    assert error_of(name)["limits"] == {"min_length": 1, "max_length": 128}


async def test_the_last_admin_refusal_says_why(cast: Cast, core: Core) -> None:
    """Two admins demote each other at the same moment: the second is refused, worded."""
    first = cast.users["admin"]
    second = await create_user(
        core, cast.workspace_id, "root@kith.test", PASSWORD, name="Root", role=Role.admin
    )
    await do_update_user(core, second, first.id, role=Role.agent)
    with pytest.raises(Conflict) as refused:
        await do_update_user(core, first, second.id, role=Role.agent)
    assert (refused.value.field, refused.value.reason) == ("role", "last_admin")
    worded_in_both("last_admin")
