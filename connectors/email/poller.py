"""The IMAP poller: new mail in the mailbox → Kith messages, each exactly once.

State lives in MongoDB so that a restart, or another process taking over the channel's
lease, continues where the last poll stopped:
- `email_mailboxes` (per channel + mailbox): UIDVALIDITY and the last UID handled. A new
  UIDVALIDITY means the server renumbered the mailbox: rescan it from the start.
- `email_imported` (per channel + Message-ID): what was ever imported, so a rescan does
  not bring back a conversation deleted in Kith (the message dedup alone would).
- `raw_mail`: the raw source of each imported message. A message that cannot be parsed
  is kept as a dead letter (`kith.core.dead_letters`) with its error, and the mailbox goes
  on; an admin replays it once the cause is fixed.

A poll that cannot reach the mailbox raises `PollFailed` with the reason an admin can act on
(authentication failed, no such mailbox, …); the supervisor keeps it on the channel.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bson import Binary
from pydantic import ValidationError

from kith.connectors.email import threads
from kith.connectors.email.config import EmailChannelConfig
from kith.connectors.email.imap import (
    ImapError,
    ImapSession,
    ImapSettings,
    LoginRefused,
    MailboxRefused,
    NoTls,
)
from kith.connectors.email.parse import MailParseError, ParsedMail, parse_mail
from kith.core.context import Core
from kith.core.dead_letters import Payload, keep_dead_letter
from kith.core.errors import InvalidInput
from kith.core.ids import derived_id
from kith.core.models import Channel, InboundMessage, InboundUser
from kith.core.pipeline import ingest
from kith.core.pollers import PollFailed

log = logging.getLogger(__name__)

MAX_RAW_BYTES = 15 * 1024 * 1024  # under MongoDB's 16 MB document limit
RFC822 = "message/rfc822"
IDLE_SECONDS = 25.0  # well under PollerSupervisor's 60 s lease


def mailbox_state_id(channel_id: str, mailbox: str) -> str:
    return f"{channel_id}:{mailbox}"


class EmailPoller:
    """Part of the email `ChannelType`; the `PollerSupervisor` runs one poll at a time per
    channel under the channel's lease."""

    def __init__(
        self, session_factory: Callable[[ImapSettings], ImapSession] = ImapSession
    ) -> None:
        self.session_factory = session_factory

    def wants_polling(self, channel: Channel) -> bool:
        return True  # every mailbox is read over IMAP

    async def poll_once(self, core: Core, channel: Channel) -> float:
        """Fetch and ingest every message above the stored UID watermark."""
        try:
            return await self._poll(core, channel)
        except LoginRefused as exc:
            raise PollFailed("auth_failed", "authentication failed") from exc
        except MailboxRefused as exc:
            mailbox = channel.settings_as(EmailChannelConfig).mailbox
            raise PollFailed(
                "mailbox_refused", f"the mailbox {mailbox!r} cannot be opened"
            ) from exc
        except NoTls as exc:
            raise PollFailed("tls_error", "TLS error: the server does not offer STARTTLS") from exc
        except ImapError as exc:
            raise PollFailed("server_refused", "the mail server refused a command") from exc

    async def _poll(self, core: Core, channel: Channel) -> float:
        settings = channel.settings_as(EmailChannelConfig)
        mailbox, wait = settings.mailbox, settings.poll_seconds
        async with self.session_factory(ImapSettings.from_config(settings, core.egress)) as imap:
            uidvalidity = await imap.select(mailbox)
            last_uid = await self._watermark(core, channel, mailbox, uidvalidity)
            for uid in await imap.uids_after(last_uid):
                raw = await imap.fetch_raw(uid)
                if raw is not None:
                    await self.handle(core, channel, raw)
                await core.store.collection("email_mailboxes").update_one(
                    {"_id": mailbox_state_id(channel.id, mailbox)},
                    {"$max": {"last_uid": uid}},
                )
            if settings.idle and imap.has_idle():
                # Wait on the open connection for the server's push (RFC 2177), then poll
                # again at once; kept under the supervisor's lease so it is renewed in time.
                await imap.idle_until_news(min(wait, IDLE_SECONDS))
                return 0.0
        return wait

    async def _watermark(self, core: Core, channel: Channel, mailbox: str, validity: int) -> int:
        state_id = mailbox_state_id(channel.id, mailbox)
        state = await core.store.collection("email_mailboxes").find_one({"_id": state_id})
        if state is not None and state.get("uidvalidity") == validity:
            return int(state.get("last_uid", 0))
        if state is not None:
            log.warning(
                "UIDVALIDITY changed: rescanning the mailbox",
                extra={"channel_id": channel.id, "mailbox": mailbox},
            )
        await core.store.collection("email_mailboxes").update_one(
            {"_id": state_id},
            {"$set": {"uidvalidity": validity, "last_uid": 0, "channel_id": channel.id}},
            upsert=True,
        )
        return 0

    async def handle(self, core: Core, channel: Channel, raw: bytes) -> str:
        """Ingest, skip or quarantine one raw message; returns which it was."""
        try:
            return await self._take(core, channel, raw)
        except InvalidInput as exc:
            await quarantine(core, channel, raw, exc)
            return "quarantined"

    async def replay(self, core: Core, channel: Channel, payload: Payload) -> str:
        """A quarantined mail (a dead letter), parsed and taken again after a fix."""
        return await self._take(core, channel, payload.body)

    async def _take(self, core: Core, channel: Channel, raw: bytes) -> str:
        """Ingest or skip one raw message; `InvalidInput` when Kith cannot read it."""
        try:
            mail = parse_mail(raw)
        except (MailParseError, ValueError, LookupError, UnicodeError) as exc:
            raise InvalidInput(str(exc), field="raw") from None
        if mail.automatic is not None:
            log.info(
                "skipped automatic mail",
                extra={"channel_id": channel.id, "reason": mail.automatic},
            )
            return "skipped"
        if mail.sender == channel.settings_as(EmailChannelConfig).address.lower():
            return "skipped"  # our own mail, seen again (a copy to self, a shared folder)
        imported_id = derived_id("email-imported", channel.id, mail.message_id)
        if await core.store.collection("email_imported").find_one({"_id": imported_id}) is not None:
            return "duplicate"
        try:
            await self.ingest_mail(core, channel, mail, raw)
        except MailParseError as exc:
            raise InvalidInput(str(exc), field="raw") from None
        await core.store.collection("email_imported").update_one(
            {"_id": imported_id}, {"$setOnInsert": {"channel_id": channel.id}}, upsert=True
        )
        return "ingested"

    async def ingest_mail(self, core: Core, channel: Channel, mail: ParsedMail, raw: bytes) -> None:
        thread_key = await threads.resolve_thread(core, channel.id, mail)
        try:
            inbound = InboundMessage.on(
                channel,
                channel_message_id=mail.message_id,
                user=InboundUser(id=mail.sender, name=mail.sender_name, email=mail.sender),
                thread_key=thread_key,
                text=mail.text or mail.subject,  # a subject-only mail still says something
                attachments=mail.attachments,
                reply_to=mail.in_reply_to,
                sent_at=mail.sent_at,
            )
        except ValidationError as exc:
            raise MailParseError(f"not a valid Kith message: {exc.errors()[0]['msg']}") from exc
        received = await ingest(core, channel, inbound)
        await threads.remember(
            core,
            channel.id,
            message_id=mail.message_id,
            thread_key=thread_key,
            references=mail.references,
            subject=mail.subject,
            correspondent=mail.sender,
            normalized_subject=mail.normalized_subject,
            customer_id=received.message.customer_id,
        )
        await store_raw(core, channel, mail.message_id, raw, received.message.customer_id)


async def store_raw(
    core: Core, channel: Channel, message_id: str, raw: bytes, customer_id: str
) -> None:
    """Keep the source (for audits, re-parsing, attachments), capped under 16 MB."""
    await core.store.collection("raw_mail").update_one(
        {"_id": f"{channel.id}:{message_id}"},
        {
            "$setOnInsert": {
                "workspace_id": channel.workspace_id,
                "channel_id": channel.id,
                "customer_id": customer_id,
                "message_id": message_id,
                "size": len(raw),
                "truncated": len(raw) > MAX_RAW_BYTES,
                "raw": Binary(raw[:MAX_RAW_BYTES]),
                "stored_at": core.clock.now(),
            }
        },
        upsert=True,
    )


async def quarantine(core: Core, channel: Channel, raw: bytes, error: InvalidInput) -> None:
    """Keep an unparseable message as a dead letter, which admins see and replay; once (a
    rescan finds the same bytes, and only counts them)."""
    await keep_dead_letter(core, channel, Payload(body=raw, content_type=RFC822), error)
