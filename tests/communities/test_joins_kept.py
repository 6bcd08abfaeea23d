"""`community_joins` is not kept for ever: each join carries a `purge_at` (a TTL index drops it
then), far enough out for every reader of a join, except an accepted rules' join, which is kept
so the member is never asked again."""

from __future__ import annotations

from datetime import timedelta

from kith.communities.feature import feature
from kith.communities.joins import JOINS, KEPT, joins
from kith.communities.settings import Rules, Welcome
from kith.core.clock import ManualClock, aware
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

KATE = user(424242004, "Katherine", "en")
MEI = user(424242005, "Mei", "zh-hans")
LONGEST = {
    "delay_seconds": Welcome.model_json_schema()["properties"]["delay_seconds"]["maximum"],
    "raid_seconds": Welcome.model_json_schema()["properties"]["raid_seconds"]["maximum"],
    "timeout_minutes": Rules.model_json_schema()["properties"]["timeout_minutes"]["anyOf"][0][
        "maximum"
    ],
}


def test_a_join_is_kept_longer_than_any_window_a_reader_of_it_has() -> None:
    """The welcome's pause then the rules' timeout (counted from the join), or a raid's
    window, at the longest the settings allow."""
    longest = max(
        timedelta(seconds=LONGEST["delay_seconds"]) + timedelta(minutes=LONGEST["timeout_minutes"]),
        timedelta(seconds=LONGEST["raid_seconds"]),
    )
    assert longest < KEPT


async def test_the_ttl_index_is_declared_and_made(telegram: TelegramSetup) -> None:
    declared = [i for i in feature(telegram.core).indexes if i.collection == JOINS]
    assert any(
        i.keys == (("purge_at", 1),) and i.options == {"expireAfterSeconds": 0} for i in declared
    )
    made = await telegram.core.store.collection(JOINS).index_information()
    ttl = [i for i in made.values() if list(i["key"]) == [("purge_at", 1)]]
    assert [i["expireAfterSeconds"] for i in ttl] == [0]


async def test_at_the_longest_timeout_the_join_is_still_there_and_an_accepted_one_is_kept(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    admin = install_admin(telegram.core)
    rules = {"enabled": True, "texts": {"en": "Be kind."}}
    rules["timeout_minutes"] = LONGEST["timeout_minutes"]
    welcome = {"enabled": True, "delay_seconds": LONGEST["delay_seconds"]}
    group = await community(telegram, welcome=welcome, rules=rules)
    stored_at = clock.now()
    await telegram.deliver(joined(KATE, MEI))
    await run_due(telegram.core)
    docs = {d["platform_user_id"]: d async for d in joins(telegram.core).find({})}
    assert {aware(d["purge_at"]) for d in docs.values()} == {stored_at + KEPT}

    clock.advance(LONGEST["delay_seconds"])  # the welcome's pause: its button, then Kate presses
    await run_due(telegram.core)
    said = await posted(telegram.core, group["conversation_id"])
    [message] = [m for m in said if "Katherine" in m["text"]]
    await telegram.deliver(pressed(KATE, message["buttons"][0]["payload"]))
    await run_due(telegram.core)
    kept = await joins(telegram.core).find_one({"platform_user_id": str(KATE["id"])})
    assert kept["rules"] == "accepted" and kept["purge_at"] is None

    # The last moment a reader needs Mei's join: her rules' timeout, counted from her join.
    due = stored_at + timedelta(minutes=LONGEST["timeout_minutes"])
    clock.advance((due - clock.now()).total_seconds())
    await run_due(telegram.core)
    assert admin.of(MEI["id"]) == ["restrict", "remove"]
    expired = await joins(telegram.core).find_one({"platform_user_id": str(MEI["id"])})
    assert expired["rules"] == "expired" and clock.now() < aware(expired["purge_at"])
