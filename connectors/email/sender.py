"""Replies by SMTP, threaded so the customer's mail client shows one conversation.

Each reply carries `In-Reply-To` (the last inbound Message-ID), the `References` chain,
`Subject: Re: …` and a Message-ID of our own derived from Kith's message id, so a retried
delivery sends the very same Message-ID. Mail written by a bot or the system says
`Auto-Submitted: auto-replied` (RFC 3834) so that two auto-responders never ping-pong;
an agent's reply carries no such header. Marketing mail carries RFC 8058 one-click
unsubscribe headers and a footer link (`kith.consent.links`).
"""

from __future__ import annotations

import asyncio
import ssl
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib

from kith.connectors.email import threads
from kith.connectors.email.config import EmailChannelConfig
from kith.connectors.email.text import normalize_subject, strip_subject_prefixes
from kith.consent.links import LinkTarget, unsubscribe_url
from kith.core.channels import SendResult
from kith.core.context import Core
from kith.core.egress import EgressRefused, open_socket
from kith.core.errors import DeliveryDeferred, DeliveryError
from kith.core.models import AuthorKind, Channel, Conversation, Message, Purpose
from kith.core.ratelimit import reserve_all

SMTP_TIMEOUT = 30.0
AUTOMATIC_AUTHORS = (AuthorKind.bot, AuthorKind.system)


def our_message_id(channel: Channel, message: Message) -> str:
    """Stable across retries, on the mailbox's own domain (without angle brackets)."""
    return f"kith.{message.id}@{channel.settings_as(EmailChannelConfig).domain}"


def render_body(message: Message) -> str:
    """Email has no buttons or hosted files: numbered choices and links, as plain text."""
    lines = [message.text.rstrip()] if message.text.strip() else []
    if message.buttons:
        lines.append("")
        for number, button in enumerate(message.buttons, 1):
            suffix = f": {button.url}" if button.url else ""
            lines.append(f"{number}. {button.label}{suffix}")
    if message.attachments:
        lines.append("")
        for a in message.attachments:
            lines.append(f"{a.name or a.kind}: {a.url}" if a.url else f"[{a.name or a.kind}]")
    return "\n".join(lines) + "\n"


async def _parent(core: Core, channel: Channel, conversation: Conversation) -> dict[str, Any]:
    """The thread record of the customer's last mail in the conversation (or its root)."""
    cursor = (
        core.store.messages.find(
            {"conversation_id": conversation.id, "direction": "in"}, {"channel_message_id": 1}
        )
        .sort([("created_at", -1), ("_id", -1)])
        .limit(1)
    )
    for doc in await cursor.to_list(1):
        found = await threads.known(core, channel.id, doc["channel_message_id"])
        if found is not None:
            return found
    root = await threads.known(core, channel.id, conversation.thread_key)
    return root or {}


async def build_reply(
    core: Core, channel: Channel, conversation: Conversation, message: Message
) -> EmailMessage:
    parent = await _parent(core, channel, conversation)
    mail = EmailMessage()
    address = channel.settings_as(EmailChannelConfig).address
    mail["From"] = Address(display_name=channel.name, addr_spec=address)
    mail["To"] = Address(addr_spec=str(conversation.external_user_id))
    subject = strip_subject_prefixes(parent.get("subject", "")) or channel.name
    mail["Subject"] = f"Re: {subject}"
    mail["Date"] = format_datetime(core.clock.now())
    mail["Message-ID"] = f"<{our_message_id(channel, message)}>"
    if parent:
        chain = [*parent.get("references", []), parent["message_id"]]
        mail["In-Reply-To"] = f"<{parent['message_id']}>"
        mail["References"] = " ".join(f"<{ref}>" for ref in chain[-threads.MAX_REFERENCES :])
    if message.author.kind in AUTOMATIC_AUTHORS:
        mail["Auto-Submitted"] = "auto-replied"
    body = render_body(message)
    if message.purpose == Purpose.marketing:
        body += await _unsubscribe(core, mail, message)
    mail.set_content(body)
    return mail


async def _unsubscribe(core: Core, mail: EmailMessage, message: Message) -> str:
    """RFC 8058 one-click headers (Gmail and Yahoo require them of bulk senders) and the
    footer line with the same link; returns the footer."""
    target = LinkTarget(message.workspace_id, message.customer_id, "email")
    url = await unsubscribe_url(core, target)
    mail["List-Unsubscribe"] = f"<{url}>"
    mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return f"\n--\nUnsubscribe / 退订: {url}\n"


def _refusal(exc: aiosmtplib.SMTPResponseException) -> DeliveryError:
    """RFC 5321: 4xx is transient (retry), 5xx is permanent (give up)."""
    transient = 400 <= exc.code < 500
    return DeliveryError(f"SMTP {exc.code}: {exc.message}"[:500], retryable=transient)


class EmailSender:
    async def send(
        self, core: Core, channel: Channel, conversation: Conversation, message: Message
    ) -> SendResult:
        config = channel.settings_as(EmailChannelConfig)
        wait = await reserve_all(core, [(f"email:{channel.id}", config.send_per_minute, 60.0)])
        if wait > 0:
            raise DeliveryDeferred(wait)
        if "@" not in str(conversation.external_user_id or ""):
            raise DeliveryError("the conversation has no email address", retryable=False)
        mail = await build_reply(core, channel, conversation, message)
        message_id = our_message_id(channel, message)
        await threads.remember(
            core,
            channel.id,
            message_id=message_id,
            thread_key=conversation.thread_key,
            references=[ref.strip("<>") for ref in str(mail.get("References", "")).split()],
            subject=str(mail["Subject"]),
            correspondent=str(conversation.external_user_id),
            normalized_subject=normalize_subject(str(mail["Subject"])),
            customer_id=conversation.customer_id,
        )
        try:
            async with asyncio.timeout(SMTP_TIMEOUT):
                sock = await open_socket(core.egress, config.smtp_host, config.smtp_port)
        except EgressRefused as exc:
            raise DeliveryError(f"SMTP server: {exc}", retryable=False) from exc
        except OSError as exc:
            raise DeliveryError(f"SMTP server unreachable: {type(exc).__name__}") from exc
        try:
            await aiosmtplib.send(
                mail,
                hostname=config.smtp_host,  # TLS checks the certificate against the name
                sock=sock,  # connected to a checked address; aiosmtplib owns it from here
                username=config.username,
                password=config.password,
                use_tls=config.smtp_security == "ssl",
                start_tls=config.smtp_security == "starttls",
                tls_context=ssl.create_default_context(),
                timeout=SMTP_TIMEOUT,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            raise _refusal(first) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _refusal(exc) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP server unreachable: {type(exc).__name__}") from exc
        return SendResult(channel_message_id=message_id)
