"""The whole round of one return, as its people live it, with the e-mails between them delivered through a real SMTP
server: the lead fills the return (warned before leaving unsaved answers, guided by the missing list), checks the
answers and submits; the reviewer is e-mailed, opens the review from the e-mail with the published figures beside
each answer and returns it with a comment; the lead is e-mailed that comment, amends and resubmits; the reviewer
approves and the lead is told."""

import re

import pytest
from django.core.management import call_command
from django.test import override_settings

from maturity.models import Assessment, Status
from notifications import sending
from tests.e2e.conftest import log_in, serious_violations
from tests.e2e.test_assessment_journeys import ASSESSMENT, fill_every_pillar, fill_indicators, sign_off_and_submit

LEAD, REVIEWER = "lead-r0a@dma-demo.example", "ics-qop@dma-demo.example"
COMMENT = "Attach the board minutes that approved the digital strategy."


@pytest.fixture
def published_demo(demo_world):
    """`make run`'s data: the demo cycle beside NHS England's published results (DMA 2025, DSPT, devices)."""
    call_command("load_frameworks", verbosity=0)
    call_command("import_published", verbosity=0)
    with override_settings(DEBUG=True):
        call_command("load_demo_data", verbosity=0)


def delivered(smtp_server, address):
    """The e-mails that reached `address`. With a broker there is no worker in this test: the sweep sends what the
    outbox holds, as beat would."""
    sending.sweep()
    return smtp_server.to(address)


def link_in(email, ending):
    return next(
        re.search(r"https?://\S+", line).group(0) for line in email.get_content().splitlines() if line.endswith(ending)
    )


def test_a_return_goes_round_by_email_until_it_is_approved(page, live_server, published_demo, smtp_server, settings):
    settings.SITE_URL = live_server.url
    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")

    # A lead who picks an answer and follows a pillar link is asked before the answer is lost.
    page.goto(ASSESSMENT + "pillars/well_led/")
    page.locator("#WL01-level-3").check()
    asked = []
    page.once("dialog", lambda dialog: asked.append(dialog.message) or dialog.dismiss())
    page.get_by_role("navigation", name="Pages of this assessment").get_by_role("link", name="Safe Practice").click()
    assert asked and "not been saved" in asked[0]
    assert page.url.endswith("/pillars/well_led/")
    page.get_by_role("button", name="Save as draft").first.click()
    assert "Well Led saved" in page.locator("main").inner_text()

    # What is still to answer, by pillar, each linked to its question.
    page.goto(ASSESSMENT + "submit/")
    missing = page.locator("#missing")
    assert "Ensure Smart Foundations" in missing.inner_text()
    assert "WL01" not in missing.inner_text()
    missing.get_by_role("link", name=re.compile(r"^SF\d+ ")).first.click()
    assert re.search(r"/pillars/smart_foundations/#SF\d+-level$", page.url)
    assert serious_violations(page) == []

    fill_every_pillar(page)
    fill_indicators(page)
    assert page.url.endswith("/check/")
    page.get_by_role("link", name="Continue to sign-off").click()
    sign_off_and_submit(page)
    assert "Assessment submitted" in page.locator("main").inner_text()
    page.get_by_role("button", name="Log out").click()

    # The reviewer is e-mailed, and opens the review from the e-mail.
    [submitted] = delivered(smtp_server, REVIEWER)
    assert "Manchester University NHS Foundation Trust" in submitted["Subject"]
    log_in(page, "ics-qop")
    page.wait_for_url("**/ics/QOP/")
    page.goto(link_in(submitted, "/review/"))
    main = page.locator("main").inner_text()
    assert re.search(r"Submitted by\s+lead-r0a", main)
    # Beside the answers: the trust's published 2025 pillar scores (last year's published return has no domain
    # levels) and NHS England's published DSPT and device figures beside the entered indicators.
    assert "NHS England's published 2025 score" in main
    indicators = page.locator("table", has_text="Published national figure")
    assert re.search(r"Standards (Met|Not Met|Exceeded)|Approaching Standards", indicators.inner_text())
    assert serious_violations(page) == []
    page.get_by_text("Add a comment on WL01").click()
    page.get_by_label("Comment on WL01").fill(COMMENT)
    page.get_by_role("button", name="Return for changes").first.click()
    assert "returned to the trust" in page.locator("main").inner_text()
    page.get_by_role("button", name="Log out").click()

    # The lead is e-mailed the comment, amends and resubmits.
    [returned] = delivered(smtp_server, LEAD)
    assert COMMENT in returned.get_content()
    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")
    page.goto(link_in(returned, "/acute/"))
    assert "returned this assessment for changes" in page.locator("main").inner_text()
    page.get_by_role("link", name="Well Led").first.click()
    assert COMMENT in page.locator("main").inner_text()
    page.locator("#WL01-level-4").check()
    page.get_by_role("button", name="Save as draft").first.click()
    page.goto(ASSESSMENT + "check/")
    page.get_by_role("link", name="Continue to sign-off").click()
    sign_off_and_submit(page)
    page.get_by_role("button", name="Log out").click()

    # The reviewer is told again, and approves; the lead is told.
    assert len(delivered(smtp_server, REVIEWER)) == 2
    log_in(page, "ics-qop")
    page.wait_for_url("**/ics/QOP/")
    page.goto(ASSESSMENT + "review/")
    page.get_by_role("button", name="Approve").first.click()
    assert "Assessment approved" in page.locator("main").inner_text()
    approved = delivered(smtp_server, LEAD)[-1]
    assert "approved" in approved["Subject"].lower()
    assessment = Assessment.objects.get(trust__code="R0A", care_setting_id="acute", cycle__year=2026)
    assert assessment.status == Status.APPROVED
    assert assessment.answers.get(domain__code="WL01").level == 4
