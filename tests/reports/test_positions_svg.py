"""The headline's pillar chart, drawn on the server as SVG (reports/dashboards/positions_svg.py)."""

import re

from reports.dashboards import positions_svg
from reports.dashboards.charts import NHS_TEXT, contrast_ratio
from reports.dashboards.headline import Position

PAGE_BACKGROUNDS = ("#FFFFFF", "#F0F4F5")  # white, and NHS.UK's page grey


def test_each_series_is_a_dot_on_the_1_to_5_scale_each_on_its_own_line():
    svg = positions_svg.pillar_positions(
        "Greater Manchester",
        ["North West", "England"],
        [Position("Overall", 3.0, 10, comparators=[3.0, 3.0]), Position("Well Led", 1.0, 10, comparators=[5.0, None])],
    )
    circles = [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]
    # The legend's circle, then one per row for the place itself.
    legend, overall, well_led = circles
    assert overall[0] == positions_svg._x(3.0) and well_led[0] == positions_svg._x(1.0)
    # Equal scores still show apart: the place's dot and its comparators' markers sit on lines of their own (a
    # diamond's or triangle's first point is its top, 7 above its centre).
    polygons = re.findall(r'<polygon points="([\d.]+),([\d.]+)[^"]*" fill="(#[0-9A-F]+)"', svg)
    overall_centres = {overall[1], *(float(y) + 7 for _, y, _ in polygons[2:4])}
    assert len(overall_centres) == 3
    # A missing comparator is left out, not drawn at 0 or 1.
    assert len(polygons) == 2 + 2 + 1
    assert "No data" not in svg and ">1</text>" in svg and ">5</text>" in svg


def test_names_are_escaped_and_nothing_is_drawn_without_scores():
    svg = positions_svg.pillar_positions("<b>Trust</b> & co", [], [Position("Well <Led>", 2.5, 3)])
    assert "&lt;b&gt;Trust&lt;/b&gt; &amp; co" in svg and "Well &lt;Led&gt;" in svg
    assert positions_svg.pillar_positions("X", ["England"], [Position("Overall", None, 0, [None])]) == ""


def test_england_shows_the_middle_half_of_returns_as_a_line():
    svg = positions_svg.pillar_positions("England", [], [Position("Overall", 2.5, 200, spread=(2.0, 3.0))])
    assert f'x1="{positions_svg._x(2.0):.1f}"' in svg and f'x2="{positions_svg._x(3.0):.1f}"' in svg
    assert "middle half of returns" in svg


def test_markers_and_text_read_against_the_page():
    for background in PAGE_BACKGROUNDS:
        assert contrast_ratio(NHS_TEXT, background) >= 4.5
        for colour, _ in positions_svg.SERIES:
            assert contrast_ratio(colour, background) >= 3, colour
