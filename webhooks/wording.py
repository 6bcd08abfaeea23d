"""Why a delivery failed and why an endpoint is off, as keys and values the Webhooks page
words in its language (`webhooks_error_<key>`, `webhooks_off_<key>`); the English stays in
`last_error` and `disabled_reason` for API clients and logs.

The worker names each failure where it happens (a `Failure`: the English and its wording
together) and stores both; the page's wording is read from what was stored. Documents
written before the wording was stored get it once, as the feature starts
(`kith.webhooks.store.backfill_error_wordings`, through `old_error_wording`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kith.core.models import Wording
from kith.webhooks.models import ENDPOINT_DISABLED, TOO_LARGE, UNREACHABLE, Endpoint


@dataclass(frozen=True)
class Failure:
    """Why an attempt failed (or was not made): `english` is stored as `last_error`, and
    `wording` beside it as `error_wording`."""

    english: str
    wording: Wording


def timed_out(seconds: float) -> Failure:
    shown = f"{seconds:g}"
    return Failure(f"no answer within {shown} s", Wording(key="timeout", values={"seconds": shown}))


def http_status(status: int) -> Failure:
    return Failure(f"HTTP {status}", Wording(key="http", values={"status": status}))


NOT_SENT = Failure(ENDPOINT_DISABLED, Wording(key="endpoint_off"))
NO_ANSWER = Failure(UNREACHABLE, Wording(key="unreachable"))
ANSWER_TOO_LARGE = Failure(TOO_LARGE, Wording(key="too_large"))


def off_wording(endpoint: Endpoint) -> Wording | None:
    """Why a disabled endpoint is off: an admin (no `disabled_since`: failures set it), or
    failures since when, and the last one as stored when they disabled it."""
    if endpoint.enabled:
        return None
    if endpoint.disabled_since is None:
        return Wording(key="by_admin")
    values: dict[str, str | int | float | list[str]] = {
        "since": endpoint.disabled_since.isoformat()
    }
    if (last := endpoint.disabled_error_wording) is not None:
        values |= {"error": last.key, **{f"error_{k}": v for k, v in last.values.items()}}
    return Wording(key="failing", values=values)


_FIXED = {f.english: f for f in (NOT_SENT, NO_ANSWER, ANSWER_TOO_LARGE)}
_TIMED_OUT = re.compile(r"no answer within (\d+(?:\.\d+)?) s")
_HTTP = re.compile(r"HTTP (\d{3})")


def old_error_wording(english: str) -> Wording | None:
    """For the backfill only: the wording of a `last_error` (or `disabled_error`) stored
    without one, read back from the English the worker has always written for each kind of
    failure (the same constructors); None for any other text."""
    if english in _FIXED:
        return _FIXED[english].wording
    if found := _TIMED_OUT.fullmatch(english):
        return timed_out(float(found[1])).wording
    if found := _HTTP.fullmatch(english):
        return http_status(int(found[1])).wording
    return None
