"""Connection security as configured (ssl / starttls / none), with verified certificates, and
the channel's config through the API: password write-only, choices validated."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiosmtpd.smtp import SMTP

from kith.core.auth import create_api_token
from kith.core.channel_records import create_channel
from kith.core.context import Core
from kith.core.models import Author, AuthorKind, Conversation, OutboundContent
from kith.core.outbox import OutboxWorker, send
from tests.connectors.email.conftest import (
    Authenticator,
    ImapServer,
    Mailbox,
    SmtpRecorder,
    email_config,
    poll,
    stored_texts,
)


@pytest.mark.parametrize(("security", "port_offset"), [("ssl", 1), ("starttls", 0)])
async def test_imap_over_tls_with_a_verified_certificate(
    core: Core,
    workspace_id: str,
    imap_server: ImapServer,
    mailbox: Mailbox,
    trust_test_ca: str,
    security: str,
    port_offset: int,
) -> None:
    config = email_config(
        imap_server,
        mailbox.name,
        25,
        imap_security=security,
        imap_port=imap_server.port + port_offset,
        imap_host="localhost",
    )
    channel, _ = await create_channel(core, workspace_id, "email", "TLS", config)
    await mailbox.deliver_fixture("plain_first_contact.eml")
    await poll(core, channel)
    assert len(await stored_texts(core)) == 1


async def test_an_untrusted_certificate_is_refused(
    core: Core, workspace_id: str, imap_server: ImapServer, mailbox: Mailbox
) -> None:
    config = email_config(
        imap_server, mailbox.name, 25, imap_security="ssl", imap_port=imap_server.port + 1
    )
    channel, _ = await create_channel(core, workspace_id, "email", "TLS", config)
    with pytest.raises(ssl.SSLCertVerificationError):
        await poll(core, channel)


@pytest.fixture
async def tls_smtp(
    request: pytest.FixtureRequest, imap_server: ImapServer, trust_test_ca: str
) -> AsyncIterator[tuple[int, SmtpRecorder]]:
    """aiosmtpd with the test certificate: implicit TLS or STARTTLS."""
    implicit = request.param == "ssl"
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    key = trust_test_ca.replace("cert.pem", "key.pem")
    server_ctx.load_cert_chain(trust_test_ca, key)
    recorder = SmtpRecorder()
    authenticator = Authenticator(imap_server.username, imap_server.password)
    server = await asyncio.get_running_loop().create_server(
        lambda: SMTP(
            recorder,
            hostname="mx.shop.test",
            authenticator=authenticator,
            tls_context=None if implicit else server_ctx,
            require_starttls=not implicit,
            # aiosmtpd only counts STARTTLS as TLS; implicit TLS is encrypted all the same
            auth_require_tls=not implicit,
        ),
        "127.0.0.1",
        0,
        ssl=server_ctx if implicit else None,
    )
    try:
        yield server.sockets[0].getsockname()[1], recorder
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("tls_smtp", ["ssl", "starttls"], indirect=True)
async def test_smtp_over_tls(
    core: Core,
    workspace_id: str,
    imap_server: ImapServer,
    mailbox: Mailbox,
    tls_smtp: tuple[int, SmtpRecorder],
    request: pytest.FixtureRequest,
) -> None:
    port, recorder = tls_smtp
    security = request.node.callspec.params["tls_smtp"]
    config = email_config(
        imap_server, mailbox.name, port, smtp_security=security, smtp_host="localhost"
    )
    channel, _ = await create_channel(core, workspace_id, "email", "TLS", config)
    await mailbox.deliver_fixture("plain_first_contact.eml")
    await poll(core, channel)
    doc = await core.store.conversations.find_one({})
    await send(
        core,
        Conversation.from_doc(doc),
        OutboundContent(text="over TLS"),
        Author(kind=AuthorKind.agent, name="Sam"),
    )
    await OutboxWorker(core).run_once()
    stored = await core.store.messages.find_one({"direction": "out"})
    assert stored["delivery"]["status"] == "sent", stored["delivery"]
    [(_, mail)] = recorder.received
    assert mail.get_content().strip() == "over TLS"


async def test_the_password_is_write_only_and_choices_are_checked(
    core: Core, client: httpx.AsyncClient, workspace_id: str, imap_server: ImapServer
) -> None:
    auth = {"Authorization": f"Bearer {await create_api_token(core, workspace_id, 't')}"}
    config: dict[str, Any] = email_config(imap_server, "INBOX", 587, smtp_security="starttls")
    created = await client.post(
        "/api/v1/channels",
        json={"type": "email", "name": "Support", "config": config},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    assert "password" not in created.json()["config"]
    assert imap_server.password not in created.text
    listed = await client.get("/api/v1/channels", headers=auth)
    assert imap_server.password not in listed.text

    for bad in ({"imap_security": "tls"}, {"smtp_port": 0}, {"address": "nope"}, {"pop3": 1}):
        answer = await client.post(
            "/api/v1/channels",
            json={"type": "email", "name": "Bad", "config": {**config, **bad}},
            headers=auth,
        )
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["error"]["field"].startswith("config"), answer.text
