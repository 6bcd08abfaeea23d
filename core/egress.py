"""Outbound connections to destinations a user configures: checked after DNS, then pinned.

A callback URL, a bot webhook, an `api_base` or a mail host is typed by a workspace admin,
so without a guard Kith would fetch its own loopback, the private network or the cloud
metadata service for them (server-side request forgery). Every such connection resolves the
host once, refuses it unless every address is public (or allowed by `KITH_EGRESS_ALLOW`),
and connects to exactly the address it checked, so a name that answers differently the
second time (DNS rebinding) gains nothing. A refusal is one `EgressRefused` whose message is
the same for every reason and is raised before any packet reaches the target: no status,
no timing, nothing to scan ports with.

`EgressPolicy.check` is the core; `http_client` (httpx), `aiohttp_session` (slack_sdk) and
`open_socket` (IMAP, SMTP) put it in front of each kind of connection.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import select
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
import httpcore
import httpx
from aiohttp.abc import ResolveResult

from kith.core.errors import InvalidInput
from kith.core.httpcap import ResponseTooLarge

if TYPE_CHECKING:
    from kith.core.context import Core
    from kith.core.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]
"""(host, port) -> the addresses it resolves to, as strings."""

REFUSED = "destination not allowed"

# Ranges that `ipaddress`'s is_global counts as global but no server of ours should reach.
_NOT_PUBLIC: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "100.64.0.0/10",  # carrier-grade NAT; holds Alibaba Cloud's metadata, 100.100.100.200
        "192.0.0.0/24",  # IETF protocol assignments
        "198.18.0.0/15",  # benchmarking
        "fec0::/10",  # deprecated site-local
    )
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_V4_COMPATIBLE = ipaddress.ip_network("::/96")


class EgressRefused(httpx.ConnectError, OSError):
    """A connection Kith would not open. It is an `OSError` and an httpx `ConnectError`, so
    every caller's "could not connect" path handles it; the message never says why."""

    def __init__(self) -> None:
        super().__init__(REFUSED)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 spelling carries (mapped, 6to4, Teredo client, NAT64,
    IPv4-compatible), which is where packets to it end up."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in n for n in _NAT64) or (
        address in _V4_COMPATIBLE and int(address) > 1  # :: and ::1 are themselves
    ):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def canonical(address: Address) -> Address:
    """IPv4 for an IPv6 spelling of an IPv4 address, else the address itself."""
    if isinstance(address, ipaddress.IPv6Address):
        return embedded_ipv4(address) or address
    return address


def is_public(address: Address) -> bool:
    """Globally routable unicast: not loopback, private, link-local (metadata at
    169.254.169.254), CGNAT, unique-local, multicast, reserved or unspecified."""
    address = canonical(address)
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_link_local
        and not address.is_loopback
        and not address.is_unspecified
        and not any(address in n for n in _NOT_PUBLIC if n.version == address.version)
    )


