"""Kith's errors: one root, each user-facing error with a code, an HTTP status and a field."""

from __future__ import annotations


class KithError(Exception):
    """Root of Kith's errors. `code` is machine-readable; `field` names the bad input."""

    code = "error"
    status = 500

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class InvalidInput(KithError):
    code = "invalid"
    status = 422


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
