"""Journey 3 and 4 in a real browser: a submission reaches the ICS dashboard within seconds (through Redis and a real
Celery worker where the services are there, eagerly otherwise)."""

import time

import pytest
from django.core.management import call_command

from tests.conftest import real_services
from tests.e2e.conftest import log_in, serious_violations
from tests.e2e.test_assessment_journeys import fill_every_pillar, fill_indicators, sign_off_and_submit

HEATMAP_ROW = "Manchester University NHS Foundation Trust – Acute"


@pytest.fixture
def refreshes(request, demo_cycle):
    """Where the refresh runs: a real worker on Redis (CI), or in the web process (no REDIS_URL)."""
    call_command("rebuild_summaries", verbosity=0)
    if real_services():
        return request.getfixturevalue("celery_worker_process")
    return None


def heatmap_rows(page) -> str:
    """The ICS heatmap's data as the logged-in user downloads it (its CSV link)."""
    return page.request.get("/ics/QOP/?cycle=2026&chart=heatmap&format=csv").text()


def test_a_submission_shows_on_the_ics_dashboard_within_seconds(page, refreshes):
    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")
    assert HEATMAP_ROW not in heatmap_rows(page)

    fill_every_pillar(page, level="4")
    fill_indicators(page)
    page.get_by_role("link", name="Continue to sign-off").click()
    sign_off_and_submit(page)
    assert "Assessment submitted" in page.locator("main").inner_text()

    deadline = time.monotonic() + 30
    while HEATMAP_ROW not in (rows := heatmap_rows(page)):
        assert time.monotonic() < deadline, f"the submission did not reach the ICS dashboard in 30 s: {rows}"
        time.sleep(0.5)
    assert f"{HEATMAP_ROW},4.0,4.0" in rows
    page.goto("/ics/QOP/")
    assert serious_violations(page) == []
