"""Who may call the widget's routes: the channel, the page's origin (CORS) and the visitor.

CORS is decided per channel (each has its own `allowed_origins`), so it cannot be one global
middleware: `WidgetRoute` adds the headers to every answer of an allowed origin, errors
included, so the widget can read why a call failed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from kith.connectors.base import current_core
from kith.connectors.webchat.config import WebchatConfig
from kith.connectors.webchat.identity import COOKIE_NAME, TOKEN_HEADER, Visitor, read_token
from kith.connectors.webchat.limits import RateLimited
from kith.connectors.webchat.origins import normalize_origin
from kith.core.channel_records import get_channel
from kith.core.context import Core
from kith.core.errors import Forbidden, KithError, NotFound, Unauthorized, request_refusal
from kith.core.models import Channel

# Per request, in the ASGI scope (request.state can be shared lifespan state in some servers).
CORS_SCOPE_KEY = "kith.webchat.cors_origin"
ALLOWED_HEADERS = "content-type, x-kith-visitor, last-event-id"


def origin_allowed(request: Request, channel: Channel, origin: str) -> bool:
    """Listed origins, plus Kith's own (the demo page and the public URL) are allowed."""
    try:
        origin = normalize_origin(origin)
    except ValueError:
        return False
    if origin in channel.settings_as(WebchatConfig).allowed_origins:
        return True
    public_url = current_core(request).settings.public_url
    own = {request.headers.get("host", "").lower()}
    if public_url:
        own.add(urlsplit(public_url).netloc.lower())
    return urlsplit(origin).netloc in own


def cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Credentials": "true",
        "Vary": "Origin",
    }


async def webchat_channel(
    channel_id: str, request: Request, core: Annotated[Core, Depends(current_core)]
) -> Channel:
    """The enabled web chat channel of the path, after the page's origin is checked."""
    channel = await get_channel(core, None, channel_id)
    if channel.type != "webchat" or not channel.enabled:
        raise NotFound("no such web chat", field="channel_id")
    origin = request.headers.get("origin")
    if origin is not None:
        if not origin_allowed(request, channel, origin):
            raise Forbidden("this site may not embed the chat", field="Origin")
        request.scope[CORS_SCOPE_KEY] = origin
    return channel


def visitor_from(request: Request, core: Core, channel: Channel) -> Visitor | None:
    """The page's current token (header) first, then the cookie."""
    for token in (request.headers.get(TOKEN_HEADER), request.cookies.get(COOKIE_NAME)):
        visitor = read_token(core, channel.id, token)
        if visitor is not None:
            return visitor
    return None


async def current_visitor(
    request: Request,
    core: Annotated[Core, Depends(current_core)],
    channel: Annotated[Channel, Depends(webchat_channel)],
) -> Visitor:
    visitor = visitor_from(request, core, channel)
    if visitor is None:
        raise Unauthorized("no visitor session: start one first", field=TOKEN_HEADER)
    return visitor


class WidgetRoute(APIRoute):
    """Answers errors itself so an allowed origin's CORS headers are on them too."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                response = await handler(request)
            except RequestValidationError as exc:
                invalid = request_refusal(exc.errors())
                response = JSONResponse({"error": invalid.to_dict()}, status_code=invalid.status)
            except KithError as exc:
                response = JSONResponse({"error": exc.to_dict()}, status_code=exc.status)
                if isinstance(exc, RateLimited):
                    response.headers["Retry-After"] = str(max(1, round(exc.retry_after)))
            origin = request.scope.get(CORS_SCOPE_KEY)
            if origin is not None:
                response.headers.update(cors_headers(origin))
            return response

        return handle
