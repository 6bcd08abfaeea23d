"""The demo's sequence: the issue's three-step welcome, left as a draft for the marketer to
read, activate and enrol a segment into. The tip waits a day, then for 09:00 in the
customer's zone: it goes out on the second morning after the welcome (at the demo clock's
hour per second, 24 to 48 s later), the coupon two days after the tip."""

from __future__ import annotations

from kith.core.context import Core
from kith.core.models import Author, AuthorKind
from kith.sequences.actions import do_create_sequence
from kith.sequences.models import Sequence, SequenceIn

NAME = "Welcome · 欢迎"
STEPS = [
    {
        "id": "welcome",
        "type": "send",
        "message": {
            "text": {
                "en": "Welcome to Demo Shop, {{ customer.name }}! "
                "Reply any time: a person reads it.",
                "zh": "{{ customer.name }}，欢迎光临 Demo Shop！"
                "有任何问题直接回复，我们有人工客服。",
            }
        },
    },
    {"id": "next-day", "type": "wait", "duration": "P1D"},
    {"id": "morning", "type": "wait", "until": {"time": "09:00"}},
    {
        "id": "tip",
        "type": "send",
        "message": {
            "text": {
                "en": "A tip, {{ customer.name }}: track any order by sending us its number.",
                "zh": "小贴士：把订单号发给我们，就能随时查询物流。",
            }
        },
    },
    {"id": "two-more-days", "type": "wait", "duration": "P2D"},
    {
        "id": "coupon",
        "type": "send",
        "message": {
            "text": {
                "en": "Still deciding? Here is 10% off your first order: WELCOME10. "
                "Reply STOP to opt out.",
                "zh": "还在犹豫吗？首单九折优惠码：WELCOME10。回复“退订”不再接收。",
            }
        },
    },
    {"id": "done", "type": "end"},
]


async def seed_demo_sequence(core: Core, workspace_id: str) -> Sequence:
    """A draft on the demo's channels that stops on reply: anyone who replied gets no coupon
    (a branch on "replied" would say the same, and is refused as one never taken)."""
    channels = [t for t in ("webchat", "api") if core.channels.get(t) is not None]
    body = SequenceIn.model_validate(
        {"name": NAME, "steps": STEPS, "channels": channels, "stop_on_reply": True}
    )
    marketer = Author(kind=AuthorKind.system, name="demo")
    return await do_create_sequence(core, workspace_id, body, marketer)
