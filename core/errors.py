"""Kith's errors: one root, each user-facing error with a code, an HTTP status and a field,
and, when the input was wrong in several places, every field at fault (`fields`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class KithError(Exception):
    """Root of Kith's errors. `code` is machine-readable; `field` names the bad input, and
    `also` holds the refusals of the other bad fields of the same input (see `joined`)."""

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
        also: Sequence[KithError] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.reason = reason  # e.g. pydantic's error type, for clients to word it themselves
        self.limits = limits or {}  # the numbers or pattern the reason refers to
        self.also = tuple(also)
        if code is not None:
            self.code = code

    @property
    def fields(self) -> list[KithError]:
        """Every bad field once, this error's own first: what a form marks."""
        named: dict[str, KithError] = {}
        for error in (self, *self.also):
            if error.field is not None:
                named.setdefault(error.field, error)
        return list(named.values())

    def to_dict(self) -> dict[str, Any]:
        """The answer's `error`: `field`, `message`, `reason` and `limits` of the first bad
        field (what a client that reads one field shows), and `fields`, every bad field
        with its own four, the first one first; empty when the error names no field."""
        out: dict[str, Any] = {"code": self.code, "message": self.message, "field": self.field}
        if self.reason:
            out |= {"reason": self.reason, "limits": self.limits}
        out["fields"] = [
            {"field": e.field, "message": e.message, "reason": e.reason, "limits": e.limits}
            for e in self.fields
        ]
        return out


def joined(errors: Sequence[KithError]) -> KithError:
    """Several refusals of one input as one answer: the first (its code, status and field)
    carrying the others, so that a client learns every bad field at once. A field named
    twice keeps its first refusal."""
    first, *rest = errors
    first.also = (*first.also, *rest)
    return first


def raise_all(errors: Sequence[KithError]) -> None:
    """Raise the refusals a hand-written check collected, all in one answer (nothing when
    it collected none)."""
    if errors:
        raise joined(errors)


def validation_details(error: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A pydantic error's type and the plain values of its context (min_length, pattern, …):
    what a client needs to say the same thing in its user's language."""
    limits = {k: v for k, v in (error.get("ctx") or {}).items() if isinstance(v, str | int | float)}
    return str(error.get("type", "")), limits


class InvalidInput(KithError):
    code = "invalid"
    status = 422


_SOURCES = ("body", "query", "path", "header", "cookie")


class _Unknown:
    """The input a location is read through, when it is not known."""


UNKNOWN: Final = _Unknown()


def _untagged(parts: Sequence[Any], value: Any, given: Any, missing: bool) -> list[Any]:
    """`parts` without the labels pydantic puts in a location for a union's members (`a.int`
    and `a.constrained-str` are both the field `a`), found by following the parts through
    the input `value`: a label is a string that is no key of the object it follows. A last
    part the object lacks is a key all the same when the error is about it rather than the
    object (`given`, the error's input): a `missing` key, a default that failed. Once the
    input is lost, and for a dict's keys (`[key]`), parts stay."""
    kept: list[Any] = []
    for n, part in enumerate(parts):
        last = n == len(parts) - 1
        if isinstance(value, _Unknown) or part == "[key]":
            value = UNKNOWN
        elif isinstance(part, int) and not isinstance(part, bool):
            in_list = isinstance(value, list | tuple) and -len(value) <= part < len(value)
            value = value[part] if in_list else UNKNOWN
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, Mapping) and last and (missing or not _same(given, value)):
            value = UNKNOWN
        else:
            continue  # a union member's label
        kept.append(part)
    return kept


def _same(given: Any, value: Any) -> bool:
    return bool(given is value or given == value)


