"""Bot fixtures: the engine installed on the test Core, a bot on an API channel, helpers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from kith.bots.engine import BotEngine
from kith.bots.flows import BotDefinition
from kith.bots.knowledge import KnowledgeBase
from kith.bots.store import save_bot
from kith.core.context import Core
from kith.core.features import install
from kith.core.models import Channel, InboundUser
from kith.core.pipeline import ingest
from kith.core.received import Received
from tests.support.cast import api_channel, inbound
from tests.support.consumers import drain


@dataclass
class BotSetup:
    core: Core
    channel: Channel
    workspace_id: str

    async def install(self, **definition: Any) -> str:
        definition.setdefault("name", "Kithy")
        definition.setdefault("channel_ids", [self.channel.id])
        bot = await save_bot(self.core, self.workspace_id, BotDefinition.model_validate(definition))
        return bot.id

    async def say(
        self, text: str, who: str = "ada", payload: str | None = None, **kw: Any
    ) -> Received:
        message = inbound(self.channel, who, text, **kw)
        if payload:
            message = message.model_copy(update={"payload": payload})
        received = await ingest(self.core, self.channel, message)
        await drain(self.core)  # the bot's turn, as the consumer worker runs it
        return received

    async def bot_texts(self, conversation_id: str) -> list[str]:
        docs = (
            await self.core.store.messages.find(
                {"conversation_id": conversation_id, "direction": "out", "private": False}
            )
            .sort("created_at", 1)
            .to_list(None)
        )
        return [d["text"] for d in docs]

    async def outbound(self, conversation_id: str) -> list[dict[str, Any]]:
        return (
            await self.core.store.messages.find(
                {"conversation_id": conversation_id, "direction": "out"}
            )
            .sort("created_at", 1)
            .to_list(None)
        )


def ask_email_flow(thanks: str = "Thanks!") -> dict[str, Any]:
    """On "newsletter": ask for an email (validated), then say `thanks`."""
    return {
        "id": "collect",
        "trigger": {"kind": "keyword", "values": ["newsletter"]},
        "steps": [
            {
                "id": "ask",
                "type": "ask",
                "text": "Your email?",
                "attribute": "email",
                "validate": "email",
            },
            {"id": "thanks", "type": "send_text", "text": thanks},
        ],
    }


@pytest.fixture
async def bots(core: Core, workspace_id: str) -> BotSetup:
    install(core, [BotEngine(KnowledgeBase()).feature()])
    channel, _ = await api_channel(core, workspace_id, callback=False)
    return BotSetup(core, channel, workspace_id)


ZH_USER = InboundUser(id="u-zh", name="王芳", locale="zh-CN")
