"""The period the ticket reports cover: the last 7, 30 or 90 days (`?days=`), or whole days
chosen by hand (`?from=2026-11-01&to=2026-11-30`, or `days=custom` with both, as the page's
form sends them), read in UTC, from the start of `from` to the end of `to`.

A chosen range is checked here, not by the browser, so that the page (and the CSV) says what
is wrong in its own language, next to the field: an unreadable day, an end before the start,
more than 366 days (a leap year whole, no more: each report is one aggregation over the
period's tickets), or a start in the future (nothing to count yet)."""

from __future__ import annotations

import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

PERIODS = (7, 30, 90)
DEFAULT_DAYS = 30
CUSTOM = "custom"
MAX_DAYS = 366
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

Field = Literal["from", "to"]


@dataclass(frozen=True)
class ReportRange:
    """The moments counted (`start` included, `end` not) and the days they are shown as;
    `days` is the period's length, None for chosen days."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    days: int | None

    def query(self) -> dict[str, str]:
        """The range as the page's and the CSV's address write it."""
        if self.days is not None:
            return {"days": str(self.days)}
        return {"from": self.first_day.isoformat(), "to": self.last_day.isoformat()}


@dataclass(frozen=True)
class Problem:
    """What is wrong with a field: the key of its message, and `n` for the message's {n}."""

    field: Field
    key: str
    n: int = 0


@dataclass(frozen=True)
class Asked:
    """The form's fields as sent (shown back in the form when they are wrong), and the days
    the page showed when the form was sent (`shown_from`, `shown_to`: hidden fields)."""

    days: str | None
    first: str
    last: str
    shown_first: str = ""
    shown_last: str = ""

    @property
    def custom(self) -> bool:
        """Chosen days, not a period: "Custom range", a hand-written address with `from` and
        `to` alone, or days typed over the shown ones whatever the period list says (the form
        sends its date fields, filled with the shown days, with every period)."""
        if self.days in {str(n) for n in PERIODS}:
            shown = (self.shown_first, self.shown_last)
            return any(shown) and (self.first, self.last) != shown
        return self.days == CUSTOM or bool(self.first or self.last)


def last_days(now: datetime, days: int) -> ReportRange:
    """The `days` up to now (a period moves with the clock, as it always has)."""
    start = now - timedelta(days=days)
    return ReportRange(start, now, start.date(), now.date(), days)


def period(days: str | None, now: datetime) -> ReportRange:
    """The period asked for, else the default: a hand-written `?days=12` is no error page."""
    known = {str(n): n for n in PERIODS}
    return last_days(now, known.get(days or "", DEFAULT_DAYS))


def chosen(asked: Asked, now: datetime) -> ReportRange | list[Problem]:
    """The chosen days as a range, or what is wrong with them (each field's first problem)."""
    first, last = _day(asked.first, "from"), _day(asked.last, "to")
    if isinstance(first, Problem) or isinstance(last, Problem):
        return [p for p in (first, last) if isinstance(p, Problem)]
    return _checked(first, last, now.astimezone(UTC).date()) or _whole_days(first, last)


def report_range(asked: Asked, now: datetime) -> ReportRange | list[Problem]:
    """The range the page and the CSV count over."""
    return chosen(asked, now) if asked.custom else period(asked.days, now)


def _day(text: str, field: Field) -> date | Problem:
    """The day in the date field's own shape, 2026-11-01 (`date.fromisoformat` alone would
    take 20261101 and 2026-W44 too, which no form sends)."""
    if not text:
        return Problem(field, f"tickets_reports_{field}_missing")
    if _DAY.fullmatch(text):
        with suppress(ValueError):  # 2026-13-01, 2026-02-30
            return date.fromisoformat(text)
    return Problem(field, "tickets_reports_day_unreadable")


def _checked(first: date, last: date, today: date) -> list[Problem]:
    if first > today:
        return [Problem("from", "tickets_reports_from_future")]
    if last < first:
        return [Problem("to", "tickets_reports_to_before_from")]
    span = (last - first).days + 1
    if span > MAX_DAYS:
        return [Problem("to", "tickets_reports_range_too_long", span)]
    return []


def _whole_days(first: date, last: date) -> ReportRange:
    start = datetime.combine(first, time(), UTC)
    # The end of `last`: `last` is no later than 366 days after a start not in the future.
    end = datetime.combine(last, time(), UTC) + timedelta(days=1)
    return ReportRange(start, end, first, last, None)
