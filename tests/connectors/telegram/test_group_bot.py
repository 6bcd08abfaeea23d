"""A bot in a Telegram group answers only what speaks to it (a reply to its message, a
command, a mention of its user), as the member who wrote, and leaves the group's
conversation in the agents' queue; the members' own talk draws nothing."""

from __future__ import annotations

from typing import Any

import pytest

from kith.bots.engine import BotEngine
from kith.bots.flows import BotDefinition
from kith.bots.knowledge import KnowledgeBase
from kith.bots.store import save_bot
from kith.core.features import install
from kith.core.outbox import OutboxWorker
from tests.connectors.telegram.conftest import BOT_TOKEN, TelegramSetup, update
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.support.consumers import drain

BOT = {"id": int(BOT_TOKEN.split(":")[0]), "is_bot": True, "first_name": "Kithy"}
DESCALE = {
    "id": "descale",
    "trigger": {"kind": "keyword", "values": ["descale"]},
    "steps": [{"id": "how", "type": "send_text", "text": "{name}: vinegar and water, 1:1."}],
}
JOIN = {
    "id": "join",
    "trigger": {"kind": "keyword", "values": ["join"]},
    "steps": [{"id": "tag", "type": "set", "add_tags": ["club"]}],
}


@pytest.fixture
async def bot(telegram: TelegramSetup, workspace_id: str) -> None:
    install(telegram.core, [BotEngine(KnowledgeBase()).feature()])
    definition = {"name": "Kithy", "channel_ids": [telegram.channel_id], "flows": [DESCALE, JOIN]}
    await save_bot(telegram.core, workspace_id, BotDefinition.model_validate(definition))


def _said(text: str, n: int, **extra: Any) -> dict[str, Any]:
    """Ada writes `text` in the group (update and message ids from `n`); `from` in `extra`
    makes someone else the writer."""
    body = update("group_reply", update_id=815001000 + n)
    message = {k: v for k, v in body["message"].items() if k != "reply_to_message"}
    body["message"] = {**message, "message_id": 2000 + n, "text": text, **extra}
    return body


GRACE = {"id": 424242009, "is_bot": False, "first_name": "Grace"}


async def _bot_said(telegram: TelegramSetup) -> list[str]:
    found = telegram.core.store.messages.find({"direction": "out", "author.kind": "bot"})
    return [m["text"] for m in await found.to_list(None)]


@pytest.mark.usefixtures("bot")
async def test_the_members_own_talk_draws_nothing(telegram: TelegramSetup) -> None:
    await telegram.deliver(update("group_text"))  # "Does anyone know how to descale it?"
    await telegram.deliver(_said("I descale mine monthly", 1))
    await telegram.deliver(_said("/descale@OtherShopBot", 5))  # another bot's command
    await drain(telegram.core)
    assert await _bot_said(telegram) == []


@pytest.mark.usefixtures("bot")
async def test_a_reply_to_the_bot_a_command_or_a_mention_is_answered(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    await telegram.deliver(update("group_text"))  # Li opened the group's conversation
    ours = {
        "message_id": 77,
        "from": BOT,
        "chat": update("group_text")["message"]["chat"],
        "date": 1767225600,
        "text": "Ask me anything",
    }
    await telegram.deliver(_said("How do I descale?", 2, reply_to_message=ours))
    await telegram.deliver(_said("/descale", 3))
    mention = [{"type": "text_mention", "offset": 0, "length": 5, "user": BOT}]
    await telegram.deliver(_said("Kithy descale please", 4, entities=mention))
    await drain(telegram.core)
    assert await _bot_said(telegram) == ["Ada Lovelace: vinegar and water, 1:1."] * 3
    answers = await telegram.core.store.messages.find({"author.kind": "bot"}).to_list(None)
    asked = await telegram.core.store.messages.find({"author.name": "Ada Lovelace"}).to_list(None)
    assert {a["reply_to"] for a in answers} == {m["_id"] for m in asked}  # each says whom
    assert await OutboxWorker(telegram.core).run_once() == 3
    replied = [c["reply_parameters"]["message_id"] for c in bot_api.called("sendMessage")]
    assert sorted(replied) == [2002, 2003, 2004]
    [group] = await telegram.core.store.conversations.find({}).to_list(None)
    assert group["status"] == "open"  # still the agents': the bot answered one member


@pytest.mark.usefixtures("bot")
async def test_each_member_has_their_own_session_and_data(telegram: TelegramSetup) -> None:
    """Two members' misses are not one member's two (no handoff); a tag goes on who asked."""
    await telegram.deliver(update("group_text"))  # Li opened the group's conversation
    await telegram.deliver(_said("/what", 6))  # Ada: not understood
    await telegram.deliver(_said("/huh", 7, **{"from": GRACE}))  # Grace: not understood
    await drain(telegram.core)
    handoffs = {"type": "conversation.handoff"}
    assert await telegram.core.store.events.count_documents(handoffs) == 0
    await telegram.deliver(_said("/eh", 8))  # Ada's second miss: she is handed to a person
    await drain(telegram.core)
    assert await telegram.core.store.events.count_documents(handoffs) == 1
    await telegram.deliver(_said("/join", 9, **{"from": GRACE}))
    await drain(telegram.core)
    tagged = await telegram.core.store.customers.find({"tags": "club"}).to_list(None)
    assert [c["name"] for c in tagged] == ["Grace"]


@pytest.mark.usefixtures("bot")
async def test_naming_the_bot_by_its_username_is_answered(
    telegram: TelegramSetup, bot_api: FakeBotApi
) -> None:
    """`@kith_shop_bot` (getMe's username, asked once) and `/descale@kith_shop_bot` speak to
    it; another bot's name does not."""
    await telegram.deliver(update("group_text"))
    mention = [{"type": "mention", "offset": 0, "length": 14}]
    await telegram.deliver(_said("@kith_shop_bot descale?", 10, entities=mention))
    command = [{"type": "bot_command", "offset": 0, "length": 22}]
    await telegram.deliver(_said("/descale@kith_shop_bot", 11, entities=command))
    other = [{"type": "mention", "offset": 0, "length": 9}]
    await telegram.deliver(_said("@otherbot descale?", 12, entities=other))
    await drain(telegram.core)
    assert await _bot_said(telegram) == ["Ada Lovelace: vinegar and water, 1:1."] * 2
    assert len(bot_api.called("getMe")) == 1
