"""The demo's welcome: the settings it seeds and the updates it posts make one summary for
the burst and a Chinese welcome with the rules button for the newcomer."""

from __future__ import annotations

from kith.communities.demo_welcome import (
    HOUR,
    newcomer_updates,
    raid_updates,
    seed_demo_welcome,
)
from kith.core.clock import ManualClock
from tests.communities.welcome_support import (
    CHAT,
    DATE,
    community,
    install_admin,
    posted,
    pressed,
    run_due,
)
from tests.connectors.telegram.conftest import TelegramSetup


async def test_the_demo_burst_gets_one_summary_and_the_newcomer_the_rules_button(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    admin = install_admin(telegram.core)
    group = await community(telegram)
    await seed_demo_welcome(telegram.core, group["workspace_id"], group["id"])
    for update in raid_updates(CHAT, 950_000_000, DATE):
        await telegram.deliver(update)
    await run_due(telegram.core)
    clock.advance(3 * HOUR)
    await run_due(telegram.core)
    assert await posted(telegram.core, group["conversation_id"]) == []
    clock.advance(6 * HOUR)
    await run_due(telegram.core)
    [summary] = await posted(telegram.core, group["conversation_id"])
    assert summary["text"].startswith("50 new members joined")
    assert "Rules: be kind" in summary["text"]
    assert admin.users("unrestrict") == set()  # the raiders wait to accept the rules …
    raider = {"id": 610_000_007, "is_bot": False, "first_name": "Visitor 8"}
    await telegram.deliver(pressed(raider, summary["buttons"][0]["payload"]))
    await run_due(telegram.core)
    assert admin.users("unrestrict") == {str(raider["id"])}  # … with the summary's button
    for update in newcomer_updates(CHAT, 950_001_000, DATE + 24 * HOUR):
        await telegram.deliver(update)
    await run_due(telegram.core)
    clock.advance(13 * HOUR)  # the demo's welcome pause
    await run_due(telegram.core)
    welcome = (await posted(telegram.core, group["conversation_id"]))[-1]
    assert welcome["text"].startswith("欢迎 韩梅梅 加入水壶俱乐部！")
    assert welcome["buttons"][0]["label"] == "我已阅读并同意群规"
    assert admin.of(620_000_001) == ["restrict"]
