"""Numbers on the ticket reports page, written on the server as the page's language writes
them. English and Chinese both group thousands with a comma and mark decimals with a dot
(CLDR), so only the words around a number (`t`) differ; one decimal at most, none when
whole ("50%", not "50.0%")."""

from __future__ import annotations

from collections.abc import Mapping


def whole(n: int) -> str:
    """A count: 1,234."""
    return f"{n:,}"


def decimal(value: float) -> str:
    """One decimal at most: 4.5, 12, 1,234.5."""
    return f"{round(value, 1):,.1f}".removesuffix(".0")


def percent(value: float | None, t: Mapping[str, str]) -> str:
    """`value` in percent (0–100): "66.7%"; none measured: the page's word for it."""
    if value is None:
        return t["tickets_reports_not_measured"]
    return t["tickets_reports_percent"].replace("{n}", decimal(value))


def rate(fraction: float | None, t: Mapping[str, str]) -> str:
    """A share kept as 0–1 (the survey report's response rate), in percent."""
    return percent(None if fraction is None else 100 * fraction, t)


def score(average: float | None, t: Mapping[str, str]) -> str:
    """An average score as the ticket page writes one ("4.5 out of 5")."""
    if average is None:
        return t["tickets_reports_not_measured"]
    return t["ticket_csat_score"].replace("{score}", decimal(average))