async def system_resolve(host: str, port: int) -> list[str]:
    """The event loop's getaddrinfo (run off the loop by asyncio)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class EgressPolicy:
    """What may be reached besides public addresses: `networks` (CIDRs) and host `names`
    (an on-premise ERP, the test suite's loopback fakes). Empty means nothing private."""

    networks: tuple[Network, ...] = ()
    names: frozenset[str] = frozenset()
    resolve: Resolver = field(default=system_resolve, compare=False)
    max_response_bytes: int = 32 * 1024 * 1024

    @classmethod
    def parse(cls, allow: str | None, **kw: Any) -> EgressPolicy:
        """`allow` is comma-separated CIDRs, addresses and host names."""
        networks: list[Network] = []
        names: set[str] = set()
        for item in (allow or "").split(","):
            item = item.strip()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                names.add(_host(item))
        return cls(networks=tuple(networks), names=frozenset(names), **kw)

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        return cls.parse(
            settings.egress_allow, max_response_bytes=settings.egress_max_response_bytes
        )

    def allows(self, address: Address) -> bool:
        address = canonical(address)
        return is_public(address) or any(
            address in n for n in self.networks if n.version == address.version
        )

    async def check(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`, each one allowed; connect only to these.
        Raises `EgressRefused` when any address the name has is not allowed, or it has none."""
        name = _host(host)
        if not name:
            raise EgressRefused()
        try:
            found = await self.resolve(name, port)
        except (OSError, UnicodeError):
            raise EgressRefused() from None
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
        except ValueError:
            raise EgressRefused() from None
        if not addresses:
            raise EgressRefused()
        if name not in self.names and not all(self.allows(a) for a in addresses):
            raise EgressRefused()
        return [str(a) for a in addresses]


# httpx: a network backend that checks and pins every new connection.


class _SocketKnown(httpcore.AsyncNetworkStream):
    """A stream that looked its socket up once. On each request and each answer, httpcore's
    pool asks every idle connection whether its socket is readable (the server closed it);
    anyio answers by building all of the socket's attributes, a `getpeername` system call
    included: a quarter of the outbox's CPU in `bench/outbox.py`. Here it is one `poll`."""

    def __init__(self, inner: httpcore.AsyncNetworkStream, sock: socket.socket | None) -> None:
        self.inner = inner
        self.sock = sock
        self._poll = select.poll()
        if sock is not None:
            self._poll.register(sock, select.POLLIN)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        return await self.inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        await self.inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  # httpcore's interface
    ) -> httpcore.AsyncNetworkStream:
        tls = await self.inner.start_tls(ssl_context, server_hostname, timeout)
        return _SocketKnown(tls, self.sock)  # TLS runs over the same socket

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self.sock
        if info == "is_readable":
            return self._readable()
        return self.inner.get_extra_info(info)

    def _readable(self) -> bool:
        """Whether a read would return at once (data, or the end of a connection the server
        closed); a socket already closed counts as readable, so its connection is dropped."""
        if self.sock is None or self.sock.fileno() < 0:
            return True
        return bool(self._poll.poll(0))


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: EgressPolicy, inner: httpcore.AsyncNetworkBackend) -> None:
        self.policy = policy
        self.inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  # httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connects to a checked address; httpcore keeps `host` for TLS (SNI and the
        certificate check), since it takes that from the URL, not from this call."""
        addresses = await self.policy.check(host, port)
        last: Exception | None = None
        for address in addresses:
            try:
                stream = await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
                return _SocketKnown(stream, stream.get_extra_info("socket"))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  # httpcore's interface
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused()

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class _CappedStream(httpx.AsyncByteStream):
    """Stops reading past `max_bytes` (of the body as sent; `post_capped` also caps it decoded)."""

    def __init__(self, inner: httpx.AsyncByteStream, max_bytes: int) -> None:
        self.inner = inner
        self.max_bytes = max_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self.inner:
            seen += len(chunk)
            if seen > self.max_bytes:
                raise ResponseTooLarge(self.max_bytes)
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


LIMITS = httpx.Limits()  # httpx's defaults


Origin = tuple[bytes, bytes, int | None]
PRUNE_AT = 64  # destinations with a pool before empty pools are dropped


class _PoolPerOrigin(httpcore.AsyncConnectionPool):
    """A connection pool per destination (scheme, host, port). httpcore's pool walks every
    connection it holds on each request and each answer (and, for each idle one, all of them
    again): in one pool for every destination, a send's cost grew with the connections to
    every other host, a trickling callback's included (about a quarter of the outbox's CPU in
    `bench/outbox.py`). Pools left without connections are dropped as new ones are made."""

    def __init__(self, make: Callable[[], httpcore.AsyncConnectionPool]) -> None:
        super().__init__()
        self._make = make
        self._pools: dict[Origin, httpcore.AsyncConnectionPool] = {}

    def _pool_for(self, url: httpcore.URL) -> httpcore.AsyncConnectionPool:
        origin = (url.scheme, url.host, url.port)
        pool = self._pools.get(origin)
        if pool is None:
            if len(self._pools) >= PRUNE_AT:
                self._pools = {o: p for o, p in self._pools.items() if p.connections}
            pool = self._pools[origin] = self._make()
        return pool

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        return await self._pool_for(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context every client of the process shares: building one reads the
    system's CA bundle (40 ms), and a context is safe to share between connections."""
    return httpx.create_ssl_context(trust_env=False)


class EgressTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with every connection checked and pinned and every answer capped.
    Environment proxies are ignored: a proxy would connect on the guard's behalf."""

    def __init__(self, policy: EgressPolicy, limits: httpx.Limits = LIMITS) -> None:
        ssl_context = tls_context()
        super().__init__(verify=ssl_context, trust_env=False)
        self.policy = policy
        # httpx's own limits (100 connections) for each destination, not httpcore's bare
        # default of 10 for the process: with 10, a few trickling destinations held every
        # connection and healthy ones waited for the pool (bench/outbox.py, PoolTimeout).
        backend = _GuardedBackend(policy, httpcore.AnyIOBackend())
        self._pool = _PoolPerOrigin(
            lambda: httpcore.AsyncConnectionPool(
                ssl_context=ssl_context,
                max_connections=limits.max_connections,
                max_keepalive_connections=limits.max_keepalive_connections,
                keepalive_expiry=limits.keepalive_expiry,
                network_backend=backend,
            )
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_CappedStream(response.stream, self.policy.max_response_bytes),
            extensions=response.extensions,
        )


def http_client(policy: EgressPolicy, timeout: float = 15.0) -> httpx.AsyncClient:
    """The shared client for user-configured and platform destinations alike."""
    return httpx.AsyncClient(
        transport=EgressTransport(policy), timeout=httpx.Timeout(timeout), trust_env=False
    )


# aiohttp (slack_sdk): a connector whose host resolution is the policy's check.


class _GuardedConnector(aiohttp.TCPConnector):
    """aiohttp connects to what `_resolve_host` returns and verifies TLS against `hostname`;
    overriding it (rather than passing a resolver) also covers IP literals, which aiohttp
    never hands to a resolver."""

    def __init__(self, policy: EgressPolicy) -> None:
        super().__init__(use_dns_cache=False)
        self.policy = policy

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> list[ResolveResult]:
        addresses = await self.policy.check(host, port)
        return [
            ResolveResult(
                hostname=host,
                host=a,
                port=port,
                family=socket.AF_INET6 if ":" in a else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for a in addresses
        ]


def aiohttp_session(policy: EgressPolicy, timeout: float = 15.0) -> aiohttp.ClientSession:
    """A session for libraries built on aiohttp; close it (`async with`) when done."""
    return aiohttp.ClientSession(
        connector=_GuardedConnector(policy),
        timeout=aiohttp.ClientTimeout(total=timeout),
        trust_env=False,
    )


# Raw sockets (IMAP, SMTP): connect to a checked address; TLS keeps the host name.


async def open_socket(policy: EgressPolicy, host: str, port: int) -> socket.socket:
    """A connected non-blocking socket to a checked address of `host` (bound the wait with
    `asyncio.timeout`). The caller starts TLS with `server_hostname=host`, so the certificate
    is checked against the name, and owns the socket."""
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for address in await policy.check(host, port):
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, (address, port))
            return sock
        except OSError as exc:
            sock.close()
            last = exc
        except BaseException:
            sock.close()
            raise
    assert last is not None
    raise last


PORTS = {"http": 80, "https": 443}


async def checked_url(core: Core, url: str, field: str = "url") -> str:
    """A URL a user gives Kith to call (a webhook endpoint, a sequence's webhook step),
    stripped: http(s), a host, no credentials, and a host the guard lets Kith reach now. It is
    checked again, and pinned, on every call; this only refuses early, naming `field` (and a
    `reason`, for pages to word the refusal in their language)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port or PORTS.get(parts.scheme)
    except ValueError:
        raise InvalidInput("not a URL", field=field, reason="url_parsing") from None
    if parts.scheme not in PORTS or not parts.hostname or port is None:
        raise InvalidInput(
            "an http:// or https:// URL with a host", field=field, reason="url_scheme"
        )
    if parts.username or parts.password:
        raise InvalidInput("no user or password in the URL", field=field, reason="url_credentials")
    try:
        await core.egress.check(parts.hostname, port)
    except EgressRefused:
        raise InvalidInput(
            "Kith may not call this address (private, loopback or unresolvable; an operator "
            "can allow it with KITH_EGRESS_ALLOW)",
            field=field,
            code="egress_refused",
            reason="egress_refused",
        ) from None
    return url
