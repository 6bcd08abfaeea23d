"""The ticket reports as a CSV file (`/app/tickets/reports.csv`): the page's figures for the
same range and the same reader, one figure a row, `section,name,metric,value`, so that a
spreadsheet can filter and pivot them whatever the number of teams, agents or metrics.

Sections and metrics are fixed English keys (a sheet's formulas keep working whatever the
reader's language); names are the teams', agents' and policies' own, or the page's words for
none. Values are plain numbers (a percent 0–100, a score out of 5), empty when nothing was
measured. Written by `kith.core.csv_text` as every export of Kith is: a byte-order mark for
Excel, and a cell that a spreadsheet would run as a formula (names are user text) defused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from kith.core.csv_text import csv_line, safe_cell
from kith.tickets.csat_report import Figures as Csat
from kith.tickets.report_figures import Figures, SlaLine
from kith.tickets.report_range import ReportRange
from kith.tickets.sla_models import Metric
from kith.tickets.sla_report import Met

HEADER = ["section", "name", "metric", "value"]
Row = tuple[str, str, str, Any]


def report_csv(figures: Figures, period: ReportRange, t: Mapping[str, str]) -> str:
    """The whole file's text, its byte-order mark first."""
    lines = [csv_line(HEADER)]
    lines += [csv_line([safe_cell(v) for v in row]) for row in rows(figures, period, t)]
    return "\ufeff" + "".join(lines)


def filename(period: ReportRange) -> str:
    return f"kith-reports-{period.first_day.isoformat()}-{period.last_day.isoformat()}.csv"


def rows(figures: Figures, period: ReportRange, t: Mapping[str, str]) -> Iterator[Row]:
    """Every figure, in the page's order."""
    yield ("period", "", "from", period.first_day.isoformat())
    yield ("period", "", "to", period.last_day.isoformat())
    yield ("period", "", "time_zone", "UTC")
    csat = figures.csat
    yield from _csat("satisfaction_overall", "", csat.total)
    for section, found, none_key in (
        ("satisfaction_by_team", csat.teams, "tickets_reports_no_team"),
        ("satisfaction_by_agent", csat.agents, "tickets_reports_unassigned"),
    ):
        for row in found:
            yield from _csat(section, _name(row.id, row.name, none_key, t), row)
    sla = figures.sla
    yield from _mets("sla_overall", "", sla.overall, sla.metrics)
    for section, lines, none_key in (
        ("sla_by_policy", sla.by_policy, "tickets_reports_no_policy"),
        ("sla_by_team", sla.by_team, "tickets_reports_no_team"),
        ("sla_by_agent", sla.by_agent, "tickets_reports_unassigned"),
    ):
        for line in lines:
            yield from _sla_line(section, line, none_key, t)


def _name(id_: str | None, name: str | None, none_key: str, t: Mapping[str, str]) -> str:
    """A row's name as the page words it (the template's `named`)."""
    if id_ is None:
        return t[none_key]
    return name or t["tickets_reports_removed"]


def _csat(section: str, name: str, figures: Csat) -> Iterator[Row]:
    rate = figures.response_rate
    yield (section, name, "surveys", figures.surveys)
    yield (section, name, "asked", figures.asked)
    yield (section, name, "answered", figures.answered)
    yield (section, name, "response_rate_percent", None if rate is None else round(100 * rate, 1))
    yield (section, name, "average_score", figures.average)
    for score in ("1", "2", "3", "4", "5"):
        yield (section, name, f"score_{score}", figures.distribution.get(score, 0))
    for reason, count in sorted(figures.skipped.items()):
        yield (section, name, f"not_asked_{reason}", count)


def _sla_line(section: str, line: SlaLine, none_key: str, t: Mapping[str, str]) -> Iterator[Row]:
    name = _name(line.row.id, line.name, none_key, t)
    yield (section, name, "tickets", line.row.tickets)
    yield from _mets(section, name, line.row.overall, line.row.metrics)


def _mets(section: str, name: str, overall: Met, metrics: Mapping[Metric, Met]) -> Iterator[Row]:
    """Met, missed and the percent met, overall and per metric (whatever metrics exist)."""
    for key, met in (("overall", overall), *((m.value, metrics[m]) for m in Metric)):
        yield (section, name, f"{key}_met", met.met)
        yield (section, name, f"{key}_missed", met.missed)
        yield (section, name, f"{key}_percent", met.percent)
