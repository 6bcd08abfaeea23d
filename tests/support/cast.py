"""Factories and a small named cast: `inbound(channel, "ada", "hi")`."""

from __future__ import annotations

import itertools

from kith.core.auth import create_api_token
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Channel, InboundMessage, InboundUser

CAST = {
    "ada": InboundUser(id="u-ada", name="Ada Lovelace", email="ada@example.com"),
    "grace": InboundUser(id="u-grace", name="Grace Hopper", phone="+15550100"),
    "li": InboundUser(id="u-li", name="李雷", email="lilei@example.cn", locale="zh-CN"),
}
_seq = itertools.count(1)


async def api_channel(
    core: Core, workspace_id: str, name: str = "Website API", callback: bool = True
) -> tuple[Channel, str]:
    config = {"callback_url": "http://integrator.test/kith"} if callback else {}
    return await create_channel(core, workspace_id, "api", name, config)


async def api_token(core: Core, workspace_id: str) -> str:
    return await create_api_token(core, workspace_id, "tests")


def inbound(
    channel: Channel,
    who: str = "ada",
    text: str = "hello",
    *,
    message_id: str | None = None,
    thread: str | None = None,
    user: InboundUser | None = None,
) -> InboundMessage:
    return InboundMessage.on(
        channel,
        channel_message_id=message_id or f"m-{next(_seq)}",
        user=user or CAST[who],
        thread_key=thread,
        text=text,
    )
