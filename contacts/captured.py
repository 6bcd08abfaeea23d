"""Contact details a customer types in a chat, kept on their profile.

WeChat SCRM suites read a phone number out of a chat ("手机号自动识别") and Chatwoot's widget
asks for an email; here any private chat does both: an email address or a valid phone number
the customer writes (on WeChat, Telegram, Slack, the widget or the API channel) is added to
their profile, and the agents see a private note saying so. Merge suggestions then find the
customer's other identities by it. Not from email (its sender is already known, and quoted
mail or signatures name other people), not from group chats (a member's post is not given
to the business), not from agents or bots.
"""

from __future__ import annotations

import itertools
import re
import string
from dataclasses import dataclass

import phonenumbers

from kith.contacts.normalize import normalize_email
from kith.core.consumers import Consumer
from kith.core.context import Core
from kith.core.customers import do_add_contact_details, get_customer
from kith.core.events import SYSTEM
from kith.core.features import Feature
from kith.core.ids import derived_id
from kith.core.models import (
    Conversation,
    Direction,
    Event,
    Message,
    OutboundContent,
    Wording,
)
from kith.core.outbox import send

MOST = 3  # of each kind from one message: a list pasted into a chat is not the customer's
READ = 4000  # characters of a message read: what a person types to give their address
SKIPPED_CHANNELS = frozenset({"email"})
LONGEST_EMAIL = 254
# Words are split at spaces and the punctuation around an address in a sentence (ASCII and
# full-width): every step is linear, so a hostile message costs no more than its length.
_SEPARATORS = re.compile(r"[\s,;，；。、：:()（）<>\[\]【】「」\"“”'‘’!?！？]+")
_LOCAL = frozenset(string.ascii_letters + string.digits + ".!#$%&*+/=?^_`{|}~-")
_DOMAIN = frozenset(string.ascii_letters + string.digits + ".-")


@dataclass(frozen=True)
class Details:
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.emails or self.phones)


def _address(word: str) -> str | None:
    """The address in `word`: the ASCII run before its "@" and the host after it, so that
    "邮箱ada@example.org。" gives ada@example.org."""
    before, _, after = word.partition("@")
    local = "".join(reversed(list(itertools.takewhile(_LOCAL.__contains__, reversed(before)))))
    host = "".join(itertools.takewhile(_DOMAIN.__contains__, after)).strip(".-")
    if not local.strip(".") or "." not in host:
        return None
    try:
        return normalize_email(f"{local.strip('.')}@{host}")
    except ValueError:
        return None


def _emails(text: str) -> list[str]:
    found: list[str] = []
    for word in _SEPARATORS.split(text):
        if "@" not in word or len(word) > LONGEST_EMAIL + 16:
            continue
        email = _address(word)
        if email is not None and email not in found:
            found.append(email)
    return found[:MOST]


def _phones(text: str, region: str) -> list[str]:
    """Numbers valid for their country (a national number read in `region`): an order
    number or a price is not one."""
    found: list[str] = []
    leniency = phonenumbers.Leniency.VALID
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
        phone = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        if phone not in found:
            found.append(phone)
    return found[:MOST]


def details_in(text: str, region: str) -> Details:
    """The email addresses and phone numbers written in `text`, at most `MOST` of each."""
    text = text[:READ]
    return Details(tuple(_emails(text)), tuple(_phones(text, region)))


async def _private_chat_message(core: Core, event: Event) -> tuple[Message, Conversation] | None:
    if event.message_id is None or event.conversation_id is None:
        return None
    doc = await core.store.messages.find_one({"_id": event.message_id})
    if doc is None:
        return None
    message = Message.from_doc(doc)
    if message.direction != Direction.inbound or message.private or not message.text:
        return None
    found = await core.store.conversations.find_one({"_id": message.conversation_id})
    if found is None:
        return None
    conversation = Conversation.from_doc(found)
    if conversation.group is not None or conversation.channel_type in SKIPPED_CHANNELS:
        return None
    return message, conversation


async def capture(core: Core, event: Event) -> None:
    """Keep what the customer wrote that their profile lacks, and tell the agents. Run again
    for the same message (a retried consumer) it adds nothing and writes the note once."""
    found = await _private_chat_message(core, event)
    if found is None:
        return
    message, conversation = found
    written = details_in(message.text, core.settings.phone_region)
    if not written:
        return
    customer = await get_customer(core, conversation.workspace_id, message.customer_id)
    new = Details(
        tuple(e for e in written.emails if e not in customer.emails),
        tuple(p for p in written.phones if p not in customer.phones),
    )
    if not new:
        return
    await do_add_contact_details(core, customer, emails=new.emails, phones=new.phones)
    details = [*new.emails, *new.phones]
    listed = ", ".join(details)
    await send(
        core,
        conversation,
        OutboundContent(
            text=f"Saved on the customer's profile, as they wrote it in the chat: {listed}",
            private=True,
        ),
        SYSTEM,
        message_id=derived_id("contact-capture", message.id),
        wording=Wording(key="contact_captured", values={"details": details}),
    )


feature = Feature(
    name="contact_capture",
    consumers=(Consumer("contact-capture", ("message.received",), capture),),
)
