"""`kith demo`'s answered web chats: visitors who asked on the shop's website yesterday and
got a person's reply a few minutes later, so the widget's wait line has a figure to show
("Usually replies in about 4 minutes" / "通常在 4 分钟内回复": the median of 3, 4, 4 and
7 minutes). Seeded before the demo's bot is installed (bots answer only what came after
them) and resolved, so the inbox's open list keeps the demo's other samples on top."""

from __future__ import annotations

from datetime import timedelta

from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.conversations import do_update_conversation
from kith.core.models import (
    Author,
    AuthorKind,
    Channel,
    ConversationStatus,
    InboundMessage,
    InboundUser,
    OutboundContent,
)
from kith.core.outbox import send
from kith.core.pipeline import ingest

AGENT = Author(kind=AuthorKind.agent, name="Demo Agent")
# (visitor, locale, their question, minutes until the reply, the reply)
CHATS = (
    (
        "Mia",
        "en",
        "Hi, is the Tieguanyin oolong back in stock?",
        3,
        "Hi Mia! Yes, it came in this morning: the 100 g tins are on the shop page now.",
    ),
    (
        "王芳",
        "zh-CN",
        "你好，请问茶具礼盒可以写贺卡吗？",
        4,
        "可以的！下单时在备注里写上贺卡内容，我们会手写放进礼盒里。",
    ),
    (
        "Sam",
        "en",
        "Can I change the delivery address on the order I placed an hour ago?",
        7,
        "Sure, Sam: it hasn't shipped yet, so I've updated it. You'll get a confirmation email.",
    ),
    (
        "陈静",
        "zh-CN",
        "请问周末下单，什么时候能发货？",
        4,
        "周末的订单会在周一上午发出，一般两到三天送达。",
    ),
)


async def seed_demo_answered_chats(core: Core, channel: Channel) -> None:
    """The `CHATS` on the web chat `channel`, a day before now on Kith's clock."""
    clock = ManualClock(core.clock.now() - timedelta(days=1))
    real_clock, core.clock = core.clock, clock
    try:
        for n, (name, locale, question, minutes, answer) in enumerate(CHATS):
            visitor = InboundUser(id=f"v:demo-chat-{n}", name=name, locale=locale)
            asked = InboundMessage.on(
                channel, channel_message_id=f"demo-chat-{n}", user=visitor, text=question
            )
            received = await ingest(core, channel, asked)
            clock.advance(minutes * 60)
            await send(core, received.conversation, OutboundContent(text=answer), AGENT)
            clock.advance(60)
            await do_update_conversation(
                core, received.conversation, status=ConversationStatus.resolved
            )
            clock.advance(40 * 60)
    finally:
        core.clock = real_clock
