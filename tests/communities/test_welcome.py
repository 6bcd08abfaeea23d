"""The welcome and the rules, driven by Telegram updates at the webhook, with a controllable
clock and durable timers; the group administration calls reach a recording stand-in."""

from __future__ import annotations

from datetime import timedelta

from kith.communities import roster, welcome
from kith.communities.store import get_member
from kith.core.clock import ManualClock
from kith.core.models import Event
from kith.core.timers import find_timers
from tests.communities.welcome_support import (
    DATE,
    LI,
    community,
    install_admin,
    joined,
    left,
    posted,
    pressed,
    remove_admin,
    run_due,
    user,
)
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain

TEXTS = {"en": "Welcome, {name}!", "zh": "欢迎 {name}！"}
RULES = {"enabled": True, "texts": {"en": "Be kind.", "zh": "友善发言。"}, "timeout_minutes": 30}
KATE = user(424242004, "Katherine", "en")
MEI = user(424242005, "美 {name} <b>", "zh-hans")


async def test_a_join_gets_one_welcome_in_the_members_language_after_the_pause(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    install_admin(telegram.core)
    group = await community(telegram, welcome={"enabled": True, "texts": TEXTS})
    await telegram.deliver(joined(MEI))
    await telegram.deliver(joined(KATE))
    await run_due(telegram.core)
    assert await posted(telegram.core, group["conversation_id"]) == []  # it waits: a raid?
    clock.advance(10)
    await run_due(telegram.core)
    said = [m["text"] for m in await posted(telegram.core, group["conversation_id"])]
    # The name is put in once, as text: braces in it are not read as a template.
    assert sorted(said) == ["Welcome, Katherine!", "欢迎 美 {name} <b>！"]
    message = (await posted(telegram.core, group["conversation_id"]))[0]
    assert message["delivery"]["status"] == "pending"  # the outbox paces it (20/min/group)
    assert message["buttons"] == []


async def test_a_redelivered_join_and_a_rerun_consumer_post_nothing_twice(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    install_admin(telegram.core)
    group = await community(telegram, welcome={"enabled": True, "texts": TEXTS})
    update = joined(KATE)
    await telegram.deliver(update)
    await telegram.deliver(update)  # Telegram retries until it gets a 2xx
    await drain(telegram.core)
    [event] = await telegram.events("community.member_joined")
    clock.advance(10)
    await run_due(telegram.core)
    await welcome.on_join(telegram.core, Event.from_doc(event))  # a consumer run again
    clock.advance(10)
    await run_due(telegram.core)
    assert len(await posted(telegram.core, group["conversation_id"])) == 1


async def test_a_member_back_within_the_quiet_days_is_not_welcomed_again(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    install_admin(telegram.core)
    settings = {"enabled": True, "texts": TEXTS, "rejoin_quiet_days": 7}
    group = await community(telegram, welcome=settings)
    day = 24 * 3600

    async def deliver(update: dict[str, object]) -> None:
        await telegram.deliver(update)
        clock.advance(1)  # events of one moment are worked in id order, not arrival order

    await deliver(joined(KATE, date=DATE))
    await deliver(left(KATE, date=DATE + 3600))
    await deliver(joined(KATE, date=DATE + 2 * day))  # back two days later: quiet
    await run_due(telegram.core)
    clock.advance(10)
    await run_due(telegram.core)
    assert len(await posted(telegram.core, group["conversation_id"])) == 1
    await deliver(left(KATE, date=DATE + 3 * day))
    await deliver(joined(KATE, date=DATE + 11 * day))  # eight days later: welcomed
    await run_due(telegram.core)
    clock.advance(10)
    await run_due(telegram.core)
    assert len(await posted(telegram.core, group["conversation_id"])) == 2


async def test_rules_restrict_until_the_member_presses_their_button(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    admin = install_admin(telegram.core)
    group = await community(telegram, welcome={"enabled": True, "texts": TEXTS}, rules=RULES)
    guard = {"id": 7000000002, "is_bot": True, "first_name": "Spam Guard"}
    await telegram.deliver(joined(KATE, guard))  # Katherine, and a bot
    await run_due(telegram.core)
    assert admin.of(KATE["id"]) == ["restrict"]
    assert admin.of(7000000002) == []  # bots are not members: never restricted
    clock.advance(10)
    await run_due(telegram.core)
    [message] = await posted(telegram.core, group["conversation_id"])
    assert message["text"] == "Welcome, Katherine!\n\nBe kind."
    [button] = message["buttons"]
    assert button["label"] == "I accept the rules"
    await telegram.deliver(pressed(user(LI, "Li"), button["payload"]))  # not Li's to press
    await run_due(telegram.core)
    assert admin.of(KATE["id"]) == ["restrict"]
    assert await telegram.events("community.rules_accepted") == []
    await telegram.deliver(pressed(KATE, button["payload"]))
    await run_due(telegram.core)
    assert admin.of(KATE["id"]) == ["restrict", "unrestrict"]
    [accepted] = await telegram.events("community.rules_accepted")
    assert accepted["data"]["platform_user_id"] == str(KATE["id"])
    clock.advance(31 * 60)  # the timeout was cancelled: nobody is removed
    await run_due(telegram.core)
    assert admin.of(KATE["id"]) == ["restrict", "unrestrict"]
    assert await find_timers(telegram.core, "community-") == []


async def test_rules_not_accepted_in_time_remove_the_member(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    admin = install_admin(telegram.core)
    group = await community(telegram, rules=RULES)  # rules without a welcome text
    await telegram.deliver(joined(MEI))
    await run_due(telegram.core)
    clock.advance(10)
    await run_due(telegram.core)
    [message] = await posted(telegram.core, group["conversation_id"])
    assert message["text"] == "友善发言。"  # in her language
    assert message["buttons"][0]["label"] == "我已阅读并同意群规"
    clock.advance(29 * 60)
    await run_due(telegram.core)
    assert admin.of(MEI["id"]) == ["restrict"]
    clock.advance(60)
    await run_due(telegram.core)
    assert admin.of(MEI["id"]) == ["restrict", "remove"]
    member = await get_member(telegram.core, group["id"], str(MEI["id"]))
    assert member is not None and member.status == "left" and member.spans[-1].removed
    [expired] = await telegram.events("community.rules_expired")
    assert expired["data"]["platform_user_id"] == str(MEI["id"])


async def test_admins_are_welcomed_but_never_restricted(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    admin = install_admin(telegram.core)
    settings = {"enabled": True, "texts": TEXTS}
    group = await community(telegram, welcome=settings, rules=RULES)
    found = await roster.see(
        telegram.core,
        roster.Chat(group["workspace_id"], telegram.channel_id, "telegram", str(-1001234567890)),
    )
    boss = roster.Who("424242099", "customer-boss", "Grace", role="administrator")
    at = clock.now() - timedelta(minutes=1)
    await roster.join(telegram.core, found, boss, at, None, "chat_member:boss")
    await run_due(telegram.core)
    clock.advance(10)
    await run_due(telegram.core)
    [message] = await posted(telegram.core, group["conversation_id"])
    assert message["text"] == "Welcome, Grace!"
    assert message["buttons"] == []
    assert admin.calls == []


async def test_without_group_administration_the_welcome_still_asks_and_nobody_is_dropped(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    """Where the channel offers no group calls, the welcome and its button still go out; a
    member who never accepts is not taken off the roster, since nobody removed them."""
    remove_admin(telegram.core)
    group = await community(telegram, rules=RULES)
    await telegram.deliver(joined(KATE))
    await run_due(telegram.core)
    clock.advance(10)
    await run_due(telegram.core)
    [message] = await posted(telegram.core, group["conversation_id"])
    assert message["buttons"]
    clock.advance(30 * 60)
    await run_due(telegram.core)
    assert len(await telegram.events("community.rules_expired")) == 1
    member = await get_member(telegram.core, group["id"], str(KATE["id"]))
    assert member is not None and member.status == "member"


async def test_bad_welcome_settings_are_refused_naming_the_field(telegram: TelegramSetup) -> None:
    group = await community(telegram)
    for bad, field in (
        ({"welcome": {"raid_joins": 1}}, "raid_joins"),
        ({"welcome": {"texts": {"English": "Hi"}}}, "texts"),
        ({"rules": {"timeout_minutes": 0}}, "timeout_minutes"),
    ):
        answer = await telegram.http.patch(
            f"/api/v1/communities/{group['id']}", json=bad, headers=telegram.auth
        )
        assert answer.status_code == 422, answer.text
        assert field in answer.text


async def test_a_join_learnt_of_more_than_a_day_late_is_not_welcomed(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    """A history replayed, or updates held through an outage: greeting them now is noise."""
    group = await community(telegram, welcome={"enabled": True, "texts": TEXTS})
    await telegram.deliver(joined(KATE, date=DATE - 2 * 86_400))
    await telegram.deliver(joined(user(424242010, "Zoe"), date=DATE - 3600))
    await run_due(telegram.core)
    clock.advance(10)
    await run_due(telegram.core)
    assert [m["text"] for m in await posted(telegram.core, group["conversation_id"])] == [
        "Welcome, Zoe!"
    ]
