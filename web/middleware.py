"""ASGI middlewares: a cap on request bodies, a refusal of text no database can store, request
latency metrics, security headers."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kith.core import metrics
from kith.core.errors import KithError, PayloadTooLarge, request_refusal


def _json_error(error: KithError) -> tuple[dict[str, Any], bytes]:
    body = json.dumps({"error": error.to_dict()}).encode()
    start = {
        "type": "http.response.start",
        "status": error.status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
    }
    return start, body


MAX_DRAIN_BYTES = 64 * 1024 * 1024


class BodyLimit:
    """Refuses bodies over `max_bytes` with 413, whether announced or streamed.

    The body is read up front (it is small by definition) so the refusal happens before any
    route runs, and nothing downstream sees a partial body. An oversized body is still read
    and thrown away, up to `drain_bytes`, before the 413 is sent: a client that is still
    sending when the server answers and closes gets a connection reset instead of the
    answer (Python's urllib does). Past that bound the 413 goes out at once and the
    connection is closed. Paths named in `larger` (a file upload) have a limit of their own,
    and the refusal that says so in the upload's terms (the field `file`, a reason the page
    words); other bodies are refused as a `body` over the cap, naming no field.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        drain_bytes: int | None = None,
        larger: Mapping[str, tuple[int, KithError]] | None = None,
        refusal: KithError | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.drain_bytes = drain_bytes or min(16 * max_bytes, MAX_DRAIN_BYTES)
        self.refusal = refusal or PayloadTooLarge(f"body over {max_bytes} bytes")
        self._larger = {
            path: BodyLimit(app, n, refusal=refused)
            for path, (n, refused) in (larger or {}).items()
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        own_limit = self._larger.get(str(scope.get("path", "")))
        if own_limit is not None:
            await own_limit(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        announced = int(length) if length is not None and length.isdigit() else None
        if announced is not None and announced > self.drain_bytes:
            await self._refuse(send, close=True)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            too_large = len(body) > self.max_bytes or (announced or 0) > self.max_bytes
            if too_large:
                await self._drain(receive, send, len(body), more)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)

    async def _drain(self, receive: Receive, send: Send, seen: int, more: bool) -> None:
        """Discard the rest of an oversized body (up to `drain_bytes`), then refuse it."""
        while more and seen <= self.drain_bytes:
            message = await receive()
            if message["type"] != "http.request":
                return
            seen += len(message.get("body", b""))
            more = message.get("more_body", False)
        await self._refuse(send, close=more)

    async def _refuse(self, send: Send, *, close: bool = False) -> None:
        start, body = _json_error(self.refusal)
        if close:
            start["headers"].append((b"connection", b"close"))
        await send(start)
        await send({"type": "http.response.body", "body": body})


# A JSON escape of a UTF-16 surrogate: the only way a JSON body can hold one (as UTF-8 bytes
# it is not valid text, which the JSON reader already refuses).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_JSON_TYPE = re.compile(rb"^application/(?:[\w.+-]+\+)?json\b", re.IGNORECASE)


class LoneSurrogates:
    """Refuses a JSON body holding a lone UTF-16 surrogate (`"\\ud800"`) with a 422 naming its
    field, like any other refusal (`string_unicode`).

    Python's JSON reader accepts one as a string, and a model field that is a plain `str`
    lets it through, so it reached the database, whose encoder raises: a 500 on every route
    with such a field. One check here instead of a constraint on every field. Only bodies
    with such an escape are read twice (a valid pair, an emoji sent by a client escaping
    everything, is let through). Runs inside `BodyLimit`, which has read the body already.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        said = dict(scope.get("headers") or []).get(b"content-type", b"application/json")
        if scope["type"] != "http" or not _JSON_TYPE.match(said):  # read as JSON if unsaid
            await self.app(scope, receive, send)
            return
        body, messages = bytearray(), []
        while True:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        refusal = _surrogate_refusal(bytes(body)) if _SURROGATE_ESCAPE.search(body) else None
        if refusal is not None:
            start, answer = _json_error(refusal)
            await send(start)
            await send({"type": "http.response.body", "body": answer})
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def _surrogate_refusal(body: bytes) -> KithError | None:
    """The refusal of the first string (or key) in `body` holding a lone surrogate."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return None  # not JSON: the route's own reading says so
    for loc, value in _strings(document):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            error = {
                "type": "string_unicode",
                "loc": ("body", *loc),
                "msg": "Input should be a valid string, unable to parse raw data as a unicode "
                "string",
                "input": value,
            }
            return request_refusal([error], {"body": document})
    return None


def _strings(document: Any) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in `document` with its place, keys too (placed as pydantic places a
    refused key: `[key]` after it), in document order, without recursion (a body may nest
    deeper than Python's stack)."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), document)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, str):
            yield loc, value
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                stack.append(((*loc, key), item))
                stack.append(((*loc, key, "[key]"), key))
        elif isinstance(value, list):
            stack.extend(((*loc, n), item) for n, item in reversed(list(enumerate(value))))


class Timing:
    """Observes every request's latency, labelled by route template (never by raw path), and
    tells the client how long the server took (`Server-Timing`, shown by browsers' devtools)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                spent = (time.perf_counter() - started) * 1000
                timing = (b"server-timing", f"app;dur={spent:.2f}".encode())
                message = {**message, "headers": [*message.get("headers", []), timing]}
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            # No route matched: none, or the app's mount of its routes (`kith.web.surface`).
            path = getattr(scope.get("route"), "path", "") or "unmatched"
            metrics.REQUEST_LATENCY.labels(scope["method"], path, str(status)).observe(
                time.perf_counter() - started
            )


class SecurityHeaders:
    """Headers every answer carries unless its route set them: `nosniff` (a browser never
    runs an upload or a JSON answer as a script or a page), and `no-store` on everything but
    the static files, so that no shared or browser cache keeps an API answer, which may hold
    customers' data or a token shown once."""

    STATIC_SUFFIXES = (".js", ".css")  # the inbox's files and the widget's script

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(b"x-content-type-options", b"nosniff")]
        if not str(scope.get("path", "")).endswith(self.STATIC_SUFFIXES):
            extra.append((b"cache-control", b"no-store"))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in extra if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_wrapper)
