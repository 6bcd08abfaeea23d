"""Moderation rules on documented Telegram updates: every action reaches the group admin
(recorded at the network boundary) and the audit log; admins are never acted on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from kith.communities.demo_moderation import seed_moderation, spam_updates
from kith.communities.feature import feature
from kith.core.channel_records import get_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.errors import DeliveryError
from kith.core.features import install
from kith.core.models import ChannelEvent, ChannelEventKind, InboundUser
from kith.core.pipeline import ingest_event
from tests.communities.moderation_kit import (
    GROUP,
    RecordingAdmin,
    audit_rows,
    cid,
    install_admin,
    joined,
    key,
    post,
    set_rules,
)
from tests.communities.wording_support import assert_worded
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain

ANN = (424242101, "Ann Admin")
NEW = (424242102, "Ned Newman")
OLD = (424242103, "Olga Oldtimer")
SPAMMERS = [(424242110 + n, f"Spam Bot{n}") for n in range(4)]


@pytest.fixture
def admin(core: Core) -> RecordingAdmin:
    return install_admin(core)


async def _group(telegram: TelegramSetup, clock: ManualClock, **rules: Any) -> None:
    """The group seen (Olga, a member of long standing, speaks), then its rules set."""
    await telegram.deliver(joined(clock.now() - timedelta(days=30), *OLD))
    await drain(telegram.core)  # joined before speaking (the roster takes them in order)
    await telegram.deliver(post(clock.now(), *OLD, "Good morning"))
    await drain(telegram.core)
    await set_rules(telegram, **rules)


async def _outbound(telegram: TelegramSetup) -> list[dict[str, Any]]:
    return [m for m in await telegram.messages() if m["direction"] == "out"]


async def test_a_link_from_a_new_member_is_deleted_and_warned_with_the_audit_row(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    await _group(telegram, clock, links={"enabled": True, "min_days": 3})
    await telegram.deliver(joined(clock.now(), *NEW))
    clock.advance(5)
    spam = post(clock.now(), *NEW, "Cheap followers at https://spam.example/buy")
    await telegram.deliver(spam)
    fine = post(clock.now(), *OLD, "The manual is at https://kettles.example/manual")
    await telegram.deliver(fine)
    await drain(telegram.core)

    assert admin.calls == [("delete_message", str(GROUP), key(spam))]
    [warning] = await _outbound(telegram)
    assert "Ned Newman" in warning["text"]
    assert "links" in warning["text"]
    [button] = warning["buttons"]
    rows = await audit_rows(telegram)
    assert sorted((r["action"], r["rule"], r["outcome"]) for r in rows) == [
        ("delete", "links", "taken"),
        ("warn", "links", "taken"),
    ]
    deleted = next(r for r in rows if r["action"] == "delete")
    assert button["payload"] == f"mod-appeal:{deleted['id']}"
    assert deleted["platform_user_id"] == str(NEW[0])
    assert deleted["excerpt"] == "Cheap followers at https://spam.example/buy"
    assert deleted["by"]["name"] == "moderation"
    stored = [m for m in await telegram.messages() if m["channel_message_id"] == key(spam)]
    assert stored[0]["deleted"] is True

    await drain(telegram.core)  # nothing left to do: nothing done twice
    assert len(admin.calls) == 1
    assert len(await audit_rows(telegram)) == 2


@pytest.mark.parametrize(
    "text",
    [
        "ＣＡＳＩＮＯ bonus",  # full-width
        "c a s i n o tonight",  # spaced letters
        "c.a.s.i.n.o",  # punctuation between letters
        "best ca\u200bsino",  # a zero-width space inside
        "c4s1n0 here",  # leetspeak
        "cаsino",  # a Cyrillic а
        "加 微 信 领红包",  # Chinese, spaced
        "加\u200b微信",  # Chinese, zero-width
        "加ｖｘ：abc123",  # the pattern, through full-width letters
    ],
)
async def test_banned_words_are_caught_through_their_variants(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin, text: str
) -> None:
    words = {"enabled": True, "words": ["casino", "加微信"], "patterns": [r"加\s*vx"]}
    await _group(telegram, clock, words={**words, "actions": ["delete"]})
    spam = post(clock.now(), *OLD, text)
    await telegram.deliver(spam)
    await drain(telegram.core)
    assert admin.calls == [("delete_message", str(GROUP), key(spam))]


async def test_innocent_words_are_left_alone(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    words = {"enabled": True, "words": ["ass", "casino"], "actions": ["delete"]}
    await _group(telegram, clock, words=words)
    for text in ("a classic kettle", "casinos are far", "Spain is sunny!", "微信支付可以吗"):
        await telegram.deliver(post(clock.now(), *OLD, text))
    await drain(telegram.core)
    assert admin.calls == []


async def test_patterns_are_re2_checked_on_save(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    await _group(telegram, clock)
    bad = await telegram.http.patch(
        f"/api/v1/communities/{cid(telegram)}",
        json={"moderation": {"words": {"patterns": ["(?=lookahead)x"]}}},
        headers=telegram.auth,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "moderation.words.patterns"
    assert "RE2" in bad.text
    # A pattern that backtracks for ages in Python's `re` saves, and runs in linear time.
    await set_rules(telegram, words={"enabled": True, "patterns": ["(a+)+$"]})


async def test_flood_deletes_past_the_limit_and_mutes_once(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    flood = {"enabled": True, "messages": 3, "seconds": 10, "actions": ["delete", "mute"]}
    await _group(telegram, clock, flood=flood, mute_minutes=30)
    posts = []
    for n in range(6):
        clock.advance(1)
        posts.append(post(clock.now(), *OLD, f"buy {n}"))
        await telegram.deliver(posts[-1])
    await drain(telegram.core)
    assert admin.named("delete_message") == [(str(GROUP), key(p)) for p in posts[3:]]
    [(chat, user, until)] = admin.named("restrict")
    assert (chat, user) == (str(GROUP), str(OLD[0]))
    assert until == clock.now() + timedelta(minutes=30)
    [mute] = [r for r in await audit_rows(telegram) if r["action"] == "mute"]
    assert mute["rule"] == "flood" and mute["detail"] == "4 messages in 10 s"

    clock.advance(30)  # the window has passed
    await telegram.deliver(post(clock.now(), *OLD, "sorry"))
    await drain(telegram.core)
    assert len(admin.named("delete_message")) == 3


async def test_the_same_message_from_several_members_is_a_repeat(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    repeat = {"enabled": True, "members": 3, "seconds": 600, "actions": ["delete", "report"]}
    await _group(telegram, clock, repeat=repeat)
    texts = [
        "Join my channel for FREE coins",
        "join my channel for free coins!",
        "J o i n my channel for free coins",
    ]
    posts = []
    for spammer, text in zip(SPAMMERS, texts, strict=False):
        clock.advance(20)
        posts.append(post(clock.now(), *spammer, text))
        await telegram.deliver(posts[-1])
        await drain(telegram.core)
    assert sorted(admin.named("delete_message")) == sorted((str(GROUP), key(p)) for p in posts)
    [note] = [m for m in await _outbound(telegram) if m["private"]]  # one, for the wave
    assert "repeat (3 members)" in note["text"]
    [report] = [r for r in await audit_rows(telegram) if r["action"] == "report"]
    assert note["wording"] == {  # each agent's inbox words it, the actions as a list
        "key": "community_moderated_repeat",
        "values": {
            "name": "Spam Bot2",
            "user": str(SPAMMERS[2][0]),
            "excerpt": texts[2],
            "audit": report["id"],
            "members": 3,
        },
        "terms": {
            "rule": "communities_rule_repeat",
            "actions": ["said_action_delete", "said_action_report"],
        },
    }
    assert_worded(note["wording"])
    clock.advance(20)  # a fourth copy, later
    fourth = post(clock.now(), *SPAMMERS[3], "JOIN MY CHANNEL FOR FREE COINS")
    await telegram.deliver(fourth)
    await drain(telegram.core)
    assert len(admin.named("delete_message")) == 4
    assert admin.named("delete_message")[-1] == (str(GROUP), key(fourth))


async def test_admins_are_never_acted_on(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    words = {"enabled": True, "words": ["casino"], "actions": ["delete", "warn", "ban"]}
    await _group(telegram, clock, words=words, links={"enabled": True})
    channel = await get_channel(telegram.core, None, telegram.channel_id)
    await ingest_event(  # a member of role administrator (a `chat_member` update's status)
        telegram.core,
        channel,
        ChannelEvent(
            workspace_id=channel.workspace_id,
            channel_id=channel.id,
            channel_type=channel.type,
            event_id="ann-promoted",
            kind=ChannelEventKind.member_joined,
            user=InboundUser(id=str(ANN[0]), name=ANN[1]),
            thread_key=str(GROUP),
            group_id=str(GROUP),
            group_name="Kettle Owners Club",
            group_kind="supergroup",
            role="administrator",
            occurred_at=clock.now(),
        ),
    )
    await drain(telegram.core)
    members = await telegram.http.get(
        f"/api/v1/communities/{cid(telegram)}/members", headers=telegram.auth
    )
    assert {m["name"]: m["role"] for m in members.json()["items"]}["Ann Admin"] == "admin"
    await telegram.deliver(post(clock.now(), *ANN, "casino night at https://kettles.example"))
    # An anonymous admin posts as the group; the linked channel's post is forwarded in.
    group = {"id": GROUP, "title": "Kettle Owners Club", "type": "supergroup"}
    anonymous = {"id": 1087968824, "is_bot": True, "first_name": "Group"}
    await telegram.deliver(
        post(clock.now(), 0, "", "casino", sender_chat=group, **{"from": anonymous})
    )
    news = {"id": -1009999999, "title": "Kettle News", "type": "channel"}
    service = {"id": 777000, "is_bot": False, "first_name": "Telegram"}
    forward = {"sender_chat": news, "is_automatic_forward": True, "from": service}
    await telegram.deliver(post(clock.now(), 0, "", "casino https://news.example", **forward))
    await drain(telegram.core)
    assert admin.calls == []
    assert await audit_rows(telegram) == []


async def test_an_action_the_platform_refuses_is_audited_with_its_reason(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    await _group(
        telegram, clock, words={"enabled": True, "words": ["casino"], "actions": ["delete", "mute"]}
    )
    admin.refuse = DeliveryError("Bad Request: not enough rights", retryable=False)
    await telegram.deliver(post(clock.now(), *OLD, "casino"))
    await drain(telegram.core)
    rows = await audit_rows(telegram)
    assert {(r["action"], r["outcome"], r["reason"]) for r in rows} == {
        ("delete", "refused", "Bad Request: not enough rights"),
        ("mute", "refused", "Bad Request: not enough rights"),
    }


async def test_the_demo_s_rules_delete_and_warn_the_demo_s_spam(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin, workspace_id: str
) -> None:
    await telegram.deliver(post(clock.now(), *OLD, "Good morning"))
    await drain(telegram.core)
    community = await seed_moderation(telegram.core, workspace_id, cid(telegram))
    assert community.moderation.words.enabled
    for update in spam_updates(GROUP, "Kettle Owners Club", clock.now(), 5000):
        await telegram.deliver(update)
    await drain(telegram.core)
    assert admin.named("delete_message") == [(str(GROUP), f"{GROUP}:5001")]
    rows = await audit_rows(telegram)
    assert sorted((r["action"], r["rule"], r["detail"]) for r in rows) == [
        ("delete", "words", "free money"),
        ("warn", "words", "free money"),
    ]


async def test_two_processes_count_one_flood(
    telegram: TelegramSetup,
    clock: ManualClock,
    admin: RecordingAdmin,
    second_process: Core,
) -> None:
    """Counting lives in the database: what one process saw, the other counts on."""
    install(second_process, [feature(second_process)])
    other = install_admin(second_process)
    flood = {"enabled": True, "messages": 3, "seconds": 10, "actions": ["delete", "mute"]}
    await _group(telegram, clock, flood=flood)
    posts = []
    for n in range(6):
        clock.advance(1)
        posts.append(post(clock.now(), *OLD, f"buy {n}"))
        await telegram.deliver(posts[-1])
        await drain(telegram.core if n % 2 else second_process)
    deleted = admin.named("delete_message") + other.named("delete_message")
    assert sorted(deleted) == sorted((str(GROUP), key(p)) for p in posts[3:])
    assert len(admin.named("restrict") + other.named("restrict")) == 1


async def test_media_from_a_new_member_is_deleted(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    await _group(telegram, clock, media={"enabled": True, "min_days": 1, "actions": ["delete"]})
    await telegram.deliver(joined(clock.now(), *NEW))
    await drain(telegram.core)
    photo = [{"file_id": "AgAC-big", "file_unique_id": "AQAD-big", "width": 800, "height": 600}]
    new_photo = post(clock.now(), *NEW, "", photo=photo)
    await telegram.deliver(new_photo)
    await telegram.deliver(post(clock.now(), *OLD, "", photo=photo, caption="my kettle"))
    await drain(telegram.core)
    assert admin.calls == [("delete_message", str(GROUP), key(new_photo))]
    [row] = await audit_rows(telegram)
    assert (row["rule"], row["action"]) == ("media", "delete")


async def test_a_platform_error_worth_retrying_is_taken_on_the_retry(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    await _group(
        telegram, clock, words={"enabled": True, "words": ["casino"], "actions": ["delete"]}
    )
    admin.refuse = DeliveryError("Too Many Requests: retry after 5", retry_after=5)
    spam = post(clock.now(), *OLD, "casino")
    await telegram.deliver(spam)
    await drain(telegram.core)
    [row] = await audit_rows(telegram)
    assert row["outcome"] == "pending"
    admin.refuse = None
    clock.advance(60)  # past the consumer's backoff
    await drain(telegram.core)
    [row] = await audit_rows(telegram)
    assert row["outcome"] == "taken"
    assert admin.named("delete_message") == [(str(GROUP), key(spam))] * 2


async def test_a_wave_of_new_spammers_is_warned_once(
    telegram: TelegramSetup, clock: ManualClock, admin: RecordingAdmin
) -> None:
    await _group(telegram, clock, links={"enabled": True})
    wave = [(424243000 + n, f"Raider {n}") for n in range(12)]
    posts = [
        post(clock.now(), *raider, f"see https://spam{n}.example") for n, raider in enumerate(wave)
    ]
    for raider, spam in zip(wave, posts, strict=True):
        await telegram.deliver(joined(clock.now(), *raider))
        await telegram.deliver(spam)
    await drain(telegram.core)
    assert sorted(admin.named("delete_message")) == sorted((str(GROUP), key(p)) for p in posts)
    [warning] = await _outbound(telegram)
    assert "Raider" in warning["text"]
    clock.advance(61)  # the next window: the next one is warned
    late = (424243099, "Late Raider")
    await telegram.deliver(joined(clock.now(), *late))
    await telegram.deliver(post(clock.now(), *late, "www.spam.example"))
    await drain(telegram.core)
    assert len(await _outbound(telegram)) == 2
