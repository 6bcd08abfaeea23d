"""Flood and repeat windows count by when the platform says a message was posted (Telegram's
`date`), not when Kith received it: a burst that reaches Kith slowly is still a burst, and a
backlog delivered at once after downtime is not one. A platform time later than the arrival
counts as the arrival."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kith.core.clock import ManualClock, aware
from kith.core.context import Core
from tests.communities.moderation_kit import (
    GROUP,
    RecordingAdmin,
    audit_rows,
    install_admin,
    joined,
    key,
    post,
    set_rules,
)
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain

OLD = (424242203, "Olga Oldtimer")
ETHAN = (424242221, "Ethan Lewis")
SPAMMERS = [(424242230 + n, f"Spam Bot{n}") for n in range(3)]
FLOOD = {"enabled": True, "messages": 6, "seconds": 10, "actions": ["delete", "mute"]}
REPEAT = {"enabled": True, "members": 3, "seconds": 600, "actions": ["delete", "report"]}


@pytest.fixture
def admin(core: Core) -> RecordingAdmin:
    return install_admin(core)


async def _group(telegram: TelegramSetup, clock: ManualClock, **rules: Any) -> None:
    """The group seen (Olga and Ethan members of long standing), then its rules set."""
    for who in (OLD, ETHAN, *SPAMMERS):
        await telegram.deliver(joined(clock.now() - timedelta(days=30), *who))
    await drain(telegram.core)
    await telegram.deliver(post(clock.now(), *OLD, "Good morning"))
    await drain(telegram.core)
    await set_rules(telegram, **rules)


async def test_a_burst_that_arrives_slowly_is_a_flood_by_its_platform_time(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    """8 messages posted in one second reach Kith half an hour apart (a slow webhook, the
    demo's fast clock): more than 6 in 10 s by their `date`, so the 7th and 8th are deleted
    and Ethan is muted once."""
    await _group(telegram, clock, flood=FLOOD, mute_minutes=30)
    sent = clock.now()
    posts = []
    for n in range(8):
        posts.append(post(sent, *ETHAN, f"spam line {n}"))
        await telegram.deliver(posts[-1])
        await drain(telegram.core)
        clock.advance(30 * 60)
    assert admin.named("delete_message") == [(str(GROUP), key(p)) for p in posts[6:]]
    [(chat, user, _until)] = admin.named("restrict")
    assert (chat, user) == (str(GROUP), str(ETHAN[0]))
    [mute] = [r for r in await audit_rows(telegram) if r["action"] == "mute"]
    assert mute["rule"] == "flood" and mute["facts"] == {"messages": 7, "seconds": 10}
    stored = {m["channel_message_id"]: m for m in await telegram.messages()}
    first = stored[key(posts[0])]
    assert aware(first["sent_at"]) == sent  # kept on the message, beside its arrival
    assert aware(stored[key(posts[7])]["created_at"]) == sent + timedelta(minutes=7 * 30)


async def test_a_backlog_delivered_in_one_burst_is_no_flood(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    """After downtime Telegram delivers an hour-old conversation at once: 7 messages Olga
    posted a minute apart arrive within the same second, and nobody is muted."""
    flood = {**FLOOD, "messages": 3}
    await _group(telegram, clock, flood=flood)
    hour_ago = clock.now() - timedelta(hours=1)
    for n in range(7):
        await telegram.deliver(post(hour_ago + timedelta(minutes=n), *OLD, f"line {n}"))
    await drain(telegram.core)
    assert admin.named("delete_message") == []
    assert admin.named("restrict") == []
    assert await audit_rows(telegram) == []


async def test_a_platform_time_ahead_of_kith_counts_as_the_arrival(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    """A platform clock ahead of ours never puts a message later than it arrived: 4 messages
    dated one future second, arriving a minute apart, are no flood of 3 in 10 s."""
    flood = {**FLOOD, "messages": 3}
    await _group(telegram, clock, flood=flood)
    ahead = clock.now() + timedelta(hours=2)
    for n in range(4):
        clock.advance(60)
        await telegram.deliver(post(ahead, *OLD, f"line {n}"))
        await drain(telegram.core)
    assert admin.named("delete_message") == []
    assert await audit_rows(telegram) == []


async def test_the_same_text_from_three_members_with_close_dates_is_a_spam_wave(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    """Posted within seconds of each other, arriving 30 minutes apart: within the repeat
    window of 600 s by their `date`, so all three are deleted and the moderators get one
    note."""
    await _group(telegram, clock, repeat=REPEAT)
    sent = clock.now()
    posts = []
    for n, spammer in enumerate(SPAMMERS):
        posts.append(post(sent + timedelta(seconds=n), *spammer, "Join my channel for deals!!!"))
        await telegram.deliver(posts[-1])
        await drain(telegram.core)
        clock.advance(30 * 60)
    assert sorted(admin.named("delete_message")) == sorted((str(GROUP), key(p)) for p in posts)
    [report] = [r for r in await audit_rows(telegram) if r["action"] == "report"]
    assert report["rule"] == "repeat" and report["facts"] == {"members": 3}
    notes = [m for m in await telegram.messages() if m["direction"] == "out" and m["private"]]
    assert len(notes) == 1
