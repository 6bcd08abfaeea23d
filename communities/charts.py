"""A community's figures as SVG drawn on the server, as the sequences' charts are (no charting
script in the page or the repository): members over time, joins and leaves per day, active
members and messages per day. Only numbers, dates and escaped labels reach the markup; each
chart has a title and a description, and the page shows the same figures as a table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from markupsafe import Markup, escape

from kith.communities.stats import Day
from kith.web.inbox.i18n import written_day
from kith.web.svg_chart import svg_chart

W, H, PAD = 640, 200, 40
COLOURS = {
    "members": "#2563eb",
    "joins": "#059669",
    "leaves": "#dc2626",
    "active": "#d97706",
    "messages": "#7c3aed",
}


def charts(days: Sequence[Day], t: Mapping[str, str]) -> dict[str, Markup]:
    """The page's three charts, keyed by name."""
    return {
        "members": lines(days, ("members",), t, "members"),
        "moves": bars(days, ("joins", "leaves"), t, "moves"),
        "activity": lines(days, ("active", "messages"), t, "activity"),
    }


def _axes(days: Sequence[Day], top: int, t: Mapping[str, str]) -> list[str]:
    return [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#bbb"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#bbb"/>',
        f'<text x="{PAD - 6}" y="{PAD + 4}" text-anchor="end">{top}</text>',
        f'<text x="{PAD - 6}" y="{H - PAD + 4}" text-anchor="end">0</text>',
        f'<text x="{PAD}" y="{H - 12}">{_day(days[0].day, t)}</text>',
        f'<text x="{W - PAD}" y="{H - 12}" text-anchor="end">{_day(days[-1].day, t)}</text>',
    ]


def _legend(series: Sequence[str], t: Mapping[str, str]) -> list[str]:
    return [
        f'<rect x="{PAD + 10 + k * 150}" y="8" width="12" height="12" fill="{COLOURS[s]}"/>'
        f'<text x="{PAD + 26 + k * 150}" y="18">{escape(t["communities_" + s])}</text>'
        for k, s in enumerate(series)
    ]


def _y(n: int, top: int) -> float:
    return H - PAD - (H - 2 * PAD) * n / top


def lines(days: Sequence[Day], series: Sequence[str], t: Mapping[str, str], name: str) -> Markup:
    """A line per series over the days."""
    if not days:
        return Markup("")
    top = max([getattr(d, s) for d in days for s in series] + [1])
    span = max(len(days) - 1, 1)
    parts = _axes(days, top, t) + _legend(series, t)
    for s in series:
        points = " ".join(
            f"{PAD + (W - 2 * PAD) * i / span:.1f},{_y(getattr(d, s), top):.1f}"
            for i, d in enumerate(days)
        )
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="{COLOURS[s]}" stroke-width="2" '
            f'data-series="{s}"/>'
        )
    return _svg(name, t, parts)


def bars(days: Sequence[Day], series: Sequence[str], t: Mapping[str, str], name: str) -> Markup:
    """Side by side bars per day, one per series."""
    if not days:
        return Markup("")
    top = max([getattr(d, s) for d in days for s in series] + [1])
    slot = (W - 2 * PAD) / len(days)
    width = max(slot / (len(series) + 1), 1.0)
    parts = _axes(days, top, t) + _legend(series, t)
    for i, d in enumerate(days):
        for k, s in enumerate(series):
            n = getattr(d, s)
            if n:
                y = _y(n, top)
                parts.append(
                    f'<rect x="{PAD + i * slot + k * width:.1f}" y="{y:.1f}" '
                    f'width="{width:.1f}" height="{H - PAD - y:.1f}" fill="{COLOURS[s]}" '
                    f'data-series="{s}"/>'
                )
    return _svg(name, t, parts)


def _svg(name: str, t: Mapping[str, str], parts: list[str]) -> Markup:
    title, desc = t[f"communities_chart_{name}"], t[f"communities_chart_{name}_desc"]
    return svg_chart(f"chart-{name}", (W, H), title, desc, parts)


def _day(day: date, t: Mapping[str, str]) -> Markup:
    return escape(written_day(day, t))