def field_of(
    loc: Sequence[Any], value: Any = UNKNOWN, given: Any = None, *, missing: bool = False
) -> str | None:
    """A pydantic error's location as a field: `("body", "user", "id")` is `user.id`; a
    missing or non-object body is the field `body`. Given the `value` the location reads
    through (the body for `("body", …)`) and the error's input, union members' labels are
    left out."""
    parts = list(loc[1:] if loc and loc[0] in _SOURCES else loc)
    parts = _untagged(parts, value, given, missing)
    return ".".join(str(p) for p in parts) or (str(loc[0]) if loc else None)


def refused(error: Mapping[str, Any], value: Any = UNKNOWN, where: str = "") -> InvalidInput:
    """One pydantic (or FastAPI request) validation error as Kith's refusal of the field
    (under `where`, the place of the validated object in the request, when given)."""
    reason, limits = validation_details(error)
    loc = tuple(error.get("loc", ()))
    field = field_of(loc, value, error.get("input"), missing=reason == "missing")
    if where:
        field = f"{where}.{field}" if field else where
    message = str(error.get("msg")).removeprefix("Value error, ")  # our validators' own words
    if reason == "extra_forbidden":
        message = "unknown field: this request does not take it"
    return InvalidInput(message, field=field, reason=reason, limits=limits)


def _mismatch(reason: str | None) -> bool:
    """A refusal that says only "not of this type", as a union's other members do."""
    reason = reason or ""
    return reason.endswith(("_type", "_parsing")) or reason in {
        "literal_error",
        "enum",
        "is_instance_of",
    }


def _first(errors: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Unknown keys first: pydantic lists them after the declared fields' errors, which
    they often cause (`audience` sent for `segment_id` leaves no audience)."""
    return sorted(errors, key=lambda e: e.get("type") != "extra_forbidden")


def refusals(
    errors: Sequence[Mapping[str, Any]],
    inputs: Mapping[str, Any] | None = None,
    *,
    value: Any = UNKNOWN,
    where: str = "",
) -> list[InvalidInput]:
    """Every field a validation refused, once, unknown keys first and then in pydantic's
    order. A field refused several times (a union tries each member) keeps its most useful
    refusal: one that says what is wrong with the value (too long, a bad pattern, our
    validators' words) over one that says it is not some member's type. `inputs` are the
    request's by source (`{"body": …, "query": …}`); `value`, what a model validated."""
    best: dict[str | None, InvalidInput] = {}
    for error in _first(errors):
        loc = tuple(error.get("loc", ()))
        read = inputs.get(loc[0], UNKNOWN) if inputs and loc and loc[0] in _SOURCES else value
        one = refused(error, read, where)
        kept = best.get(one.field)
        if kept is None or (_mismatch(kept.reason) and not _mismatch(one.reason)):
            best[one.field] = one
    return list(best.values())


def all_refused(
    errors: Sequence[Mapping[str, Any]], value: Any = UNKNOWN, where: str = ""
) -> KithError:
    """A model's validation errors (`ValidationError.errors()`) as one refusal naming every
    bad field: what a check by hand raises for an object it validated itself."""
    return joined(refusals(errors, value=value, where=where))


def validated(model: type[M], value: Any) -> tuple[M | None, list[KithError]]:
    """`value` as `model` takes it, or None and every field the model refused: for a check
    that goes on to add its own refusals beside the model's, so that one answer names them
    all (the caller raises them with `raise_all`)."""
    try:
        return model.model_validate(value), []
    except ValidationError as exc:
        return None, list(refusals(exc.errors(), value=value))


class MalformedBody(KithError):
    code = "malformed_json"
    status = 400


def request_refusal(
    errors: Sequence[Mapping[str, Any]], inputs: Mapping[str, Any] | None = None
) -> KithError:
    """The answer to a request FastAPI could not validate: every bad field (`refusals`), the
    first named by `field` too. A body that is not JSON is a 400 on the field `body` (FastAPI
    puts the character offset where the field would be). `inputs`, the request's body,
    query and path parameters by source, let union members' labels be left out of fields."""
    error = _first(errors)[0]
    if error.get("type") != "json_invalid":
        return joined(refusals(errors, inputs))
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
