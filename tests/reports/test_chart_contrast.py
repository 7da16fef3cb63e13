"""Text drawn in the charts keeps a contrast of at least 4.5:1 with what lies behind it (WCAG 2.2, 1.4.3), checked
from each figure's own colours: every figure of every dashboard built from a fixture, and every builder's variants.

axe cannot see into the charts' SVG (they are aria-hidden; the tables carry the data), so this is the check. Text
whose colour plotly.js would choose itself (a heatmap's own cell text, text inside bars, hover labels on a trace's
colour) cannot be checked from the figure, so the walk requires such colours to be given. The WCAG formulas are
written out here rather than taken from reports.dashboards.charts, so that the test does not trust the code under
test."""

import re

import pytest

from tests.reports.test_charts import figure_variants
from tests.reports.test_dashboards import build_world

MINIMUM = 4.5


# --- WCAG 2.x contrast ---------------------------------------------------------------------------------------------


def rgb(colour: str) -> tuple[float, ...]:
    colour = colour.strip()
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    match = re.fullmatch(r"rgba?\(([^)]*)\)", colour)
    assert match, f"a colour this test cannot read: {colour!r}"
    parts = [float(part) for part in match.group(1).split(",")]
    assert len(parts) == 3 or parts[3] == 1, f"text on a translucent colour cannot be checked: {colour!r}"
    return tuple(parts[:3])


def luminance(colour: str) -> float:
    channels = []
    for value in rgb(colour):
        c = value / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def scale_colour(scale: list, fraction: float) -> str:
    """The colour plotly.js draws at `fraction` of a colourscale: linear in RGB between its stops."""
    fraction = min(1.0, max(0.0, fraction))
    for (low, low_colour), (high, high_colour) in zip(scale, scale[1:], strict=False):
        if fraction <= high:
            share = 0 if high == low else (fraction - low) / (high - low)
            mixed = [a + (b - a) * share for a, b in zip(rgb(low_colour), rgb(high_colour), strict=True)]
            return "#" + "".join(f"{round(c):02X}" for c in mixed)
    return scale[-1][1]


# --- Walking a figure ----------------------------------------------------------------------------------------------


def per_point(value, count: int) -> list:
    return list(value) if isinstance(value, list) else [value] * count


def heatmap_cells(trace: dict) -> dict:
    """(x, y) -> the colour of that cell, for every cell with a value."""
    low, high = trace["zmin"], trace["zmax"]
    cells = {}
    for y, row in zip(trace["y"], trace["z"], strict=True):
        for x, z in zip(trace["x"], row, strict=True):
            if z is not None:
                cells[(x, y)] = scale_colour(trace["colorscale"], (z - low) / (high - low))
    return cells


def text_on_figure(figure: dict) -> list[tuple[str, str, str]]:
    """Every text the figure draws, as (where, text colour, background colour)."""
    layout, data = figure["layout"], figure["data"]
    if not data:
        return []
    assert "color" in layout.get("font", {}), "the figure's text colour is left to plotly.js"
    paper = layout.get("paper_bgcolor")
    plot = layout.get("plot_bgcolor")
    assert paper and plot, "the figure's backgrounds are left to plotly.js"
    base = layout["font"]["color"]

    def colour(font: dict | None) -> str:
        return (font or {}).get("color", base)

    found = []
    # Axis titles and tick labels sit on the paper, and may reach over the plot area.
    for key, axis in layout.items():
        if re.fullmatch(r"[xy]axis\d*", key):
            title = axis.get("title", {})
            for where, font in ((f"{key} ticks", axis.get("tickfont")), (f"{key} title", title.get("font"))):
                found += [(where, colour(font), paper), (where, colour(font), plot)]
    if layout.get("showlegend", True):
        legend = layout.get("legend", {})
        found.append(("legend", colour(legend.get("font")), legend.get("bgcolor", paper)))
    for annotation in layout.get("annotations", []):
        backgrounds = [annotation["bgcolor"]] if annotation.get("bgcolor") else [paper, plot]
        found += [("annotation", colour(annotation.get("font")), bg) for bg in backgrounds]
    for shape in layout.get("shapes", []):
        if shape.get("label", {}).get("text"):
            found.append(("shape label", colour(shape["label"].get("font")), plot))

    hover = layout.get("hoverlabel", {})
    assert "bgcolor" in hover and "color" in hover.get("font", {}), "hover labels take the trace's colours"
    found.append(("hover label", hover["font"]["color"], hover["bgcolor"]))

    cells = {}
    for trace in data:
        if trace["type"] == "heatmap":
            cells.update(heatmap_cells(trace))
    for number, trace in enumerate(data):
        where = f"trace {number} ({trace['type']} {trace.get('name', '')})"
        if "hoverlabel" in trace:
            own = trace["hoverlabel"]
            found.append(
                (f"{where} hover", colour(own.get("font", hover.get("font"))), own.get("bgcolor", hover["bgcolor"]))
            )
        if trace["type"] == "heatmap":
            if trace.get("texttemplate") or trace.get("text"):
                text_colour = trace.get("textfont", {}).get("color")
                assert text_colour, f"{where}: cell text coloured by plotly.js"
                found += [(f"{where} cell {xy}", text_colour, bg) for xy, bg in heatmap_cells(trace).items()]
            colorbar = trace.get("colorbar", {})
            found.append((f"{where} colour bar", colour(colorbar.get("tickfont")), paper))
        elif trace["type"] == "bar" and trace.get("text"):
            texts = trace["text"] if isinstance(trace["text"], list) else [trace["text"]] * len(trace["x"])
            position = trace.get("textposition", "auto")
            if position in ("inside", "auto"):
                font = trace.get("insidetextfont") or trace.get("textfont") or {}
                assert "color" in font, f"{where}: text inside bars coloured by plotly.js"
                fills = per_point(trace["marker"]["color"], len(texts))
                colours = per_point(font["color"], len(texts))
                found += [
                    (f"{where} bar {i}", c, f)
                    for i, (t, c, f) in enumerate(zip(texts, colours, fills, strict=True))
                    if t
                ]
            else:
                font = trace.get("outsidetextfont") or trace.get("textfont")
                found.append((f"{where} text", colour(font), plot))
        elif trace["type"] == "scatter" and "text" in trace.get("mode", ""):
            colours = per_point(colour(trace.get("textfont")), len(trace["x"]))
            for x, y, text_colour in zip(trace["x"], trace["y"], colours, strict=True):
                found.append((f"{where} text at {x}, {y}", text_colour, cells.get((x, y), plot)))
    return found


