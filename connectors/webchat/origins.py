"""Origins as browsers send them, so allowed_origins compare by plain string equality."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic_core import PydanticCustomError


def normalize_origin(value: str) -> str:
    """`https://Shop.Example:443/` → `https://shop.example`: what browsers send in `Origin`."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PydanticCustomError(
            "not_an_origin", "not an http(s) origin: '{origin}'", {"origin": value}
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise PydanticCustomError(
            "origin_has_path", "an origin has no path, query or user: '{origin}'", {"origin": value}
        )
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")
