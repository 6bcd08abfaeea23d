"""Who is calling: the peer's address, or the client a trusted proxy names in X-Forwarded-For.

Every limit keyed on an address (login, the web widget) asks here, so that behind a proxy
users do not all share the proxy's address, and nobody else can pick their own address by
sending the header. `KITH_TRUSTED_PROXIES` lists the proxies (addresses or networks,
comma-separated); the client is the right-most address of the chain that is not one of them
(the left part of the header is whatever the client chose to send).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def trusted_networks(setting: str | None) -> tuple[Network, ...]:
    """`KITH_TRUSTED_PROXIES` parsed; a bad entry is a start-up error, not a silent hole."""
    entries = [e.strip() for e in (setting or "").split(",") if e.strip()]
    try:
        return tuple(ipaddress.ip_network(e, strict=False) for e in entries)
    except ValueError as exc:
        raise ValueError(f"KITH_TRUSTED_PROXIES: {exc}") from None


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(address.strip())
    except ValueError:
        return None


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    parsed = _parse(address)
    return parsed is not None and any(parsed in net for net in networks)


def resolve(
    peer: str | None, forwarded_for: Iterable[str], trusted: tuple[Network, ...]
) -> str | None:
    """The client's address, walking X-Forwarded-For from the right while hops are trusted."""
    if peer is None or not _trusted(peer, trusted):
        return peer
    client = peer
    hops = [h.strip() for header in forwarded_for for h in header.split(",")]
    for hop in reversed(hops):
        parsed = _parse(hop)
        if parsed is None:  # garbage from the client's side: the last trusted hop answers
            return client
        client = str(parsed)
        if not _trusted(client, trusted):
            return client
    return client


def client_address(scope: Mapping[str, Any], trusted_setting: str | None) -> str | None:
    """`resolve` for an ASGI request scope (its `client` and its X-Forwarded-For headers)."""
    peer = scope.get("client")
    forwarded = [
        value.decode("latin-1")
        for name, value in scope.get("headers") or ()
        if name.lower() == b"x-forwarded-for"
    ]
    return resolve(peer[0] if peer else None, forwarded, trusted_networks(trusted_setting))
