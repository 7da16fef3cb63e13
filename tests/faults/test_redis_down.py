"""Redis, the broker and the cache, goes down while people are working. Their saves and submissions still succeed
(written, audited, marked for refresh), the pages still render (the cache fails soft: config.cache), and once Redis
is back the sweep refreshes what the broker missed, and the web server sends tasks again."""

import re

import pytest
import requests
from django.test import Client

from maturity.models import AuditEvent, DomainAnswer, RefreshMark, Status
from reports.models import PillarScore
from reports.tasks import sweep_refresh_marks
from tests.conftest import _test_database_url
from tests.factories import AssessmentFactory, CycleFactory, ICSFactory, TrustFactory, lead_of, reviewer_of
from tests.faults.conftest import FAULT_MARKS

pytestmark = FAULT_MARKS

URL = "/trusts/R0A/assessments/2026/acute/"


@pytest.fixture
def world(transactional_db):
    """Committed, for the web server's own connection: R0A's draft assessment, its lead and its ICS's reviewer."""
    ics = ICSFactory(code="QOP")
    trust = TrustFactory(code="R0A", ics=ics)
    assessment = AssessmentFactory(cycle=CycleFactory(), trust=trust)
    return assessment, lead_of(trust), reviewer_of(ics)


def browser_of(user, server) -> requests.Session:
    """A requests session logged in as `user` (the session is in the database, which the server reads when its
    cache cannot answer)."""
    client = Client()
    client.force_login(user)
    browser = requests.Session()
    browser.cookies.set("sessionid", client.cookies["sessionid"].value, domain="127.0.0.1")
    browser.server = server
    return browser


def get(browser, path) -> requests.Response:
    response = browser.get(browser.server.url(path), timeout=30, allow_redirects=False)
    assert response.status_code == 200, f"GET {path}: {response.status_code}\n{response.text[:2000]}"
    return response


def post(browser, path, data) -> None:
    """Post the form on the page at `path`, as a browser does: with the CSRF token the page gave."""
    page = get(browser, path).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(
        browser.server.url(path),
        data={**data, "csrfmiddlewaretoken": token},
        headers={"Referer": browser.server.url(path)},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, f"POST {path}: {response.status_code}\n{response.text[:2000]}"


def test_with_redis_down_saves_succeed_pages_render_and_the_sweep_refreshes_once_it_is_back(
    world, private_redis, web_server
):
    assessment, lead_user, reviewer_user = world
    server = web_server(database_url=_test_database_url(), redis_url=private_redis.url)
    lead = browser_of(lead_user, server)
    get(lead, "/trusts/R0A/")  # with Redis up, the dashboard is built and cached

    private_redis.stop()

    get(lead, "/trusts/R0A/")
    post(lead, URL + "pillars/well_led/", {"version": 1, "WL01-level": "3"})
    post(lead, URL + "pillars/smart_foundations/", {"version": 2, "SF01-level": "2", "SF02-level": "4"})
    post(lead, URL + "indicators/", {"version": 3, "indicator-unsupported_devices_pct": "4"})
    post(
        lead,
        URL + "submit/",
        {"version": 4, "sign_off_name": "Jo Bloggs", "sign_off_role": "Chief Executive", "declared": "yes"},
    )

    assessment.refresh_from_db()
    assert assessment.status == Status.SUBMITTED
    assert DomainAnswer.objects.filter(assessment=assessment).count() == 3
    assert AuditEvent.objects.filter(assessment=assessment, action="submit").count() == 1
    submitted = RefreshMark.objects.get(assessment=assessment, reason="submit")
    assert submitted.enqueued_at is None, "the broker was down: nothing was sent"
    assert not PillarScore.objects.filter(assessment_id=assessment.pk).exists()

    private_redis.start()

    reviewer = browser_of(reviewer_user, server)
    post(reviewer, URL + "review/", {"version": 5, "decision": "approve"})
    approved = RefreshMark.objects.get(assessment=assessment, reason="approve")
    assert approved.enqueued_at is not None, "with Redis back, the web server sends tasks again"

    # Beat's sweep: the mark the broker missed, not the one just sent (its worker has it).
    assert sweep_refresh_marks() == 1
    submitted.refresh_from_db()
    assert submitted.done_at is not None
    assert PillarScore.objects.filter(assessment_id=assessment.pk, pillar_code="overall").exists()
    get(lead, "/trusts/R0A/")
