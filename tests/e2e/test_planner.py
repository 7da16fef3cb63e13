"""The next-level planner in a real browser: without JavaScript a lead of a Greater Manchester trust with a
submitted return plans a step, sees the simulation and saves the plan; with it, the planner and the board pack that
lists the plan have no serious or critical axe-core violation."""

import pytest
from django.core.management import call_command

from maturity.models import Assessment, Status
from tests.e2e.conftest import log_in, serious_violations


@pytest.fixture
def submitted(demo_cycle):
    """A Greater Manchester trust's submitted return in the demo cycle with a domain below the top level. The
    summaries are built here, as `make data` builds them: with a broker (CI) the demo data's own refresh waits for a
    worker this test does not start, and the board pack shows a cycle only once it has results."""
    call_command("rebuild_summaries", verbosity=0)
    found = (
        Assessment.objects.filter(cycle__year=2026, status=Status.SUBMITTED, ics__code="QOP", trust__isnull=False)
        .filter(answers__level__lt=5)
        .select_related("trust", "care_setting")
        .order_by("trust__code", "care_setting__position")
        .first()
    )
    assert found is not None
    return found


def test_a_lead_plans_a_step_and_the_ics_reviewer_finds_it_in_the_board_pack(browser, live_server, submitted):
    lead = f"lead-{submitted.trust.code.lower()}"
    overview = f"/trusts/{submitted.trust.code}/assessments/2026/{submitted.care_setting_id}/"
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(20000)
    page = context.new_page()
    try:
        log_in(page, lead)
        page.wait_for_url(f"**/trusts/{submitted.trust.code}/")
        page.goto(overview)
        page.get_by_role("link", name="Next-level planner").click()
        assert page.locator("h1").inner_text() == "Next-level planner"
        planner = page.url

        level = page.locator("select.nhsuk-select").first
        code = level.get_attribute("name").removesuffix("-level")
        level.select_option(index=1)
        page.get_by_role("button", name="Show the simulation").click()
        # A planned level without a date or owner: the error summary names the field.
        assert "enter a target date for the step" in page.locator(".nhsuk-error-summary").inner_text()

        page.locator(f"[name='{code}-target_date']").fill("2027-03-31")
        page.locator(f"[name='{code}-owner']").fill("Chief clinical information officer")
        page.get_by_role("button", name="Show the simulation").click()
        assert "They are not saved until you choose" in page.locator("main").inner_text()
        page.get_by_role("button", name="Save plan").click()
        assert "Plan saved" in page.locator("main").inner_text()
        assert page.locator(f"[name='{code}-owner']").input_value() == "Chief clinical information officer"
    finally:
        context.close()

    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20000)
    page = context.new_page()
    try:
        log_in(page, lead)
        page.wait_for_url(f"**/trusts/{submitted.trust.code}/")
        page.goto(planner)
        page.screenshot(path="/tmp/planner.png", full_page=True)
        assert serious_violations(page) == []
    finally:
        context.close()

    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(20000)
    page = context.new_page()
    try:
        log_in(page, "ics-qop")
        page.wait_for_url("**/ics/QOP/")
        page.goto("/ics/QOP/print/")
        assert submitted.trust.name in page.locator("#improvement-plans").inner_text()
        assert serious_violations(page) == []
    finally:
        context.close()
