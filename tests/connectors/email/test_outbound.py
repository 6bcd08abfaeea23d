"""SMTP delivery outcomes: 4xx retried, 5xx given up, our own rate limit defers."""

from __future__ import annotations

from kith.core.channel_records import update_channel
from kith.core.clock import ManualClock
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Channel, Conversation, OutboundContent
from kith.core.outbox import OutboxWorker, send
from tests.connectors.email.conftest import Mailbox, SmtpServer, poll

PLAIN_FROM = b"From: Someone <%s>\r\nSubject: hi\r\nMessage-ID: <%s.1@example.com>\r\n\r\nhi\r\n"
AGENT = Author(kind=AuthorKind.agent, id="agent-1", name="Sam")


async def conversation_with(
    core: Core, channel: Channel, mailbox: Mailbox, address: bytes
) -> Conversation:
    await mailbox.deliver(PLAIN_FROM % (address, address.split(b"@")[0]))
    await poll(core, channel)
    doc = await core.store.conversations.find_one({"external_user_id": address.decode()})
    assert doc is not None
    return Conversation.from_doc(doc)


async def deliver(core: Core, conversation: Conversation, text: str) -> dict:
    message = await send(core, conversation, OutboundContent(text=text), AGENT)
    await OutboxWorker(core).run_once()
    return dict(await core.store.messages.find_one({"_id": message.id}))


async def test_a_4xx_smtp_reply_is_retried_later(
    core: Core, email_channel: Channel, mailbox: Mailbox, smtp_server: SmtpServer
) -> None:
    conversation = await conversation_with(core, email_channel, mailbox, b"busy@example.com")
    stored = await deliver(core, conversation, "hello")
    assert stored["delivery"]["status"] == "pending"
    assert stored["delivery"]["attempts"] == 1
    assert stored["delivery"]["error"].startswith("SMTP 451")
    assert smtp_server.received == []


async def test_a_5xx_smtp_reply_fails_for_good(
    core: Core, email_channel: Channel, mailbox: Mailbox, smtp_server: SmtpServer
) -> None:
    conversation = await conversation_with(core, email_channel, mailbox, b"nobody@example.com")
    stored = await deliver(core, conversation, "hello")
    assert stored["delivery"]["status"] == "failed"
    assert stored["delivery"]["error"].startswith("SMTP 550")


async def test_wrong_smtp_credentials_fail_without_retrying(
    core: Core, email_channel: Channel, mailbox: Mailbox, smtp_server: SmtpServer
) -> None:
    conversation = await conversation_with(core, email_channel, mailbox, b"ada@example.com")
    await update_channel(
        core, email_channel.workspace_id, email_channel.id, config={"password": "wrong"}
    )
    stored = await deliver(core, conversation, "hello")
    assert stored["delivery"]["status"] == "failed"
    assert stored["delivery"]["error"].startswith("SMTP 535")


async def test_an_unreachable_smtp_server_is_retried(
    core: Core, email_channel: Channel, mailbox: Mailbox, smtp_server: SmtpServer
) -> None:
    conversation = await conversation_with(core, email_channel, mailbox, b"ada@example.com")
    smtp_server.server.close()
    await smtp_server.server.wait_closed()
    stored = await deliver(core, conversation, "hello")
    assert stored["delivery"]["status"] == "pending"
    assert "unreachable" in stored["delivery"]["error"]


async def test_the_per_minute_limit_defers_without_spending_attempts(
    core: Core,
    clock: ManualClock,
    email_channel: Channel,
    mailbox: Mailbox,
    smtp_server: SmtpServer,
) -> None:
    await core.store.channels.update_one(
        {"_id": email_channel.id}, {"$set": {"config.send_per_minute": 2}}
    )
    conversation = await conversation_with(core, email_channel, mailbox, b"ada@example.com")
    for text in ("one", "two", "three"):
        await send(core, conversation, OutboundContent(text=text), AGENT)
    await OutboxWorker(core).run_once()
    assert len(smtp_server.received) == 2
    waiting = await core.store.messages.find_one({"text": "three"})
    assert waiting["delivery"]["status"] == "pending"
    assert waiting["delivery"]["attempts"] == 0

    clock.advance(60)
    await OutboxWorker(core).run_once()
    assert [m.get_content().strip() for _, m in smtp_server.received] == ["one", "two", "three"]
