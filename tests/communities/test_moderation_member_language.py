"""A moderation warning speaks the member's language when Kith knows it (Telegram's
`language_code`), as welcomes do; and a member moderation acted on before their welcome went
out is not greeted (only the rules and their button, if they have rules to accept)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kith.core.clock import ManualClock
from tests.communities.moderation_kit import install_admin, joined, post, set_rules
from tests.communities.welcome_support import community, posted, run_due
from tests.communities.welcome_support import joined as joined_now
from tests.connectors.telegram.conftest import TelegramSetup
from tests.support.consumers import drain

YANG = (424242508, "杨磊")
NOAH = (424242507, "Noah Davis")
SPAMMER = (424242509, "Crypto Carl")
WORDS = {"enabled": True, "words": ["casino"], "actions": ["delete", "warn"]}


def _speaking(update: dict[str, Any], language: str) -> dict[str, Any]:
    """The update with its sender's `language_code` (Telegram's, from their app)."""
    update["message"]["from"]["language_code"] = language
    for member in update["message"].get("new_chat_members", []):
        member["language_code"] = language
    return update


async def test_a_warning_is_in_the_member_s_language(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    install_admin(telegram.core)
    for who, language in ((YANG, "zh-hans"), (NOAH, "en")):
        await telegram.deliver(_speaking(joined(clock.now() - timedelta(days=30), *who), language))
    await drain(telegram.core)
    group = await community(telegram, moderation={"enabled": True, "words": WORDS})
    assert group["moderation"]["language"] == "en"  # an English group

    await telegram.deliver(_speaking(post(clock.now(), *YANG, "casino 加 微 信"), "zh-hans"))
    await drain(telegram.core)
    clock.advance(120)  # past the rule's window: the group may be warned again
    await telegram.deliver(_speaking(post(clock.now(), *NOAH, "casino night"), "en"))
    await drain(telegram.core)
    warnings = [m for m in await posted(telegram.core, group["conversation_id"]) if m["buttons"]]
    chinese, english = warnings
    assert chinese["text"].startswith("杨磊：本群禁止该词语。消息已删除。")
    assert [b["label"] for b in chinese["buttons"]] == ["申诉"]
    assert english["text"].startswith("Noah Davis: that word is not allowed here.")
    assert [b["label"] for b in english["buttons"]] == ["Appeal"]


async def test_a_member_moderated_before_the_welcome_is_not_greeted(
    telegram: TelegramSetup, clock: ManualClock
) -> None:
    install_admin(telegram.core)
    rules = {"enabled": True, "texts": {"en": "Be kind."}, "timeout_minutes": None}
    group = await community(telegram, welcome={"enabled": True, "delay_seconds": 10}, rules=rules)
    links = {"enabled": True, "actions": ["delete", "warn"]}
    await set_rules(telegram, links=links)
    spammer = {"id": SPAMMER[0], "is_bot": False, "first_name": SPAMMER[1]}
    await telegram.deliver(joined_now(spammer, date=int(clock.now().timestamp())))
    await run_due(telegram.core)
    clock.advance(3)  # during the welcome's pause, a link: deleted and warned
    await telegram.deliver(post(clock.now(), *SPAMMER, "cheap coins at www.spam.example"))
    await run_due(telegram.core)
    clock.advance(10)
    await run_due(telegram.core)
    said = [m["text"] for m in await posted(telegram.core, group["conversation_id"])]
    assert not any("Welcome" in text for text in said), said
    [asked] = [text for text in said if "Be kind." in text]  # the rules and their button
    assert asked == "Be kind."
