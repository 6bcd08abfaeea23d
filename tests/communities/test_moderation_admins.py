"""The group's creator and administrators are never moderated, whether the roster saw them
made admins (a `chat_member` promotion) or Telegram says so (`getChatAdministrators`, for
someone in the group before the bot), at the fake Bot API; the list is asked for sparingly
and again after a change of administrators."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kith.connectors.telegram.admins import TTL
from kith.core.clock import ManualClock
from tests.communities.moderation_kit import GROUP, audit_rows, cid, joined, post, set_rules, user
from tests.connectors.telegram.conftest import TelegramSetup
from tests.connectors.telegram.fake_bot_api import ADMIN_RIGHTS, FakeBotApi
from tests.support.consumers import drain

OWNER = (880099999, "Kettle Shop")
RITA = (555000010, "Retry Rita")
OLD = (424242103, "Olga Oldtimer")
CARL = (424242104, "Casino Carl")
WORDS = {"enabled": True, "words": ["casino"], "actions": ["delete", "mute", "warn"]}
_update_ids = iter(range(960_000_000, 961_000_000))


def member_change(at: Any, uid: int, name: str, old: str, new: str) -> dict[str, Any]:
    """A `chat_member` update: `name`'s status went from `old` to `new`, by the owner."""

    def status(value: str) -> dict[str, Any]:
        rights = ADMIN_RIGHTS if value == "administrator" else {}
        return {"user": user(uid, name), "status": value, **rights}

    return {
        "update_id": next(_update_ids),
        "chat_member": {
            "chat": {"id": GROUP, "title": "Kettle Owners Club", "type": "supergroup"},
            "from": user(*OWNER),
            "date": int(at.timestamp()),
            "old_chat_member": status(old),
            "new_chat_member": status(new),
        },
    }


async def _group(telegram: TelegramSetup, clock: ManualClock) -> None:
    """Olga (a member of long standing) speaks; then the banned words are set."""
    for who in (OLD, RITA, CARL):
        await telegram.deliver(joined(clock.now() - timedelta(days=30), *who))
    await drain(telegram.core)
    await telegram.deliver(post(clock.now(), *OLD, "Good morning"))
    await drain(telegram.core)
    await set_rules(telegram, words=WORDS)


async def _roles(telegram: TelegramSetup) -> dict[str, str]:
    answer = await telegram.http.get(
        f"/api/v1/communities/{cid(telegram)}/members", headers=telegram.auth
    )
    return {m["platform_user_id"]: m["role"] for m in answer.json()["items"]}


async def _acted_on(telegram: TelegramSetup, uid: int) -> list[str]:
    return [row["action"] for row in await audit_rows(telegram, platform_user_id=str(uid))]


async def test_the_creator_in_the_group_before_the_bot_is_never_moderated(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    bot_api.admins[GROUP] = {OWNER[0]: "creator"}
    await _group(telegram, clock)
    await telegram.deliver(post(clock.now(), *OWNER, "Owner here: casino night is cancelled"))
    await drain(telegram.core)
    clock.advance(60)
    await telegram.deliver(post(clock.now(), *OWNER, "No casino, I said"))
    await drain(telegram.core)

    assert await _acted_on(telegram, OWNER[0]) == []
    assert bot_api.called("deleteMessage") == []
    assert (await _roles(telegram))[str(OWNER[0])] == "admin"  # the roster learnt it
    assert len(bot_api.called("getChatAdministrators")) == 1


async def test_the_list_is_asked_for_only_for_a_broken_rule_and_kept_a_while(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    bot_api.admins[GROUP] = {OWNER[0]: "creator"}
    await _group(telegram, clock)
    await telegram.deliver(post(clock.now(), *CARL, "Kettles are great"))
    await drain(telegram.core)
    assert bot_api.called("getChatAdministrators") == []  # nothing broke a rule

    await telegram.deliver(post(clock.now(), *CARL, "casino bonus"))
    clock.advance(60)
    await telegram.deliver(post(clock.now(), *CARL, "casino bonus again"))
    await drain(telegram.core)
    assert len(bot_api.called("getChatAdministrators")) == 1
    assert "delete" in await _acted_on(telegram, CARL[0])

    clock.advance(int(TTL.total_seconds()) + 1)
    await telegram.deliver(post(clock.now(), *CARL, "casino, once more"))
    await drain(telegram.core)
    assert len(bot_api.called("getChatAdministrators")) == 2
    assert len(bot_api.called("deleteMessage")) == 3


async def test_a_member_promoted_to_administrator_is_an_admin_and_left_alone(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    """The roster alone protects her: the fake's list does not name her (as a list kept
    from before her promotion would not)."""
    await _group(telegram, clock)
    promoted = member_change(clock.now(), *RITA, "member", "administrator")
    await telegram.deliver(promoted)
    await telegram.deliver(promoted)  # redelivered
    await drain(telegram.core)
    assert (await _roles(telegram))[str(RITA[0])] == "admin"
    assert len(await telegram.events("channel.member_updated")) == 1

    clock.advance(5)
    await telegram.deliver(post(clock.now(), *RITA, "Rita here: casino talk stays out"))
    await drain(telegram.core)
    assert await _acted_on(telegram, RITA[0]) == []
    assert bot_api.called("deleteMessage") == []


async def test_a_demoted_administrator_is_moderated_again_at_once(
    telegram: TelegramSetup, bot_api: FakeBotApi, clock: ManualClock
) -> None:
    """Telegram lists her while she is an admin; her demotion forgets the kept list, so her
    next message is judged by a fresh one, well within the list's keeping time."""
    bot_api.admins[GROUP] = {OWNER[0]: "creator", RITA[0]: "administrator"}
    await _group(telegram, clock)
    await telegram.deliver(post(clock.now(), *RITA, "casino, says the admin"))
    await drain(telegram.core)
    assert await _acted_on(telegram, RITA[0]) == []

    clock.advance(60)
    del bot_api.admins[GROUP][RITA[0]]
    await telegram.deliver(member_change(clock.now(), *RITA, "administrator", "member"))
    await drain(telegram.core)
    assert (await _roles(telegram))[str(RITA[0])] == "member"
    clock.advance(5)
    await telegram.deliver(post(clock.now(), *RITA, "casino, says Rita"))
    await drain(telegram.core)

    assert sorted(await _acted_on(telegram, RITA[0])) == ["delete", "mute", "warn"]
    assert len(bot_api.called("getChatAdministrators")) == 2


async def test_a_late_promotion_does_not_undo_a_newer_demotion(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    """Updates are not ordered across redeliveries: the roster keeps the newest role."""
    await _group(telegram, clock)
    promoted = member_change(clock.now() - timedelta(minutes=5), *RITA, "member", "administrator")
    demoted = member_change(clock.now(), *RITA, "administrator", "member")
    await telegram.deliver(demoted)
    await drain(telegram.core)
    await telegram.deliver(promoted)
    await drain(telegram.core)
    assert (await _roles(telegram))[str(RITA[0])] == "member"


async def test_someone_promoted_before_the_roster_saw_them_is_on_it_as_admin(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    await _group(telegram, clock)
    before = await telegram.http.get(f"/api/v1/communities/{cid(telegram)}", headers=telegram.auth)
    await telegram.deliver(member_change(clock.now(), *OWNER, "member", "administrator"))
    await drain(telegram.core)
    after = await telegram.http.get(f"/api/v1/communities/{cid(telegram)}", headers=telegram.auth)
    assert (await _roles(telegram))[str(OWNER[0])] == "admin"
    assert after.json()["member_count"] == before.json()["member_count"] + 1
