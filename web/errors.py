"""Every error leaves Kith as JSON: `{"error": {"code", "message", "field"}}`, plus `reason`
and `limits` when input failed validation (pydantic's error type and its numbers or pattern),
so that a client can word the error in its user's language."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from kith.core.errors import KithError, validation_details

log = logging.getLogger(__name__)


def _error_json(status: int, error: KithError) -> JSONResponse:
    return JSONResponse({"error": error.to_dict()}, status_code=status)


def _field(loc: tuple) -> str | None:
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in _SOURCES else [str(p) for p in loc]
    return ".".join(parts) or (str(loc[0]) if loc else None)


_SOURCES = ("body", "query", "path", "header", "cookie")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(KithError)
    async def kith_error(request: Request, exc: KithError) -> JSONResponse:
        if exc.status >= 500:
            log.error("request failed: %s", exc.message)
        return _error_json(exc.status, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = exc.errors()[0]
        code = "malformed_json" if err.get("type") == "json_invalid" else "invalid"
        status = 400 if code == "malformed_json" else 422
        reason, limits = validation_details(err)
        field = _field(tuple(err.get("loc", ())))
        error = KithError(str(err.get("msg")), field=field, code=code, reason=reason, limits=limits)
        return _error_json(status, error)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "malformed_json", 404: "not_found", 405: "method_not_allowed"}
        code = codes.get(exc.status_code, "http_error")
        return _error_json(exc.status_code, KithError(str(exc.detail), code=code))

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_json(500, KithError("internal error", code="internal"))
