"""How charts load (static/js/charts.js, reports/_chart.html): plotly.js only where a chart is drawn, each chart drawn
as it comes into view, the tables open without JavaScript, long-category charts giving way to their tables on narrow
screens, and axe clean with every table open. No timings here: bench/first_chart.py measures the speed."""

import pytest
from django.template import Context, Template

from tests.e2e.conftest import log_in, violations
from tests.reports.test_chart_loading import long_category_chart
from tests.reports.test_charts import build

PLOTLY = "/static/dist/js/plotly"


def drawn(page, chart) -> bool:
    return chart.locator(".main-svg").count() > 0


def table_of(page, chart):
    return page.locator(f"#{chart.get_attribute('id')}-table")


def wait_for_plotly(page):
    page.wait_for_function("() => window.Plotly !== undefined")


def test_charts_are_drawn_as_they_come_into_view(page):
    log_in(page, "ics-qop")
    page.wait_for_load_state()
    page.goto("/ics/QOP/")
    charts = page.locator(".app-chart")
    assert charts.count() >= 3
    first, last = charts.first, charts.last

    first.locator("xpath=..").scroll_into_view_if_needed()
    first.locator(".main-svg").first.wait_for()
    assert first.is_visible() and not table_of(page, first).evaluate("details => details.open")
    page.wait_for_timeout(500)  # frames enough to draw every chart, were they all drawn at once
    assert not drawn(page, last)
    assert last.is_hidden() and table_of(page, last).evaluate("details => details.open")

    last.locator("xpath=..").scroll_into_view_if_needed()
    last.locator(".main-svg").first.wait_for()
    assert last.is_visible() and not table_of(page, last).evaluate("details => details.open")
    # Charts passed over on the way down to the last one were not all drawn.
    assert sum(drawn(page, charts.nth(i)) for i in range(charts.count())) < charts.count()


def test_the_board_pack_draws_every_chart_without_scrolling_and_keeps_its_tables_open(page):
    log_in(page, "ics-qop")
    page.wait_for_load_state()
    page.goto("/ics/QOP/print/")
    charts = page.locator(".app-chart")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.app-chart')].every((chart) => chart.querySelector('.main-svg'))"
    )
    assert charts.count() >= 3
    assert page.locator("details:not([open])").count() == 0


def test_plotly_is_fetched_only_by_pages_with_a_chart(page):
    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    page.goto("/trusts/R0A/?cycle=2026")
    page.wait_for_load_state("networkidle")
    # The trust's 2026 dashboard has the chart module but, with only drafts in the demo cycle, no chart to draw.
    assert page.locator("script[data-plotly]").count() == 1 and page.locator(".app-chart").count() == 0
    assert not any(PLOTLY in url for url in fetched)

    page.goto("/ics/QOP/")
    wait_for_plotly(page)
    assert sum(PLOTLY in url for url in fetched) == 1


def test_without_javascript_every_table_is_open_and_no_chart_box_is_left(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        log_in(page, "ics-qop")
        page.wait_for_load_state()
        page.goto("/ics/QOP/")
        charts = page.locator(".app-chart")
        assert charts.count() >= 3
        for index in range(charts.count()):
            chart = charts.nth(index)
            assert chart.bounding_box() is None  # not rendered: no box, no space
            table = table_of(page, chart)
            assert table.get_attribute("open") is not None
            assert table.locator("table").is_visible()
    finally:
        context.close()


# A page of two charts through the product's own includes, styles and scripts, served at the test server's address
# with the product's script policy: the first flagged as having long category names, as a dashboard flags some.
TWO_CHARTS = Template(
    """{% load static %}<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8"><title>Charts</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="{% static 'dist/css/main.css' %}">
  {% include "reports/_chart_scripts.html" %}
</head>
<body><main class="nhsuk-width-container">
  {% include "reports/_chart.html" with chart=long %}
  {% include "reports/_chart.html" with chart=short %}
</main></body>
</html>"""
)
POLICY = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"


@pytest.fixture
def two_charts(page, live_server):
    html = TWO_CHARTS.render(Context({"long": long_category_chart(build("heatmap")), "short": build("trend")}))
    page.route(
        f"{live_server.url}/two-charts/",
        lambda route: route.fulfill(body=html, content_type="text/html", headers={"Content-Security-Policy": POLICY}),
    )
    return page


@pytest.mark.parametrize("width", [375, 640])  # 640 CSS pixels: a 1280 px window at 200 % zoom
def test_on_a_narrow_screen_a_long_category_chart_shows_its_table_instead(two_charts, width):
    page = two_charts
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/two-charts/")
    long, short = page.locator("#chart-heatmap"), page.locator("#chart-trend")
    short.locator(".main-svg").first.wait_for()
    assert not drawn(page, long) and long.is_hidden()
    assert page.locator("#chart-heatmap-table").evaluate("details => details.open")
    assert page.locator("#chart-heatmap-table table").is_visible()

    # Wider again (a turned tablet, zoom back to 100 %): the chart is drawn and its table closed.
    page.set_viewport_size({"width": 1280, "height": 900})
    long.locator(".main-svg").first.wait_for()
    assert long.is_visible() and not page.locator("#chart-heatmap-table").evaluate("details => details.open")

    page.set_viewport_size({"width": width, "height": 900})
    page.wait_for_function("() => document.getElementById('chart-heatmap').hidden")
    assert page.locator("#chart-heatmap-table").evaluate("details => details.open")


@pytest.mark.parametrize(
    ("user", "url"),
    [
        ("ics-qop", "/ics/QOP/"),
        ("lead-rmc", "/trusts/RMC/"),
        ("analyst", "/national/"),
        ("analyst", "/regions/Y62/"),
    ],
)
def test_axe_finds_nothing_with_every_chart_drawn_and_every_table_open(page, user, url):
    log_in(page, user)
    page.wait_for_load_state()
    page.goto(url)
    figures = page.locator(".app-chart-figure:has(.app-chart)")
    assert figures.count() >= 1
    for index in range(figures.count()):
        figures.nth(index).scroll_into_view_if_needed()
        figures.nth(index).locator(".main-svg").first.wait_for(timeout=60000)
    page.evaluate("() => document.querySelectorAll('details').forEach((details) => { details.open = true; })")
    assert violations(page) == []
