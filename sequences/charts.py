"""A sequence's funnel and its days as SVG drawn on the server (no charting script in the
page or the repository). Only numbers and escaped labels (step ids, an earlier version's
step with its versions) reach the markup; each chart has a title and a description, and the
page shows the same figures as a table for those who do not see the picture."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Protocol

from markupsafe import Markup, escape

from kith.sequences.models import SequenceStats, StepStats
from kith.web.inbox.i18n import written_day
from kith.web.svg_chart import svg_chart

W, ROW, GAP, LABEL_W = 640, 22, 6, 190
MEASURES = ("sent", "delivered", "replied", "clicked", "converted")
COLOURS = {
    "enrolled": "#1e3a8a",
    "sent": "#2563eb",
    "delivered": "#0891b2",
    "replied": "#059669",
    "clicked": "#d97706",
    "converted": "#7c3aed",
}
SERIES = ("enrolled", "sent", "replied", "converted")
H, PAD = 220, 36


class Day(Protocol):
    """What the chart over time needs of a day (the stats' daily points have these)."""

    day: date
    enrolled: int
    sent: int
    replied: int
    converted: int


def funnel_rows(
    stats: SequenceStats,
    step_ids: Sequence[str],
    earlier: Sequence[tuple[str, StepStats]] = (),
) -> list[tuple[str, str, int]]:
    """(step label or "", measure, count): enrolled, then each step's measures, in step
    order, then those of the `earlier` versions' steps (labelled by the caller)."""
    rows: list[tuple[str, str, int]] = [("", "enrolled", stats.enrolled)]
    found = [(i, stats.steps[i]) for i in step_ids if i in stats.steps]
    for label, figures in [*found, *earlier]:
        rows += [(label, m, int(getattr(figures, m))) for m in MEASURES]
    return rows


def funnel_chart(
    rows: list[tuple[str, str, int]], t: Mapping[str, str], chart_id: str = "funnel"
) -> Markup:
    """One horizontal bar per (step, measure), scaled to the enrolled count (or the largest)."""
    top = max([n for _, _, n in rows] + [1])
    height = len(rows) * (ROW + GAP) + GAP
    span = W - LABEL_W - 60
    parts = []
    for i, (step, measure, n) in enumerate(rows):
        y = GAP + i * (ROW + GAP)
        label = f"{step} · {t['sequences_' + measure]}" if step else t["sequences_enrolled"]
        width = span * n / top
        parts.append(
            f'<g><text x="{LABEL_W - 8}" y="{y + ROW * 0.7:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{LABEL_W}" y="{y}" width="{width:.1f}" height="{ROW}" '
            f'fill="{COLOURS[measure]}"/>'
            f'<text x="{LABEL_W + width + 6:.1f}" y="{y + ROW * 0.7:.1f}">{n}</text></g>'
        )
    title, desc = t["sequences_funnel"], t["sequences_funnel_desc"]
    return svg_chart(chart_id, (W, height), title, desc, parts)


def days_chart(days: Sequence[Day], t: Mapping[str, str], chart_id: str = "days") -> Markup:
    """A line per series over the days, with a legend."""
    if not days:
        return Markup("")
    top = max([getattr(d, s) for d in days for s in SERIES] + [1])
    span = max(len(days) - 1, 1)

    def x(i: int) -> float:
        return PAD + (W - 2 * PAD) * i / span

    def y(n: int) -> float:
        return H - PAD - (H - 2 * PAD) * n / top

    parts = [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#bbb"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#bbb"/>',
        f'<text x="{PAD - 6}" y="{PAD + 4}" text-anchor="end">{top}</text>',
        f'<text x="{PAD - 6}" y="{H - PAD + 4}" text-anchor="end">0</text>',
        f'<text x="{PAD}" y="{H - 12}">{_day(days[0].day, t)}</text>',
        f'<text x="{W - PAD}" y="{H - 12}" text-anchor="end">{_day(days[-1].day, t)}</text>',
    ]
    for k, series in enumerate(SERIES):
        points = " ".join(f"{x(i):.1f},{y(getattr(d, series)):.1f}" for i, d in enumerate(days))
        colour = COLOURS[series]
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>'
            f'<rect x="{PAD + 10 + k * 130}" y="8" width="12" height="12" fill="{colour}"/>'
            f'<text x="{PAD + 26 + k * 130}" y="18">{escape(t["sequences_" + series])}</text>'
        )
    return svg_chart(chart_id, (W, H), t["sequences_days"], t["sequences_days_desc"], parts)


def _day(day: date, t: Mapping[str, str]) -> Markup:
    return escape(written_day(day, t))
