"""The headline's chart: each pillar's score of the trust or area against its comparators, on the 1–5 scale, drawn
as SVG on the server. It is the first chart a reader meets, so it needs no JavaScript and no plotly.js: it is in
the page's HTML and painted with it (the charts below are drawn by plotly.js as they come into view), and it prints
as it shows. The headline's pillar table beside it carries the same figures, so the drawing is aria-hidden.

Dots, not bars, on a 1–5 axis (a level has no zero); each series on its own line within a pillar's row, so equal
scores never hide each other; series differ by shape as well as colour; every colour reaches 3:1 against white
(non-text contrast) and the text 4.5:1."""

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from reports.dashboards.charts import NHS_BLUE, NHS_DARK_GREY, NHS_PURPLE, NHS_TEXT, SCORE_TICKS

WIDTH = 640
LABEL_WIDTH = 200
RIGHT = 24
TOP = 52
ROW = 34
BOTTOM = 40
GRID = "#AEB7BD"
# The place's own score first, then its comparators (region or ICS, England…): blue circle, grey diamond, purple
# triangle.
SERIES = ((NHS_BLUE, "circle"), (NHS_DARK_GREY, "diamond"), (NHS_PURPLE, "triangle"))


def _x(score: float) -> float:
    low, high = SCORE_TICKS[0], SCORE_TICKS[-1]
    return LABEL_WIDTH + (score - low) / (high - low) * (WIDTH - LABEL_WIDTH - RIGHT)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>'
    if shape == "diamond":
        points = [(x, y - 7), (x + 7, y), (x, y + 7), (x - 7, y)]
    else:
        points = [(x, y - 7), (x + 7, y + 6), (x - 7, y + 6)]
    return f'<polygon points="{" ".join(f"{px:.1f},{py:.1f}" for px, py in points)}" fill="{colour}"/>'


def pillar_positions(place: str, comparator_names: list[str], positions) -> SafeString:
    """SVG of `positions` (headline.Position: name, value, comparators in the order of `comparator_names`, and for
    England, with no comparator, the middle half of returns as `spread`), or "" when there is nothing to draw."""
    names = [place, *comparator_names][: len(SERIES)]
    rows = [p for p in positions if p.value is not None or any(v is not None for v in p.comparators)]
    if not rows:
        return mark_safe("")
    height = TOP + ROW * len(rows) + BOTTOM
    parts = [
        f'<svg class="app-positions" viewBox="0 0 {WIDTH} {height}" width="100%" role="presentation" '
        f'aria-hidden="true" focusable="false" font-family="Arial, sans-serif" font-size="14" fill="{NHS_TEXT}">'
    ]
    # Legend: one entry per series, its marker then its name.
    x = LABEL_WIDTH
    for name, (colour, shape) in zip(names, SERIES, strict=False):
        parts.append(_marker(shape, x + 7, 18, colour))
        parts.append(f'<text x="{x + 20}" y="23">{escape(name)}</text>')
        x += 30 + 8 * len(name)
    if not comparator_names and any(p.spread for p in rows):
        parts.append(f'<line x1="{x}" y1="18" x2="{x + 24}" y2="18" stroke="{NHS_BLUE}" stroke-width="3"/>')
        parts.append(f'<text x="{x + 30}" y="23">middle half of returns</text>')
    # Grid and scale.
    bottom = TOP + ROW * len(rows)
    for tick in SCORE_TICKS:
        tx = _x(tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{TOP - 6}" x2="{tx:.1f}" y2="{bottom}" stroke="{GRID}"/>')
        parts.append(f'<text x="{tx:.1f}" y="{bottom + 18}" text-anchor="middle">{tick}</text>')
    parts.append(
        f'<text x="{_x(3):.1f}" y="{bottom + 36}" text-anchor="middle" font-size="13">Mean score (level 1 to 5)</text>'
    )
    for index, position in enumerate(rows):
        middle = TOP + ROW * index + ROW / 2
        parts.append(
            f'<text x="{LABEL_WIDTH - 12}" y="{middle + 5:.1f}" text-anchor="end">{escape(position.name)}</text>'
        )
        values = [position.value, *position.comparators][: len(SERIES)]
        drawn = [(value, series) for value, series in zip(values, SERIES, strict=False) if value is not None]
        offsets = [(i - (len(drawn) - 1) / 2) * 9 for i in range(len(drawn))]
        if not comparator_names and position.spread:
            low, high = position.spread
            parts.append(
                f'<line x1="{_x(low):.1f}" y1="{middle:.1f}" x2="{_x(high):.1f}" y2="{middle:.1f}" '
                f'stroke="{NHS_BLUE}" stroke-width="3"/>'
            )
        for (value, (colour, shape)), offset in zip(drawn, offsets, strict=True):
            parts.append(_marker(shape, _x(value), middle + offset, colour))
    parts.append("</svg>")
    return mark_safe("".join(parts))
