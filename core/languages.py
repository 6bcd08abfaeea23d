"""A customer's language: one rule for what Kith writes to them unprompted (order notices,
satisfaction surveys). The locale on their profile; failing that, the language of their
latest message in the conversation (what sentiment detected, or Chinese for CJK text), since
a customer who writes 我要退款 over a channel that sends no locale still reads Chinese."""

from __future__ import annotations

import re

from kith.core.context import Core
from kith.core.models import Direction

CJK = re.compile(r"[\u4e00-\u9fff]")


def language_of_locale(locale: str | None) -> str | None:
    """`zh-CN` → zh, `en_GB` → en; None when there is none."""
    language = (locale or "").split("-")[0].split("_")[0].strip().lower()
    return language or None


async def customer_language(core: Core, customer_id: str, conversation_id: str) -> str | None:
    """The customer's language code, or None when nothing tells (callers pick a default)."""
    customer = await core.store.customers.find_one({"_id": customer_id}, {"locale": 1})
    language = language_of_locale((customer or {}).get("locale"))
    if language is not None:
        return language
    last = await core.store.messages.find_one(
        {"conversation_id": conversation_id, "direction": Direction.inbound.value},
        {"text": 1, "nlp": 1},
        sort=[("created_at", -1)],
    )
    if last is None:
        return None
    found = (last.get("nlp") or {}).get("language")
    return str(found) if found else ("zh" if CJK.search(last.get("text", "")) else "en")
