"""A small IMAP session on aioimaplib: connect with the configured security, select, list
new UIDs, fetch raw messages. Everything the poller needs and nothing more."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import ssl
from dataclasses import dataclass
from types import TracebackType

import aioimaplib
from aioimaplib.aioimaplib import Command, IMAP4ClientProtocol

from kith.connectors.email.config import EmailChannelConfig
from kith.core.egress import EgressPolicy, open_socket

TIMEOUT = 30.0
_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_UID = re.compile(rb"\bUID (\d+)\b")


class ImapError(Exception):
    """The server refused or broke off; the poll is retried later."""


class LoginRefused(ImapError):
    """The server refused the username and password (or an app password is needed)."""


class NoTls(ImapError):
    """STARTTLS was asked for and the server does not offer it."""


class MailboxRefused(ImapError):
    """The server would not open the configured mailbox (folder)."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str  # ssl | starttls | none
    username: str
    password: str
    egress: EgressPolicy  # what the host may resolve to (`core.egress`)

    @classmethod
    def from_config(cls, config: EmailChannelConfig, egress: EgressPolicy) -> ImapSettings:
        return cls(
            host=config.imap_host,
            port=config.imap_port,
            security=config.imap_security,
            username=config.username,
            password=config.password,
            egress=egress,
        )


class _PinnedIMAP4(aioimaplib.IMAP4):
    """aioimaplib's client over a socket connected to a checked address (`open_socket`);
    TLS, when on, verifies the certificate against the host name."""

    def __init__(
        self, sock: socket.socket, host: str, ssl_context: ssl.SSLContext | None, timeout: float
    ) -> None:
        self.sock = sock
        super().__init__(host=host, port=0, timeout=timeout, ssl_context=ssl_context)

    def create_client(
        self,
        host: str,
        port: int,
        loop: asyncio.AbstractEventLoop | None,
        conn_lost_cb: object = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        loop = loop or asyncio.get_running_loop()
        self.protocol = IMAP4ClientProtocol(loop, conn_lost_cb)
        self._client_task = loop.create_task(
            loop.create_connection(
                lambda: self.protocol,
                sock=self.sock,
                ssl=ssl_context,
                server_hostname=host if ssl_context else None,
            )
        )


def _check(
    response: aioimaplib.Response, what: str, error: type[ImapError] = ImapError
) -> aioimaplib.Response:
    if response.result != "OK":
        detail = b" ".join(line for line in response.lines if isinstance(line, bytes))
        raise error(f"{what} failed: {response.result} {detail.decode(errors='replace')}")
    return response


class ImapSession:
    """`async with ImapSession(settings) as imap:` logs in and logs out."""

    def __init__(self, settings: ImapSettings, timeout: float = TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self.client: _PinnedIMAP4 | None = None

    async def __aenter__(self) -> ImapSession:
        s = self.settings
        async with asyncio.timeout(self.timeout):
            sock = await open_socket(s.egress, s.host, s.port)
        context = _tls_context() if s.security == "ssl" else None
        self.client = _PinnedIMAP4(sock, s.host, context, self.timeout)
        try:
            await self.client.wait_hello_from_server()
            if s.security == "starttls":
                await self._starttls()
            _check(await self.client.login(s.username, s.password), "LOGIN", LoginRefused)
            if self.client.has_capability("ID"):
                # RFC 2971. NetEase (163/126) refuses SELECT ("Unsafe Login") without it.
                _check(await self.client.id(name="Kith", vendor="Kith"), "ID")
        except BaseException:
            await self._drop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.client is not None and exc is None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.client.logout(), 5.0)
        await self._drop()

    async def _drop(self) -> None:
        if self.client is None:
            return
        if self.client.protocol.transport is not None:
            self.client.protocol.transport.close()
        else:  # the connection never came up: the socket is still ours
            self.client.sock.close()

    async def _starttls(self) -> None:
        """RFC 3501 STARTTLS: aioimaplib sends the command; the socket is upgraded here."""
        assert self.client is not None
        protocol = self.client.protocol
        if "STARTTLS" not in protocol.capabilities:
            raise NoTls("server does not offer STARTTLS")
        command = Command("STARTTLS", protocol.new_tag(), loop=protocol.loop)
        _check(await asyncio.wait_for(protocol.execute(command), self.timeout), "STARTTLS")
        loop = asyncio.get_running_loop()
        protocol.transport = await loop.start_tls(
            protocol.transport, protocol, _tls_context(), server_hostname=self.settings.host
        )
        await asyncio.wait_for(protocol.capability(), self.timeout)  # capabilities may change

    @property
    def _imap(self) -> _PinnedIMAP4:
        assert self.client is not None, "use ImapSession as an async context manager"
        return self.client

    def has_idle(self) -> bool:
        return bool(self._imap.has_capability("IDLE"))

    async def select(self, mailbox: str) -> int:
        """Open the mailbox; returns its UIDVALIDITY."""
        response = _check(
            await self._imap.select(_quote(mailbox)), f"SELECT {mailbox}", MailboxRefused
        )
        for line in response.lines:
            found = _UIDVALIDITY.search(bytes(line))
            if found:
                return int(found.group(1))
        raise ImapError("server sent no UIDVALIDITY")

    async def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above `last_uid`, ascending (`n:*` also names the top message; drop it)."""
        response = _check(
            await self._imap.uid_search(f"UID {last_uid + 1}:*", charset=None), "UID SEARCH"
        )
        uids: set[int] = set()
        for line in response.lines[:-1]:
            uids.update(int(tok) for tok in bytes(line).split() if tok.isdigit())
        return sorted(uid for uid in uids if uid > last_uid)

    async def fetch_raw(self, uid: int) -> bytes | None:
        """The whole message, without setting \\Seen; None if it vanished meanwhile."""
        response = _check(await self._imap.uid("fetch", str(uid), "(UID BODY.PEEK[])"), "FETCH")
        lines = response.lines
        for i, line in enumerate(lines[:-1]):
            if isinstance(line, bytes) and b"FETCH" in line:
                found = _FETCH_UID.search(line)
                literal = lines[i + 1]
                if found and int(found.group(1)) == uid and isinstance(literal, bytearray):
                    return bytes(literal)
        return None

    async def append(self, raw: bytes, mailbox: str) -> None:
        _check(await self._imap.append(raw, mailbox=_quote(mailbox)), "APPEND")

    async def create(self, mailbox: str) -> None:
        _check(await self._imap.create(_quote(mailbox)), "CREATE")

    async def delete(self, mailbox: str) -> None:
        _check(await self._imap.delete(_quote(mailbox)), "DELETE")

    async def idle_until_news(self, seconds: float) -> bool:
        """IDLE (RFC 2177) up to `seconds`; True as soon as the server announces new mail."""
        imap = self._imap
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        idle = await imap.idle_start(timeout=seconds + self.timeout)
        try:
            while (remaining := deadline - loop.time()) > 0:
                pushed = await imap.wait_server_push(timeout=remaining)
                if pushed == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    return False
                lines = pushed if isinstance(pushed, list) else [pushed]
                if any(b"EXISTS" in bytes(line) for line in lines if line):
                    return True
        except TimeoutError:
            pass
        finally:
            imap.idle_done()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(idle, 5.0)
        return False


def _quote(mailbox: str) -> str:
    """Mailbox names with spaces need quoting (UTF-7 names are left to the operator)."""
    if mailbox.isascii() and " " not in mailbox and '"' not in mailbox:
        return mailbox
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _tls_context() -> ssl.SSLContext:
    """Verified TLS with the system's CAs (SSL_CERT_FILE / SSL_CERT_DIR are honoured)."""
    return ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
