"""The ticket reports' chart, drawn on the server as the communities' charts are
(`kith.communities.charts`): how many answers gave each score from 1 to 5. Only numbers and
escaped labels reach the markup; the chart has a title and a description giving the same
figures, and the page shows them as a table too."""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup, escape

from kith.tickets.report_numbers import whole
from kith.web.svg_chart import svg_chart

W, H, PAD = 480, 220, 40
SCORES = ("1", "2", "3", "4", "5")
COLOUR = "#2563eb"


def score_bars(distribution: Mapping[str, int], t: Mapping[str, str]) -> Markup:
    """A bar per score, its count above it; the axis's top is the largest count."""
    counts = [int(distribution.get(s, 0)) for s in SCORES]
    top = max([*counts, 1])
    slot = (W - 2 * PAD) / len(SCORES)
    parts = _axes(top)
    for i, (label, n) in enumerate(zip(SCORES, counts, strict=True)):
        x = PAD + i * slot + slot * 0.2
        height = (H - 2 * PAD) * n / top
        y = H - PAD - height
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{height:.1f}" '
            f'fill="{COLOUR}" data-score="{label}" data-count="{n}"/>'
            f'<text x="{x + slot * 0.3:.1f}" y="{y - 4:.1f}" text-anchor="middle">{whole(n)}</text>'
            f'<text x="{x + slot * 0.3:.1f}" y="{H - PAD + 16}" text-anchor="middle">'
            f"{escape(t['tickets_reports_score_label'].replace('{score}', label))}</text>"
        )
    title = t["tickets_reports_chart_scores"]
    return svg_chart("chart-scores", (W, H), title, _describe(counts, t), parts)


def _axes(top: int) -> list[str]:
    return [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#bbb"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#bbb"/>',
        f'<text x="{PAD - 6}" y="{PAD + 4}" text-anchor="end">{whole(top)}</text>',
        f'<text x="{PAD - 6}" y="{H - PAD + 4}" text-anchor="end">0</text>',
    ]


def _describe(counts: list[int], t: Mapping[str, str]) -> str:
    """The figures in words, for whoever cannot see the bars."""
    each = [
        t["tickets_reports_score_count"].replace("{score}", s).replace("{n}", whole(n))
        for s, n in zip(SCORES, counts, strict=True)
    ]
    return t["tickets_reports_chart_scores_desc"].replace(
        "{counts}", t["list_separator"].join(each)
    )
