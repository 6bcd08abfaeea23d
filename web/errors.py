"""Every error leaves Kith as JSON: `{"error": {"code", "message", "field", "fields"}}`, plus
`reason` and `limits` when input failed validation (pydantic's error type and its numbers or
pattern), so that a client can word the error in its user's language. `fields` lists every
bad field of the request at once, each with its own `field`, `message`, `reason` and
`limits`, the one `field` names first (empty when the error names no field): a client fixes
them all before it sends again.

Input is refused by the request models (see `kith.core.storable`) before it reaches the
database. Should a value still get that far that the database cannot store (invalid BSON,
an integer beyond 64 bits, a document over 16 MB, a write its validation refuses), the
answer is a 4xx saying so rather than a 500 (the fuzzing test, which requires every 422 to
name its field, shows these as models that let such a value through). A body that is not
sent as JSON (`Content-Type: text/plain`) is a 415 saying so, not a field-by-field refusal;
one that is not JSON at all is a 400 on the field `body`. Of several refusals the answer names
an unknown key first: a client that misnamed a field is told so rather than blamed for the
field it meant to give; a field pydantic refused several times (a union tries each of its
types) is listed once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bson.errors import InvalidDocument
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pymongo.errors import DocumentTooLarge, WriteError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kith.core.errors import (
    InvalidInput,
    KithError,
    MalformedBody,
    PayloadTooLarge,
    request_refusal,
)
from kith.core.sessions import ACCOUNT_PAGE, PasswordChangeRequired
from kith.web.not_found_page import not_found_page, wants_page

log = logging.getLogger(__name__)

# What MongoDB answers when a document fails the collection's validation.
DOCUMENT_FAILED_VALIDATION = 121


def _error_json(status: int, error: KithError) -> JSONResponse:
    return JSONResponse({"error": error.to_dict()}, status_code=status)


def _inputs(request: Request, exc: RequestValidationError) -> dict[str, Any]:
    """What the request's parts held, by the source a validation error's location names."""
    params = request.query_params
    query: dict[str, Any] = {}
    for key in params:
        values = params.getlist(key)
        query[key] = values if len(values) > 1 else values[0]
    return {
        "body": exc.body,
        "query": query,
        "path": request.path_params,
        "header": request.headers,
        "cookie": request.cookies,
    }


def _unstorable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("refused unstorable input on %s %s: %s", request.method, request.url.path, exc)
    return _error_json(422, InvalidInput(f"a value cannot be stored: {exc}", code="unstorable"))


def _not_json(error: Mapping[str, Any]) -> bool:
    """FastAPI leaves a body it did not read as JSON (its content type said otherwise, or
    nothing) as bytes, which the route's model then refuses as "not a dictionary"."""
    return tuple(error.get("loc", ())) == ("body",) and isinstance(error.get("input"), bytes)


def _unreadable_body(exc: StarletteHTTPException) -> KithError:
    """FastAPI's 400 for a body it could not parse at all (JSON that is not UTF-8, say)."""
    if isinstance(exc.__cause__, UnicodeDecodeError):
        return MalformedBody(
            "the body is not valid JSON (it is not UTF-8 text)",
            field="body",
            reason="json_invalid",
            limits={"error": "not UTF-8"},
        )
    return MalformedBody(f"the body could not be read ({exc.detail})", field="body")


def _wrong_media_type(request: Request) -> KithError:
    said = request.headers.get("content-type") or "none"
    return KithError(
        f"the body must be JSON sent with Content-Type: application/json (this request's "
        f"Content-Type: {said})",
        code="unsupported_media_type",
        field="body",
        reason="content_type",
        limits={"content_type": said},
    )


def _is_page(request: Request) -> bool:
    """A page (not JSON) the browser navigates to: sent elsewhere rather than refused."""
    return request.method == "GET" and not request.url.path.startswith(("/app/api/", "/api/"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KithError)
    async def kith_error(request: Request, exc: KithError) -> Response:
        if isinstance(exc, PasswordChangeRequired) and _is_page(request):
            return RedirectResponse(ACCOUNT_PAGE, status_code=303)
        if exc.status == 404 and wants_page(request):
            return await not_found_page(request)
        if exc.status >= 500:
            log.error("request failed: %s", exc.message)
        return _error_json(exc.status, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _not_json(exc.errors()[0]):
            return _error_json(415, _wrong_media_type(request))
        refusal = request_refusal(exc.errors(), _inputs(request, exc))
        return _error_json(refusal.status, refusal)

    @app.exception_handler(InvalidDocument)
    async def invalid_bson(request: Request, exc: InvalidDocument) -> JSONResponse:
        return _unstorable(request, exc)

    @app.exception_handler(OverflowError)
    async def overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return _unstorable(request, exc)

    @app.exception_handler(DocumentTooLarge)
    async def too_large(request: Request, exc: DocumentTooLarge) -> JSONResponse:
        return _error_json(413, PayloadTooLarge("the record would be too large to store"))

    @app.exception_handler(WriteError)
    async def write_refused(request: Request, exc: WriteError) -> JSONResponse:
        if exc.code == DOCUMENT_FAILED_VALIDATION:
            return _unstorable(request, exc)
        return await crashed(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and wants_page(request):
            return await not_found_page(request)
        if exc.status_code == 400:
            return _error_json(400, _unreadable_body(exc))
        codes = {404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "http_error")
        return _error_json(exc.status_code, KithError(str(exc.detail), code=code))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_json(500, KithError("internal error", code="internal"))
