"""Email fixtures: a real Dovecot over IMAP (tests/support/mailserver) and a real SMTP server
(aiosmtpd, in this event loop) on loopback. Nothing in Kith is faked.

Each test gets its own IMAP folder, seeded by APPEND so that Dovecot assigns the UIDs and
the UIDVALIDITY, and its own SMTP server recording what it was handed.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from kith.connectors.email.imap import ImapSession, ImapSettings
from kith.core.channel_records import create_channel
from kith.core.clock import ManualClock, utcnow
from kith.core.context import Core
from kith.core.egress import EgressPolicy
from kith.core.models import Channel
from tests.conftest import LOOPBACK_FAKES

FIXTURES = Path(__file__).parents[3] / "connectors" / "email" / "fixtures"
IMAP_URL = os.environ.get("KITH_TEST_IMAP_URL")
DEFAULT_CA = "/var/cache/kith-mailserver/cert.pem"
LOOPBACK = EgressPolicy.parse(LOOPBACK_FAKES)  # the mail servers listen on loopback

needs_imap = pytest.mark.skipif(
    not IMAP_URL,
    reason=(
        "EMAIL CONNECTOR NOT TESTED: KITH_TEST_IMAP_URL is unset. Run "
        "`export KITH_TEST_IMAP_URL=$(tests/support/mailserver up | tail -1)` (as root) first."
    ),
)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@dataclass
class ImapServer:
    host: str
    port: int
    username: str
    password: str

    def settings(self, security: str = "none", port: int | None = None) -> ImapSettings:
        return ImapSettings(
            self.host, port or self.port, security, self.username, self.password, LOOPBACK
        )


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock starting at the real time. The embedded engine (mongomock) expires TTL
    documents by the wall clock, so a rate-limit window stamped at the shared fixture's fixed
    2026-01-01 vanishes at once; see the report on core.ratelimit / core.clock."""
    return ManualClock(start=utcnow())


@pytest.fixture
def imap_server() -> ImapServer:
    if not IMAP_URL:
        pytest.skip(needs_imap.kwargs["reason"])
    url = urlsplit(IMAP_URL)
    assert url.hostname and url.port and url.username and url.password
    return ImapServer(url.hostname, url.port, unquote(url.username), unquote(url.password))


@pytest.fixture
def trust_test_ca(monkeypatch: pytest.MonkeyPatch) -> str:
    """Trust the mail server's self-signed certificate the way an operator would."""
    cafile = os.environ.get("KITH_TEST_IMAP_CAFILE", DEFAULT_CA)
    if not Path(cafile).exists():
        pytest.skip(f"no CA certificate for the test mail server at {cafile}")
    monkeypatch.setenv("SSL_CERT_FILE", cafile)
    return cafile


@dataclass
class Mailbox:
    """One IMAP folder on the real server, private to one test."""

    server: ImapServer
    name: str

    async def deliver(self, *raws: bytes) -> None:
        async with ImapSession(self.server.settings()) as imap:
            for raw in raws:
                await imap.append(raw, self.name)

    async def deliver_fixture(self, *names: str) -> None:
        await self.deliver(*(fixture_bytes(n) for n in names))

    async def recreate(self) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        async with ImapSession(self.server.settings()) as imap:
            await imap.delete(self.name)
            await imap.create(self.name)


@pytest.fixture
async def mailbox(imap_server: ImapServer) -> AsyncIterator[Mailbox]:
    box = Mailbox(imap_server, f"kith-test-{uuid.uuid4().hex[:12]}")
    async with ImapSession(imap_server.settings()) as imap:
        await imap.create(box.name)
    yield box
    async with ImapSession(imap_server.settings()) as imap:
        await imap.delete(box.name)


SMTP_REFUSALS = {
    "busy@example.com": "451 4.3.0 Mailbox temporarily unavailable",
    "nobody@example.com": "550 5.1.1 User unknown",
}


class SmtpRecorder:
    """aiosmtpd handler: keeps what it accepts; some recipients get scripted refusals."""

    def __init__(self) -> None:
        self.received: list[tuple[Envelope, EmailMessage]] = []

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in SMTP_REFUSALS:
            return SMTP_REFUSALS[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((envelope, parsed))
        return "250 Message accepted for delivery"


class Authenticator:
    """Accepts the mailbox's own credentials, as most providers' SMTP servers do."""

    def __init__(self, username: str, password: str) -> None:
        self.expected = (username, password)
        self.logins: list[str] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = (data.login.decode(), data.password.decode())
        self.logins.append(login[0])
        return AuthResult(success=login == self.expected, handled=False)


@dataclass
class SmtpServer:
    port: int
    recorder: SmtpRecorder
    server: asyncio.AbstractServer = field(repr=False)

    @property
    def received(self) -> list[tuple[Envelope, EmailMessage]]:
        return self.recorder.received


@pytest.fixture
async def smtp_server(imap_server: ImapServer) -> AsyncIterator[SmtpServer]:
    """A real SMTP server (with AUTH) on a free loopback port, in this event loop."""
    recorder = SmtpRecorder()
    authenticator = Authenticator(imap_server.username, imap_server.password)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            recorder,
            hostname="mx.shop.test",
            authenticator=authenticator,
            auth_require_tls=False,
        ),
        "127.0.0.1",
        0,
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield SmtpServer(port, recorder, server)
    finally:
        server.close()
        await server.wait_closed()


def email_config(imap: ImapServer, mailbox: str, smtp_port: int, **over: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "address": "support@shop.test",
        "imap_host": imap.host,
        "imap_port": imap.port,
        "imap_security": "none",
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "username": imap.username,
        "password": imap.password,
        "mailbox": mailbox,
        "idle": False,  # each test polls on its own; test_idle covers IDLE
    }
    config.update(over)
    return config


@pytest.fixture
async def email_channel(
    core: Core,
    workspace_id: str,
    imap_server: ImapServer,
    mailbox: Mailbox,
    smtp_server: SmtpServer,
) -> Channel:
    """An email channel reading the test's folder and sending through the test's SMTP."""
    config = email_config(imap_server, mailbox.name, smtp_server.port)
    channel, _ = await create_channel(core, workspace_id, "email", "Shop Support", config)
    return channel


async def poll(core: Core, channel: Channel) -> float:
    poller = core.channels.get("email").poller  # type: ignore[union-attr]
    return float(await poller.poll_once(core, channel))


async def stored_texts(core: Core) -> list[str]:
    docs = await core.store.messages.find({"direction": "in"}).sort("created_at", 1).to_list(None)
    return [d["text"] for d in docs]
