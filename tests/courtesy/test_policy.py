"""The courtesy policy through its contract: decide() and take_daily_slot(), on both lanes,
with a manual clock (quiet hours across zones and DST changes, the cross-channel daily cap in
the customer's own day, send_by, consent, and each platform's rule)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from kith.consent.actions import do_change_consent
from kith.core.clock import ManualClock
from kith.core.customers import do_erase_customer, do_update_customer
from kith.core.models import ConsentState, Customer
from kith.courtesy.policy import Go, Hold, Route, Skip, SkipReason, decide, take_daily_slot
from kith.courtesy.settings import CourtesySettings, save_settings
from tests.courtesy.conftest import Shop

NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)


async def in_zone(shop: Shop, customer: Customer, zone: str) -> Customer:
    return await do_update_customer(shop.core, customer, fields={"timezone": zone})


async def configure(shop: Shop, **fields: object) -> None:
    await save_settings(shop.core, shop.workspace_id, CourtesySettings.model_validate(fields))


# -- routes, consent and platform rules ------------------------------------------------


async def test_first_reachable_channel_in_preference_order(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.writes("slack", "U1")
    decision = await decide(shop.core, customer, ["wechat", "email", "slack"], NOON, None)
    assert decision == Go(Route(shop.channels["slack"].id, "slack", "U1"))


async def test_no_identity_anywhere_is_unreachable(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.writes("webchat", "v:visitor")
    decision = await decide(shop.core, customer, ["email", "telegram"], NOON, None)
    assert decision == Skip(SkipReason.no_reachable_channel)
    assert await decide(shop.core, customer, ["webchat"], NOON, None) == Go(
        Route(shop.channels["webchat"].id, "webchat", "v:visitor")
    )


async def test_revoked_consent_falls_back_and_is_the_reason_when_alone(
    shop: Shop, clock: ManualClock
) -> None:
    clock._now = NOON
    customer = await shop.merged(
        await shop.writes("email", "ada@example.com"), await shop.writes("slack", "U-ada")
    )
    await do_change_consent(shop.core, customer, "email", ConsentState.revoked, via="link")
    decision = await decide(shop.core, customer, ["email", "slack"], NOON, None)
    assert decision == Go(Route(shop.channels["slack"].id, "slack", "U-ada"))
    assert await decide(shop.core, customer, ["email"], NOON, None) == Skip(SkipReason.no_consent)
    # the customer's refusal is more telling than a channel they are not on
    assert await decide(shop.core, customer, ["telegram", "email"], NOON, None) == Skip(
        SkipReason.no_consent
    )


async def test_unknown_consent_passes_unless_the_workspace_requires_a_grant(
    shop: Shop, clock: ManualClock
) -> None:
    clock._now = NOON
    customer = await shop.writes("email", "bo@example.com")
    route = Go(Route(shop.channels["email"].id, "email", "bo@example.com"))
    assert await decide(shop.core, customer, ["email"], NOON, None) == route
    await configure(shop, require_granted=["email"])
    assert await decide(shop.core, customer, ["email"], NOON, None) == Skip(SkipReason.no_consent)
    await do_change_consent(shop.core, customer, "email", ConsentState.granted, via="api")
    assert await decide(shop.core, customer, ["email"], NOON, None) == route


async def test_wechat_needs_an_interaction_within_48_hours(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.merged(
        await shop.writes("wechat", "openid-1"), await shop.writes("email", "wx@example.com")
    )
    wechat = Go(Route(shop.channels["wechat"].id, "wechat", "openid-1"))
    later = NOON + timedelta(hours=47, minutes=59)
    assert await decide(shop.core, customer, ["wechat"], later, None) == wechat
    closed = NOON + timedelta(hours=48, minutes=1)
    assert await decide(shop.core, customer, ["wechat"], closed, None) == Skip(
        SkipReason.wechat_window_closed
    )
    assert await decide(shop.core, customer, ["wechat", "email"], closed, None) == Go(
        Route(shop.channels["email"].id, "email", "wx@example.com")
    )
    clock._now = closed
    await shop.writes("wechat", "openid-1")  # writing again opens the window again
    assert await decide(shop.core, customer, ["wechat"], closed, None) == wechat


async def test_telegram_needs_a_private_chat_with_the_bot(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.writes("telegram", "4242", thread="-100777")  # only in a group
    assert await decide(shop.core, customer, ["telegram"], NOON, None) == Skip(
        SkipReason.telegram_not_started
    )
    await shop.writes("telegram", "4242", thread="4242")  # /start in a private chat
    assert await decide(shop.core, customer, ["telegram"], NOON, None) == Go(
        Route(shop.channels["telegram"].id, "telegram", "4242")
    )


async def test_a_disabled_channel_is_not_a_route(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.writes("slack", "U9")
    await shop.core.store.channels.update_one(
        {"_id": shop.channels["slack"].id}, {"$set": {"enabled": False}}
    )
    assert await decide(shop.core, customer, ["slack"], NOON, None) == Skip(
        SkipReason.no_reachable_channel
    )


async def test_erased_and_merged_customers_are_skipped(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    first = await shop.writes("slack", "U-a")
    second = await shop.writes("email", "a@example.com")
    await shop.merged(first, second)
    assert await decide(shop.core, second, ["email"], NOON, None) == Skip(SkipReason.merged)
    await do_erase_customer(shop.core, shop.workspace_id, first.id)
    assert await decide(shop.core, first, ["slack"], NOON, None) == Skip(SkipReason.erased)


# -- time: quiet hours, send_by ----------------------------------------------------------


async def test_quiet_hours_hold_until_nine_in_the_customers_zone(
    shop: Shop, clock: ManualClock
) -> None:
    clock._now = NOON
    customer = await in_zone(shop, await shop.writes("slack", "U-sh"), "Asia/Shanghai")
    late = datetime(2026, 6, 1, 14, 30, tzinfo=UTC)  # 22:30 in Shanghai
    assert await decide(shop.core, customer, ["slack"], late, None) == Hold(
        until=datetime(2026, 6, 2, 1, tzinfo=UTC), reason="quiet_hours"
    )
    early = datetime(2026, 6, 1, 23, tzinfo=UTC)  # 07:00 on the 2nd in Shanghai
    assert await decide(shop.core, customer, ["slack"], early, None) == Hold(
        until=datetime(2026, 6, 2, 1, tzinfo=UTC), reason="quiet_hours"
    )
    assert isinstance(await decide(shop.core, customer, ["slack"], NOON, None), Go)  # 20:00


async def test_without_their_own_zone_the_workspace_zone_applies(
    shop: Shop, clock: ManualClock
) -> None:
    clock._now = NOON
    customer = await shop.writes("slack", "U-none")
    assert isinstance(await decide(shop.core, customer, ["slack"], NOON, None), Go)  # 12:00 UTC
    await configure(shop, timezone="Asia/Tokyo")  # 21:00 in Tokyo
    assert await decide(shop.core, customer, ["slack"], NOON, None) == Hold(
        until=datetime(2026, 6, 2, 0, tzinfo=UTC), reason="quiet_hours"
    )


async def test_quiet_hours_over_the_spring_forward_night_in_new_york(
    shop: Shop, clock: ManualClock
) -> None:
    """2026-03-08: clocks go from 02:00 EST to 03:00 EDT; 09:00 that morning is 13:00 UTC,
    not the 14:00 a fixed 24-hour day would give."""
    clock._now = NOON
    customer = await in_zone(shop, await shop.writes("slack", "U-ny"), "America/New_York")
    evening = datetime(2026, 3, 8, 3, tzinfo=UTC)  # 22:00 EST on the 7th
    opens = datetime(2026, 3, 8, 13, tzinfo=UTC)
    assert await decide(shop.core, customer, ["slack"], evening, None) == Hold(
        until=opens, reason="quiet_hours"
    )
    assert isinstance(await decide(shop.core, customer, ["slack"], opens, None), Go)
    assert isinstance(
        await decide(shop.core, customer, ["slack"], opens - timedelta(minutes=1), None), Hold
    )


async def test_quiet_hours_over_the_fall_back_night_in_berlin(
    shop: Shop, clock: ManualClock
) -> None:
    """2026-10-25: 03:00 CEST becomes 02:00 CET; 09:00 CET is 08:00 UTC."""
    clock._now = NOON
    customer = await in_zone(shop, await shop.writes("slack", "U-be"), "Europe/Berlin")
    evening = datetime(2026, 10, 24, 20, tzinfo=UTC)  # 22:00 CEST
    assert await decide(shop.core, customer, ["slack"], evening, None) == Hold(
        until=datetime(2026, 10, 25, 8, tzinfo=UTC), reason="quiet_hours"
    )
    before = datetime(2026, 10, 24, 18, 59, tzinfo=UTC)  # 20:59 CEST
    assert isinstance(await decide(shop.core, customer, ["slack"], before, None), Go)


async def test_daytime_quiet_hours_and_none(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.writes("slack", "U-day")
    await configure(shop, quiet_start=time(12, 0), quiet_end=time(14, 0))
    assert await decide(shop.core, customer, ["slack"], NOON, None) == Hold(
        until=NOON + timedelta(hours=2), reason="quiet_hours"
    )
    await configure(shop, quiet_start=time(0, 0), quiet_end=time(0, 0))
    night = datetime(2026, 6, 1, 23, tzinfo=UTC)
    assert isinstance(await decide(shop.core, customer, ["slack"], night, None), Go)


async def test_send_by(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.writes("slack", "U-late")
    assert await decide(shop.core, customer, ["slack"], NOON, NOON - timedelta(seconds=1)) == Skip(
        SkipReason.send_by_passed
    )
    assert isinstance(await decide(shop.core, customer, ["slack"], NOON, NOON), Go)
    night = datetime(2026, 6, 1, 22, tzinfo=UTC)  # held until 09:00 UTC tomorrow
    deadline = datetime(2026, 6, 2, 8, tzinfo=UTC)
    assert await decide(shop.core, customer, ["slack"], night, deadline) == Skip(
        SkipReason.send_by_passed
    )
    assert isinstance(
        await decide(shop.core, customer, ["slack"], night, deadline + timedelta(hours=1)), Hold
    )


# -- the daily cap -----------------------------------------------------------------------


async def test_the_cap_counts_the_customers_own_day(shop: Shop, clock: ManualClock) -> None:
    """Cap 2. At 15:30 UTC it is 23:30 in Shanghai; an hour later the Shanghai customer has
    a new day while the UTC customer is still in theirs."""
    clock._now = NOON
    shanghai = await in_zone(shop, await shop.writes("slack", "U-sh"), "Asia/Shanghai")
    utc = await shop.writes("slack", "U-utc")
    evening = datetime(2026, 6, 1, 15, 30, tzinfo=UTC)
    for customer in (shanghai, utc):
        assert await take_daily_slot(shop.core, customer, evening, "broadcast-1")
        assert await take_daily_slot(shop.core, customer, evening, "broadcast-2")
        assert not await take_daily_slot(shop.core, customer, evening, "broadcast-3")
    later = evening + timedelta(hours=1)
    assert await take_daily_slot(shop.core, shanghai, later, "broadcast-3")
    assert not await take_daily_slot(shop.core, utc, later, "broadcast-3")
    next_utc_day = datetime(2026, 6, 2, 0, 1, tzinfo=UTC)
    assert await take_daily_slot(shop.core, utc, next_utc_day, "broadcast-3")


async def test_a_key_takes_one_slot_however_often_it_asks(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.writes("slack", "U-retry")
    await configure(shop, daily_cap=1)
    assert await take_daily_slot(shop.core, customer, NOON, "bc-1:cust")
    assert await take_daily_slot(shop.core, customer, NOON, "bc-1:cust")  # a retried send
    assert not await take_daily_slot(shop.core, customer, NOON, "bc-2:cust")
    assert await take_daily_slot(shop.core, customer, NOON, "bc-1:cust")


async def test_no_cap(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.writes("slack", "U-free")
    await configure(shop, daily_cap=None)
    assert all([await take_daily_slot(shop.core, customer, NOON, f"k{n}") for n in range(5)])


async def test_concurrent_takers_at_the_cap_one_wins(shop: Shop, clock: ManualClock) -> None:
    clock._now = NOON
    customer = await shop.writes("slack", "U-race")
    await configure(shop, daily_cap=3)
    assert await take_daily_slot(shop.core, customer, NOON, "first")
    assert await take_daily_slot(shop.core, customer, NOON, "second")
    won = await asyncio.gather(
        *(take_daily_slot(shop.core, customer, NOON, f"racer-{n}") for n in range(12))
    )
    assert sum(won) == 1
    fresh = await shop.writes("slack", "U-race-2")  # racing for the day's first document
    first = await asyncio.gather(
        *(take_daily_slot(shop.core, fresh, NOON, f"racer-{n}") for n in range(12))
    )
    assert sum(first) == 3
    same = await asyncio.gather(
        *(take_daily_slot(shop.core, fresh, NOON, "racer-0") for _ in range(8))
    )
    assert all(same) == first[0]
