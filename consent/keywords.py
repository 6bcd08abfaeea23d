"""Consent by keyword in chat: a message that is only `STOP` (or `退订` …) revokes the
channel's marketing consent, `START` (or `订阅`) grants it back; either way the customer gets
one short confirmation, a service message (so consent never holds it back), and the bot
stays quiet on it (the consent feature declares the message answered: `Feature.answers`).

The reply's id derives from the event, so a redelivered or retried event sends one reply.
"""

from __future__ import annotations

import re

from kith.consent.actions import do_change_consent
from kith.consent.settings import ConsentSettings, load_settings
from kith.core.context import Core
from kith.core.ids import derived_id
from kith.core.models import (
    Author,
    AuthorKind,
    ConsentState,
    Customer,
    Direction,
    Event,
    Message,
    OutboundContent,
)
from kith.core.outbox import send
from kith.core.received import Received, load_received

# Trimmed as well as whitespace: what phones and IMEs add after a word.
TRAILING = ".!。！ \t\r\n\u3000"
CJK = re.compile(r"[\u4e00-\u9fff]")
CONSENT_AUTHOR = Author(kind=AuthorKind.system, name="Kith")
REPLIES = {
    (ConsentState.revoked, "en"): "You will no longer receive marketing messages here. "
    "Reply START to subscribe again.",
    (ConsentState.revoked, "zh"): "您已退订，将不再收到营销消息。回复“订阅”可重新订阅。",
    (ConsentState.granted, "en"): "You are subscribed to our messages again. "
    "Reply STOP to unsubscribe.",
    (ConsentState.granted, "zh"): "您已重新订阅。回复“退订”即可退订。",
}


def keyword_state(text: str, settings: ConsentSettings) -> ConsentState | None:
    """The state a whole-message keyword asks for, or None for any other message."""
    said = text.strip(TRAILING).casefold()
    if not said:
        return None
    if said in {k.casefold() for k in settings.stop_keywords}:
        return ConsentState.revoked
    if said in {k.casefold() for k in settings.start_keywords}:
        return ConsentState.granted
    return None


async def claims_keyword(core: Core, workspace_id: str, word: str) -> str | None:
    """Why a message that is only `word` is the consent feature's (`Feature.keywords`)."""
    if keyword_state(word, await load_settings(core, workspace_id)) is None:
        return None
    return (
        "a consent keyword: a message that is only that word changes the customer's "
        "marketing consent and never reaches the bot"
    )


async def is_keyword(core: Core, message: Message) -> bool:
    """Whether the consent feature answers this inbound message (the bot must not)."""
    if message.direction != Direction.inbound or not message.text.strip():
        return False
    return keyword_state(message.text, await load_settings(core, message.workspace_id)) is not None


async def on_message(core: Core, event: Event) -> None:
    """The `consent` consumer of `message.received`. Most messages are not keywords: their
    text and the workspace's lists are read (two small reads), nothing else."""
    if event.data.get("control"):
        return
    text = await core.store.messages.find_one({"_id": event.message_id}, {"text": 1})
    if text is None or not str(text.get("text", "")).strip():
        return
    settings = await load_settings(core, event.workspace_id)
    if keyword_state(str(text["text"]), settings) is None:
        return
    received = await load_received(core, event)
    if received is None or received.message.direction != Direction.inbound:
        return
    await _answer(core, event, received, settings)


async def _answer(core: Core, event: Event, received: Received, settings: ConsentSettings) -> None:
    """Change the consent of the message's channel and confirm it, once per event."""
    message = received.message
    state = keyword_state(message.text, settings)
    customer_doc = await core.store.customers.find_one({"_id": message.customer_id})
    if state is None or customer_doc is None:
        return
    customer = Customer.from_doc(customer_doc)
    await do_change_consent(
        core, customer, received.channel.type, state, via="keyword", actor=message.author
    )
    language = "zh" if CJK.search(message.text) else "en"
    await send(
        core,
        received.conversation,
        OutboundContent(text=REPLIES[(state, language)]),
        CONSENT_AUTHOR,
        message_id=derived_id("consent-reply", event.id),
    )
