"""The frame of a chart drawn on the server as SVG (the communities', sequences' and ticket
reports' figures): an image for assistive technology, named by its title alone (a screen
reader's list of images stays short) and described by its description, in the page's
language. Only the caller's numbers and escaped labels go inside; the title and description
are escaped here."""

from __future__ import annotations

from markupsafe import Markup, escape


def svg_chart(
    chart_id: str, size: tuple[int, int], title: str, desc: str, parts: list[str]
) -> Markup:
    """The chart `chart_id` (its element's id, and its title's and description's prefix)."""
    width, height = size
    svg = (
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" id="{chart_id}" '
        f'aria-labelledby="{chart_id}-title" aria-describedby="{chart_id}-desc" '
        'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>{"".join(parts)}</svg>'
    )
    return Markup(svg)  # noqa: S704 (numbers, fixed names and escaped labels only)
