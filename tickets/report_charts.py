"""The ticket reports' charts, drawn on the server as the communities' charts are
(`kith.communities.charts`): how many answers gave each score from 1 to 5, and the share of
SLA targets met per metric. Only numbers and escaped labels reach the markup; each chart has
a title and a description giving the same figures, and the page shows them as text too."""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup, escape

from kith.tickets.report_numbers import percent, whole
from kith.tickets.sla_models import Metric
from kith.tickets.sla_report import Met
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


def sla_bars(metrics: Mapping[Metric, Met], t: Mapping[str, str]) -> Markup:
    """A bar per metric, "% met" above it, on an axis from 0 to 100%: every metric the SLA
    knows, so that one never measured reads "none yet" instead of vanishing."""
    slot = (W - 2 * PAD) / len(metrics)
    parts = _axes(100, t["tickets_reports_percent"].replace("{n}", "100"))
    for i, (metric, met) in enumerate(metrics.items()):
        parts.append(_sla_bar(PAD + i * slot, slot, metric, met, t))
    each = [
        t["tickets_reports_sla_metric_met"]
        .replace("{metric}", t["ticket_sla_" + m.value])
        .replace("{percent}", _met_words(met, t))
        for m, met in metrics.items()
    ]
    desc = t["tickets_reports_chart_sla_desc"].replace("{metrics}", t["list_separator"].join(each))
    return svg_chart("chart-sla", (W, H), t["tickets_reports_chart_sla"], desc, parts)


def _sla_bar(left: float, slot: float, metric: Metric, met: Met, t: Mapping[str, str]) -> str:
    """One metric's bar in its slot, from `left`: its percent above, its name below."""
    x, middle = left + slot * 0.2, left + slot * 0.5
    height = (H - 2 * PAD) * (met.percent or 0) / 100
    y = H - PAD - height
    measured = "" if met.percent is None else met.percent  # 0% is measured: none met
    return (
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{height:.1f}" '
        f'fill="{COLOUR}" data-metric="{metric.value}" data-percent="{measured}"/>'
        f'<text x="{middle:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
        f"{escape(percent(met.percent, t))}</text>"
        f'<text x="{middle:.1f}" y="{H - PAD + 16}" text-anchor="middle">'
        f"{escape(t['ticket_sla_' + metric.value])}</text>"
    )


def _met_words(met: Met, t: Mapping[str, str]) -> str:
    """The share met as the page's figures write it, "50% (1 of 2)", so that the chart's
    description reads as the figures beside it; "none yet" when nothing was measured."""
    if met.percent is None:
        return percent(None, t)
    return (
        t["tickets_reports_met_of"]
        .replace("{percent}", percent(met.percent, t))
        .replace("{met}", whole(met.met))
        .replace("{total}", whole(met.met + met.missed))
    )


def _axes(top: int, top_label: str | None = None) -> list[str]:
    label = escape(top_label or whole(top))
    return [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#bbb"/>',
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#bbb"/>',
        f'<text x="{PAD - 6}" y="{PAD + 4}" text-anchor="end">{label}</text>',
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
