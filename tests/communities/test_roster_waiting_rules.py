"""The roster shows who is restricted until they accept the rules, and filters by it (the page
and `GET …/members?status=rules`); a press of the button takes them off that list."""

from __future__ import annotations

import re

from kith.core.auth import create_user
from kith.core.clock import ManualClock
from kith.core.models import Role
from tests.communities.welcome_support import (
    community,
    install_admin,
    joined,
    posted,
    pressed,
    run_due,
    user,
)
from tests.connectors.telegram.conftest import TelegramSetup
from tests.web.conftest import PASSWORD, sign_in

KATE = user(424242014, "Katherine", "en")
LEO = user(424242015, "Leo", "en")
RULES = {"enabled": True, "texts": {"en": "Be kind."}, "timeout_minutes": None}


def _states(page: str) -> dict[str, str]:
    """Each roster row's status cell, by the member's platform id."""
    rows = re.findall(
        r'<tr data-member="(\d+)">.*?</th>\s*<td>.*?</td>\s*<td>(.*?)</td>', page, re.S
    )
    return dict(rows)


async def test_members_waiting_for_the_rules_are_shown_and_filtered(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    install_admin(telegram.core)
    group = await community(telegram, welcome={"enabled": True, "delay_seconds": 10}, rules=RULES)
    await telegram.deliver(joined(KATE, LEO))
    await run_due(telegram.core)
    clock.advance(10)  # the welcome's pause: then the welcome and its buttons
    await run_due(telegram.core)
    said = await posted(telegram.core, group["conversation_id"])
    [leo_welcome] = [m for m in said if "Leo" in m["text"]]
    [leo_button] = leo_welcome["buttons"]  # one welcome each, each with its own button
    await telegram.deliver(pressed(LEO, leo_button["payload"]))
    await run_due(telegram.core)

    path = f"/api/v1/communities/{group['id']}/members"
    waiting = await telegram.http.get(path, params={"status": "rules"}, headers=telegram.auth)
    assert waiting.status_code == 200, waiting.text
    assert [(m["name"], m["awaiting_rules"]) for m in waiting.json()["items"]] == [
        ("Katherine", True)
    ]
    everyone = await telegram.http.get(path, headers=telegram.auth)
    flags = {m["name"]: m["awaiting_rules"] for m in everyone.json()["items"]}
    assert flags["Katherine"] is True and flags["Leo"] is False
    bad = await telegram.http.get(path, params={"status": "nope"}, headers=telegram.auth)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"

    workspace = group["workspace_id"]
    await create_user(
        telegram.core, workspace, "mia@kith.test", PASSWORD, name="Mia", role=Role.admin
    )
    await sign_in(telegram.http, "mia@kith.test")
    page = (await telegram.http.get(f"/app/communities/{group['id']}")).text
    states = _states(page)
    assert states[str(KATE["id"])] == "member, waiting to accept the rules"
    assert states[str(LEO["id"])] == "member"
    assert '<option value="rules">Waiting to accept the rules</option>' in page
    only = (await telegram.http.get(f"/app/communities/{group['id']}?status=rules")).text
    assert list(_states(only)) == [str(KATE["id"])]
    chinese = (await telegram.http.get(f"/app/communities/{group['id']}?lang=zh")).text
    assert _states(chinese)[str(KATE["id"])] == "在群，等待同意群规"
    assert "等待同意群规</option>" in chinese
