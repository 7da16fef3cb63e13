"""In Chromium: the e-mail choices page, and a reviewer following the link in the e-mail a submission sent."""

import pytest

from maturity import actions
from notifications import sending
from tests.e2e.conftest import BUILT_CSS, CHROMIUM, serious_violations
from tests.notifications.conftest import fill, submit_kwargs

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"needs Debian's Chromium at {CHROMIUM}"),
    pytest.mark.skipif(not BUILT_CSS.exists(), reason="needs the built NHS.UK styles (make static)"),
]


def log_in(page, user):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill("secret-password")
    page.get_by_role("button", name="Log in").click()


def test_a_reviewer_switches_submissions_off_from_the_header(transactional_world, page):
    log_in(page, transactional_world.users["reviewer"])

    page.get_by_role("link", name="E-mail notifications").click()
    box = page.get_by_label("A member trust submits an assessment for your review")
    assert box.is_checked()
    assert serious_violations(page) == []
    box.uncheck()
    page.get_by_role("button", name="Save choices").click()

    assert page.get_by_text("Your e-mail choices were saved.").is_visible()
    assert not page.get_by_label("A member trust submits an assessment for your review").is_checked()
    assert page.get_by_label("An assessment of yours is approved").is_checked()


def test_a_reviewer_opens_the_review_page_from_the_submission_email(
    transactional_world,
    page,
    live_server,
    smtp_server,
    settings,
):
    settings.SITE_URL = live_server.url
    lead = transactional_world.users["lead"]
    fill(transactional_world.assessment, lead)
    actions.submit_assessment(**submit_kwargs(transactional_world.assessment, lead))
    sending.sweep()  # with REDIS_URL: no worker here, so the sweep sends it
    [email] = smtp_server.to("reviewer@qop.example.nhs.uk")
    link = next(line for line in email.get_content().splitlines() if line.endswith("/review/"))

    log_in(page, transactional_world.users["reviewer"])
    page.goto(link)

    assert page.title().startswith("Review – Manchester University NHS Foundation Trust")
