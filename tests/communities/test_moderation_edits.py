"""An edit cannot get around moderation: an `edited_message` whose new text breaks a rule is
acted on like a new post, once per edit (a redelivered update acts once), at the group
admin's network boundary."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kith.core.clock import ManualClock
from kith.core.context import Core
from tests.communities.moderation_kit import (
    GROUP,
    RecordingAdmin,
    audit_rows,
    edited,
    install_admin,
    joined,
    key,
    post,
    set_rules,
)
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain

EDDIE = (555000040, "Eddie Editor")
SPAM = "casino free money 加微信 wx: abc12345"


@pytest.fixture
def admin(core: Core) -> RecordingAdmin:
    return install_admin(core)


async def _clean_post(telegram: TelegramSetup, clock: ManualClock, actions: list[str]) -> dict:
    """Eddie (in for ten days) posts something innocent; then the rules are set."""
    await telegram.deliver(joined(clock.now() - timedelta(days=10), *EDDIE))
    await drain(telegram.core)
    clean = post(clock.now(), *EDDIE, "hello everyone")
    await telegram.deliver(clean)
    await drain(telegram.core)
    words = {"enabled": True, "words": ["casino"], "actions": actions}
    await set_rules(telegram, words=words, links={"enabled": True, "min_days": 3})
    return clean


async def test_an_edit_into_spam_is_deleted_and_warned_once(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    clean = await _clean_post(telegram, clock, ["delete", "warn"])
    clock.advance(30)
    edit = edited(clock.now(), clean, SPAM)
    await telegram.deliver(edit)
    await telegram.deliver(edit)  # Telegram retries the same update
    await drain(telegram.core)

    assert admin.calls == [("delete_message", str(GROUP), key(clean))]
    rows = await audit_rows(telegram, platform_user_id=str(EDDIE[0]))
    assert sorted((r["rule"], r["action"]) for r in rows) == [
        ("words", "delete"),
        ("words", "warn"),
    ]
    assert {r["excerpt"] for r in rows} == {SPAM}
    [stored] = [m for m in await telegram.messages() if m["channel_message_id"] == key(clean)]
    assert stored["deleted"] is True


async def test_each_edit_is_judged_on_its_own(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    """Warned only (the message stays): a second bad edit, later, is warned again; an edit
    back to something innocent is not."""
    clean = await _clean_post(telegram, clock, ["warn"])
    clock.advance(30)
    await telegram.deliver(edited(clock.now(), clean, "casino tonight"))
    await drain(telegram.core)
    clock.advance(120)  # past the warning's window
    await telegram.deliver(edited(clock.now(), clean, "hello again"))
    await drain(telegram.core)
    clock.advance(120)
    await telegram.deliver(edited(clock.now(), clean, "casino, edited in again"))
    await drain(telegram.core)

    rows = await audit_rows(telegram, platform_user_id=str(EDDIE[0]))
    assert sorted(r["excerpt"] for r in rows) == ["casino tonight", "casino, edited in again"]
    assert admin.calls == []  # warnings are posts, not calls on the member


async def test_an_edit_counts_no_flood_and_an_innocent_edit_is_left_alone(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    clean = await _clean_post(telegram, clock, ["delete", "warn"])
    await set_rules(
        telegram,
        words={"enabled": True, "words": ["casino"]},
        flood={"enabled": True, "messages": 1, "seconds": 60},
    )
    for n in range(3):
        clock.advance(1)
        await telegram.deliver(edited(clock.now(), clean, f"hello everyone ({n})"))
    await drain(telegram.core)
    assert admin.calls == []
    assert await audit_rows(telegram) == []


async def test_two_edits_before_moderation_runs_are_judged_once_on_what_the_post_now_says(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    """Both edits' events read the stored post: a bad edit edited again into another bad one
    is acted on once, for the newest text; a bad edit already edited back into something
    innocent leaves nothing to delete or warn about (the group no longer shows it)."""
    clean = await _clean_post(telegram, clock, ["delete", "warn"])
    clock.advance(30)
    await telegram.deliver(edited(clock.now(), clean, "casino tonight"))
    clock.advance(5)
    await telegram.deliver(edited(clock.now(), clean, "hello again"))
    await drain(telegram.core)
    assert admin.calls == [] and await audit_rows(telegram) == []

    clock.advance(30)
    await telegram.deliver(edited(clock.now(), clean, "casino tonight"))
    clock.advance(5)
    await telegram.deliver(edited(clock.now(), clean, SPAM))
    await drain(telegram.core)
    assert admin.calls == [("delete_message", str(GROUP), key(clean))]
    rows = await audit_rows(telegram, platform_user_id=str(EDDIE[0]))
    assert sorted(r["action"] for r in rows) == ["delete", "warn"]
    assert {r["excerpt"] for r in rows} == {SPAM}
