"""Every dashboard draws its charts and passes axe-core, for the role that lands on it."""

import pytest

from tests.e2e.conftest import log_in, serious_violations


@pytest.mark.parametrize(
    ("user", "url"),
    [
        ("ics-qop", "/ics/QOP/"),
        ("ics-qop", "/ics/QOP/print/"),
        ("lead-rmc", "/trusts/RMC/"),
        ("analyst", "/national/"),
        ("analyst", "/regions/Y62/?cycle=2025"),
    ],
)
def test_dashboards_draw_their_charts_and_pass_axe(page, user, url):
    log_in(page, user)
    page.wait_for_load_state()
    page.goto(url)
    # Charts are drawn as they come into view (static/js/charts.js): go to the first one.
    page.locator(".app-chart").first.locator("xpath=..").scroll_into_view_if_needed()
    page.locator(".app-chart .main-svg").first.wait_for(timeout=15000)
    assert page.locator(".app-chart").count() >= 3
    assert serious_violations(page) == []
