"""Only a mute or a ban can be lifted (the platform undoes them); a deleted message stays
deleted and a warning was said, so lifting either is a 409 that says so, and the page
offers Lift on neither (`test_page_moderation`)."""

from __future__ import annotations

from datetime import timedelta

from kith.core.clock import ManualClock
from tests.communities.moderation_kit import (
    audit_rows,
    cid,
    install_admin,
    joined,
    post,
    set_rules,
)
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain

OLD = (424242403, "Olga Oldtimer")


async def test_a_deletion_or_a_warning_is_refused_a_lift_and_the_mute_is_lifted(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    admin = install_admin(telegram.core)
    await telegram.deliver(joined(clock.now() - timedelta(days=30), *OLD))
    await drain(telegram.core)
    await telegram.deliver(post(clock.now(), *OLD, "Good morning"))
    await drain(telegram.core)
    words = {"enabled": True, "words": ["casino"], "actions": ["delete", "warn", "mute"]}
    await set_rules(telegram, words=words)
    clock.advance(5)
    await telegram.deliver(post(clock.now(), *OLD, "casino tonight"))
    await drain(telegram.core)
    rows = {r["action"]: r for r in await audit_rows(telegram)}
    assert set(rows) == {"delete", "warn", "mute"}

    def lift(action: str) -> str:
        return f"/api/v1/communities/{cid(telegram)}/audit/{rows[action]['id']}/lift"

    for action in ("delete", "warn"):
        refused = await telegram.http.post(lift(action), headers=telegram.auth)
        assert refused.status_code == 409, refused.text
        error = refused.json()["error"]
        assert error["field"] == "audit_id"
        assert error["message"] == (
            f"only a mute or a ban can be lifted: a {action} has nothing to undo"
        )
    assert [r["action"] for r in await audit_rows(telegram)].count("lift") == 0

    lifted = await telegram.http.post(lift("mute"), headers=telegram.auth)
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["outcome"] == "taken" and lifted.json()["lifts"] == rows["mute"]["id"]
    assert admin.named("unrestrict") == [(str(-1001234567890), str(OLD[0]))]