def low_contrast(figure: dict) -> list[str]:
    return [
        f"{where}: {text} on {background} is {contrast(text, background):.2f}:1"
        for where, text, background in text_on_figure(figure)
        if contrast(text, background) < MINIMUM
    ]


# --- The checks ----------------------------------------------------------------------------------------------------


def test_the_walk_finds_text_below_the_minimum():
    """The check itself: white on NHS orange (2.5:1) and plotly.js's own heatmap text are caught."""
    layout = {
        "font": {"color": "#212B32"},
        "paper_bgcolor": "#FFFFFF",
        "plot_bgcolor": "#FFFFFF",
        "hoverlabel": {"font": {"color": "#212B32"}, "bgcolor": "#FFFFFF"},
    }
    bars = {
        "type": "bar",
        "x": [1],
        "y": ["a"],
        "text": ["1"],
        "textposition": "inside",
        "marker": {"color": "#ED8B00"},
        "insidetextfont": {"color": "#FFFFFF"},
    }
    assert low_contrast({"data": [bars], "layout": layout}) == ["trace 0 (bar ) bar 0: #FFFFFF on #ED8B00 is 2.53:1"]
    heatmap = {"type": "heatmap", "x": ["a"], "y": ["b"], "z": [[3]], "zmin": 1, "zmax": 5, "texttemplate": "%{z}",
               "colorscale": [[0, "#E6EFF8"], [1, "#003087"]]}  # fmt: skip
    with pytest.raises(AssertionError, match="cell text coloured by plotly.js"):
        low_contrast({"data": [heatmap], "layout": layout})
    assert contrast("#FFFFFF", "#000000") == pytest.approx(21)


@pytest.fixture
def dashboards(db):
    """Every dashboard as an analyst (who sees every chart) and as a trust's lead (who sees fewer, by other paths)."""
    from reports.dashboards import sections
    from tests.factories import analyst, lead_of

    world = build_world()
    year, cycles = sections.choose_cycle(None)
    built = []
    for user in (analyst(), lead_of(world.trusts[0])):
        built += [
            sections.area_dashboard(None, year, cycles, user).load(),
            sections.area_dashboard(world.north, year, cycles, user).load(),
            sections.ics_dashboard(world.qop, year, cycles, user).load(),
            sections.trust_dashboard(world.trusts[0], year, cycles, user).load(),
        ]
    return built


def test_every_text_in_every_dashboard_chart_reads_at_4_5_to_1(dashboards):
    charts = [chart for dashboard in dashboards for section in dashboard.sections for chart in section.charts]
    drawn = [chart for chart in charts if not chart.is_empty]
    assert len(drawn) > 20
    assert any(chart.figure["data"][0]["type"] == "heatmap" for chart in drawn)
    problems = {chart.id: low_contrast(chart.figure) for chart in drawn}
    assert not {chart_id: found for chart_id, found in problems.items() if found}


def test_every_text_in_every_builders_figures_reads_at_4_5_to_1():
    problems = {chart.id: low_contrast(chart.figure) for chart in figure_variants()}
    assert not {chart_id: found for chart_id, found in problems.items() if found}
