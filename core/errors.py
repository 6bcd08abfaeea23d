"""Kith's errors: one root, each user-facing error with a code, an HTTP status and a field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class KithError(Exception):
    """Root of Kith's errors. `code` is machine-readable; `field` names the bad input."""

    code = "error"
    status = 500

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        code: str | None = None,
        reason: str | None = None,
        limits: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason  # e.g. pydantic's error type, for clients to word it themselves
        self.limits = limits or {}  # the numbers or pattern the reason refers to
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.reason:
            out |= {"reason": self.reason, "limits": self.limits}
        return out


def validation_details(error: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A pydantic error's type and the plain values of its context (min_length, pattern, …):
    what a client needs to say the same thing in its user's language."""
    limits = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, str | int | float)}
    return str(error.get("type", "")), limits


class InvalidInput(KithError):
    code = "invalid"
    status = 422


_SOURCES = ("body", "query", "path", "header", "cookie")


def field_of(loc: Sequence[Any]) -> str | None:
    """A pydantic error's location as a field: `("body", "user", "id")` is `user.id`; a
    missing or non-object body is the field `body`."""
    parts = [str(p) for p in (loc[1:] if loc and loc[0] in _SOURCES else loc)]
    return ".".join(parts) or (str(loc[0]) if loc else None)


def refused(error: Mapping[str, Any]) -> InvalidInput:
    """One pydantic (or FastAPI request) validation error as Kith's refusal of the field."""
    reason, limits = validation_details(error)
    field = field_of(tuple(error.get("loc", ())))
    message = str(error.get("msg")).removeprefix("Value error, ")  # our validators' own words
    if reason == "extra_forbidden":
        message = "unknown field: this request does not take it"
    return InvalidInput(message, field=field, reason=reason, limits=limits)


class MalformedBody(KithError):
    code = "malformed_json"
    status = 400


def request_refusal(errors: Sequence[Mapping[str, Any]]) -> KithError:
    """The answer to a request FastAPI could not validate. A body that is not JSON is a 400
    on the field `body` (FastAPI puts the character offset where the field would be). Of
    several errors an unknown key comes first: pydantic lists it after the declared fields'
    errors, which it often causes (`audience` sent for `segment_id` leaves no audience)."""
    error = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    if error.get("type") != "json_invalid":
        return refused(error)
    why = str((error.get("ctx") or {}).get("error") or "decode error")
    loc = tuple(error.get("loc", ()))
    at = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    return MalformedBody(
        f"the body is not valid JSON ({why}{'' if at is None else f' at character {at}'})",
        field="body",
        reason="json_invalid",
        limits={"error": why} | ({} if at is None else {"position": at}),
    )


class NotFound(KithError):
    code = "not_found"
    status = 404


class Unauthorized(KithError):
    code = "unauthorized"
    status = 401


class Forbidden(KithError):
    code = "forbidden"
    status = 403


class Conflict(KithError):
    code = "conflict"
    status = 409


class PayloadTooLarge(KithError):
    code = "payload_too_large"
    status = 413


class DeliveryError(KithError):
    """A channel could not deliver a message. `retryable` decides between retry and give-up."""

    code = "delivery_failed"
    status = 502

    def __init__(
        self, message: str, *, retryable: bool = True, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class DeliveryDeferred(KithError):
    """Not sent yet, and not a failure: a rate limit says wait `retry_after` seconds."""

    code = "delivery_deferred"
    status = 429

    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after
