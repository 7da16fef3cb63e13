"""The chart include as served, before static/js/charts.js runs: what a reader gets without JavaScript, and the
attributes charts.js reads to draw lazily (tests/e2e/test_chart_loading.py drives them in a browser)."""

import re
from types import SimpleNamespace

from django.template.loader import render_to_string

from tests.reports.test_charts import build


def long_category_chart(chart):
    """The chart flagged as having long category names, as the dashboards flag some (Chart.long_categories)."""
    fields = {name: getattr(chart, name) for name in type(chart).__slots__}
    return SimpleNamespace(**{**fields, "is_empty": chart.is_empty, "long_categories": True})


def tag(html, pattern):
    return re.search(pattern, html).group(0)


def test_as_served_the_table_is_open_and_the_drawing_area_hidden():
    html = render_to_string("reports/_chart.html", {"chart": build("trend")})
    chart = tag(html, r'<div class="app-chart"[^>]*>')
    details = tag(html, r"<details[^>]*>")
    assert " hidden" in chart and "data-draw" not in chart and "data-long-categories" not in chart
    assert (
        details
        == '<details class="nhsuk-details nhsuk-u-margin-bottom-3" id="chart-trend-table" open data-close-when-drawn>'
    )


def test_the_board_pack_draws_every_chart_at_once_whatever_its_categories():
    """Paper has no narrow screen: the pack's charts never give way to their tables, nor wait to be scrolled to."""
    chart = long_category_chart(build("heatmap"))
    html = render_to_string("reports/_chart_drawing.html", {"chart": chart, "open_tables": True})
    drawing = tag(html, r'<div class="app-chart"[^>]*>')
    assert 'data-draw="at-once"' in drawing and "data-long-categories" not in drawing


def test_a_chart_with_long_categories_is_flagged_for_narrow_screens():
    chart = build("trend")
    assert not chart.long_categories and build("heatmap").long_categories
    assert "data-long-categories" not in render_to_string("reports/_chart.html", {"chart": chart})
    html = render_to_string("reports/_chart.html", {"chart": long_category_chart(chart)})
    assert "data-long-categories" in tag(html, r'<div class="app-chart"[^>]*>')
