"""Why a delivery failed and why an endpoint is off, as keys and values the Webhooks page
words in its language (`webhooks_error_<key>`, `webhooks_off_<key>`); the English stays in
`last_error` and `disabled_reason` for API clients and logs."""

from __future__ import annotations

import re

from kith.core.models import Wording
from kith.webhooks.models import BY_ADMIN, ENDPOINT_DISABLED, TOO_LARGE, UNREACHABLE, Endpoint

TIMEOUT = re.compile(r"no answer within (\d+(?:\.\d+)?) s")
HTTP = re.compile(r"HTTP (\d{3})")
FIXED = {UNREACHABLE: "unreachable", TOO_LARGE: "too_large", ENDPOINT_DISABLED: "endpoint_off"}


def error_wording(error: str | None) -> Wording | None:
    """A delivery's `last_error` as the worker writes it; None for any other text."""
    if error is None:
        return None
    if error in FIXED:
        return Wording(key=FIXED[error])
    if found := TIMEOUT.fullmatch(error):
        return Wording(key="timeout", values={"seconds": found[1]})
    if found := HTTP.fullmatch(error):
        return Wording(key="http", values={"status": int(found[1])})
    return None


def off_wording(endpoint: Endpoint) -> Wording | None:
    """Why a disabled endpoint is off: an admin, or failures since when (and the last)."""
    if endpoint.enabled:
        return None
    if endpoint.disabled_reason == BY_ADMIN or endpoint.disabled_since is None:
        return Wording(key="by_admin")
    last = error_wording(endpoint.disabled_error)
    values: dict[str, str | int | float] = {"since": endpoint.disabled_since.isoformat()}
    if last is not None:
        values |= {"error": last.key, **{f"error_{k}": v for k, v in last.values.items()}}
    return Wording(key="failing", values=values)
