"""Queries and verified evidence in a real browser: a lead's return whose cyber level contradicts its DSPT status is
warned about before submitting; the reviewer sends the check as a query with a return; the lead explains the answer
beside it and resubmits; the reviewer reads the explanation, marks the evidence verified and approves, which
resolves the query; the ICS dashboard then counts the verified score in its share.

Summaries are refreshed as in production: by a real Celery worker on Redis where the suite has the real services,
by eager Celery at the commit otherwise.

The answers are saved through the actions before the browser starts (the fill-in journey has its own tests), so
the browser walks only the query's way: check your answers, submit, review, answer, resubmit, approve."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from maturity import actions
from maturity.models import Assessment, ReviewQuery, Status
from tests.conftest import real_services
from tests.e2e.conftest import log_in, serious_violations
from tests.e2e.test_assessment_journeys import ASSESSMENT, sign_off_and_submit

QUERY = "WL06 Cyber security governance is at level 4, but the DSPT status is Approaching Standards"
EXPLANATION = "Our DSPT action plan closed the gaps in October; the toolkit republishes in June."


@pytest.fixture
def summaries_refreshed(request):
    """What refreshes the summaries after each action: a real worker with the real services (started before the
    demo data, so that it also builds the summaries the data's loading asks for); eager Celery otherwise."""
    if real_services():
        request.getfixturevalue("celery_worker_process")


def verified_share_shown(page, url: str, seconds: float = 30) -> str:
    """The ICS dashboard's sentence on verified evidence once it counts a verified score (the refresh runs after
    the approval commits); reloads until then."""
    deadline = time.monotonic() + seconds
    while True:
        page.goto(url)
        sentence = page.locator("main").get_by_text(re.compile(r"scores are backed by verified evidence")).first
        text = sentence.inner_text() if sentence.count() else ""
        if text and not text.startswith("0 %") or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


@pytest.fixture
def contradicting_return(summaries_refreshed, demo_cycle):
    """R0A's acute draft, answered in full: every domain at level 3 but Cyber security governance (WL06) at 4,
    while the DSPT status entered is Approaching Standards, which the DSPT check of the rules file questions."""
    call_command("load_checks", verbosity=0)
    assessment = Assessment.objects.get(trust__code="R0A", care_setting_id="acute", cycle__year=2026)
    levels = {domain.code: {"level": "3"} for domain in assessment.applicable_domains()}
    actions.save_answers(
        by=get_user_model().objects.get(username="lead-r0a"),
        assessment=assessment,
        expected_version=assessment.version,
        answers=levels | {"WL06": {"level": "4", "evidence_note": "Board cyber assurance report"}},
        indicators={
            "epr_in_place": "yes",
            "epr_supplier": "Epic",
            "unsupported_devices_pct": "4",
            "dspt_status": "Approaching Standards",
            "digital_spend_pct": "4",
            "ddat_vacancy_pct": "4",
        },
    )
    return assessment


def test_a_query_goes_to_the_trust_is_explained_then_the_evidence_verified_and_approved(page, contradicting_return):
    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")
    page.goto(ASSESSMENT + "check/")
    warnings = page.locator("#checks")
    assert "Answers to check" in warnings.inner_text() and QUERY in warnings.inner_text()
    # A warning, not a bar: the way to sign-off is open.
    page.get_by_role("link", name="Continue to sign-off").click()
    sign_off_and_submit(page)
    assert "Assessment submitted" in page.locator("main").inner_text()
    page.get_by_role("button", name="Log out").click()

    log_in(page, "ics-qop")
    page.wait_for_url("**/ics/QOP/")
    page.goto(ASSESSMENT + "review/")
    assert QUERY in page.locator("main").inner_text()
    page.get_by_label("Send this query to the trust about WL06").check()
    assert serious_violations(page) == []
    page.get_by_role("button", name="Return for changes").first.click()
    assert "returned to the trust" in page.locator("main").inner_text()
    page.get_by_role("button", name="Log out").click()

    log_in(page, "lead-r0a")
    page.wait_for_url("**/trusts/R0A/")
    page.goto(ASSESSMENT)
    queries = page.locator("#queries")
    assert "Queries from your reviewer" in queries.inner_text() and "Not answered" in queries.inner_text()
    queries.get_by_role("link", name="Answer the query on WL06").click()
    page.wait_for_url("**/pillars/well_led/#query-*")
    query = page.locator(".nhsuk-warning-callout", has_text="Query from your reviewer on WL06")
    assert QUERY in query.inner_text()
    assert serious_violations(page) == []
    query.get_by_label("Explain: the answer stands").check()
    query.get_by_label("Explanation").fill(EXPLANATION)
    query.get_by_role("button", name="Save your answer").click()
    assert "Your answer to the query on WL06 is saved" in page.locator("main").inner_text()
    page.goto(ASSESSMENT + "submit/")
    sign_off_and_submit(page)
    assert "Assessment submitted" in page.locator("main").inner_text()
    page.get_by_role("button", name="Log out").click()

    log_in(page, "ics-qop")
    page.wait_for_url("**/ics/QOP/")
    page.goto(ASSESSMENT + "review/")
    sent = page.locator("[id^=sent-query-]")
    assert QUERY in sent.inner_text() and f"Explained the answer: {EXPLANATION}" in sent.inner_text()
    page.get_by_label("Evidence verified for WL06").check()
    page.get_by_role("button", name="Approve").last.click()
    assert "Assessment approved" in page.locator("main").inner_text()

    query = ReviewQuery.objects.get(assessment=contradicting_return)
    assert (query.answer, query.is_open) == ("explained", False)
    assert Assessment.objects.get(pk=contradicting_return.pk).status == Status.APPROVED
    page.goto(ASSESSMENT + "history/")
    history = page.locator("#queries + table").inner_text()
    assert "Resolved" in history and EXPLANATION in history
    page.goto(ASSESSMENT + "pillars/well_led/")
    assert "Evidence verified by" in page.locator("main").inner_text()

    # One verified score among Greater Manchester's counted returns: a share above nothing, under 1 %.
    sentence = verified_share_shown(page, "/ics/QOP/")
    assert sentence.startswith("Under 1 % of Greater Manchester's scores are backed by verified evidence"), sentence
