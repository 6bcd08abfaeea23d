"""A new user's first contact: `/start` in a private chat draws the bot's welcome there."""

from __future__ import annotations

from kith.bots.engine import BotEngine
from kith.bots.flows import BotDefinition
from kith.bots.knowledge import KnowledgeBase
from kith.bots.store import save_bot
from kith.core.features import install
from kith.core.outbox import OutboxWorker
from tests.connectors.telegram.conftest import TelegramSetup, update
from tests.connectors.telegram.fake_bot_api import FakeBotApi
from tests.support.consumers import drain

WELCOME = {
    "id": "welcome",
    "trigger": {"kind": "event", "values": ["start"]},
    "steps": [{"id": "hi", "type": "send_text", "text": "Welcome to Kith Shop!"}],
}


async def test_start_welcome_reaches_send_message_for_the_private_chat(
    telegram: TelegramSetup, bot_api: FakeBotApi, workspace_id: str
) -> None:
    core = telegram.core
    install(core, [BotEngine(KnowledgeBase()).feature()])
    definition = {"name": "Kithy", "channel_ids": [telegram.channel_id], "flows": [WELCOME]}
    await save_bot(core, workspace_id, BotDefinition.model_validate(definition))

    answer = await telegram.deliver(update("start_payload"))
    assert answer.status_code == 200
    assert await drain(core) >= 2  # the /start message and the start event
    assert await OutboxWorker(core).run_once() == 1

    [sent] = bot_api.called("sendMessage")
    assert sent["chat_id"] in (424242002, "424242002")
    assert sent["text"] == "Welcome to Kith Shop!"
    conversations = await core.store.conversations.find({}).to_list(None)
    assert [c["thread_key"] for c in conversations] == ["424242002"]  # one conversation
    outbound = await core.store.messages.find({"direction": "out"}).to_list(None)
    assert [m["text"] for m in outbound] == ["Welcome to Kith Shop!"]  # no fallback to /start
