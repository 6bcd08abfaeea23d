"""Origins as browsers send them, so allowed_origins compare by plain string equality."""

from __future__ import annotations

from urllib.parse import urlsplit


def normalize_origin(value: str) -> str:
    """`https://Shop.Example:443/` → `https://shop.example`: what browsers send in `Origin`."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) origin: {value!r}")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"an origin has no path, query or user: {value!r}")
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")
