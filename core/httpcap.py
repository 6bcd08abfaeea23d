"""HTTP answers read under a size cap, so an endpoint cannot make Kith buffer an endless body.

httpx reads a whole response into memory; streaming it and stopping at the cap bounds what
one misbehaving callback can cost (the cap counts decoded bytes, so a gzip bomb stops too).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


class ResponseTooLarge(httpx.ReadError):
    """The answer went past the cap; what was read so far is dropped. A failed read to
    httpx's callers (`core.egress` caps every answer too)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"answer larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


@dataclass(frozen=True)
class CappedResponse:
    status_code: int
    headers: httpx.Headers
    body: bytes


async def post_capped(
    client: httpx.AsyncClient, url: str, *, max_bytes: int, **kw: Any
) -> CappedResponse:
    """POST and read the answer, raising `ResponseTooLarge` past `max_bytes`."""
    async with client.stream("POST", url, **kw) as response:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ResponseTooLarge(max_bytes)
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise ResponseTooLarge(max_bytes)
        return CappedResponse(response.status_code, response.headers, bytes(body))
