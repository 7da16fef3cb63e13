"""Whole organisation pages kept per person (config/pages/page_cache.py): a warm page reads no organisation,
assessment or summary table, and it is never served once anything it shows has changed: an action, a role, the
summaries, the organisations, a message to show."""

import gzip
import re

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from config.pages import gzip_slots, page_cache
from maturity import actions
from maturity.models import Assessment, AuditEvent, Status
from reports.summaries import versions
from tests.factories import analyst, reviewer_of
from tests.reports.test_dashboards import build_world
from trusts import actions as trust_actions
from trusts.models import Membership, Role
from trusts.ods import ORGANISATIONS_TOKEN

PAGES = ["/national/", "/regions/Y62/", "/ics/QOP/", "/ics/QOP/print/", "/trusts/R00/"]
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DATA_TABLES = ("maturity_assessment", "maturity_cycle", "trusts_ics", "trusts_trust", "reports_")


@pytest.fixture
def world(db):
    world = build_world()
    world.reviewer = reviewer_of(world.qop)
    world.analyst = analyst()
    return world


def awaiting(html: str) -> str:
    return re.search(r"(\d+) awaiting review", html).group(1)


def without_token(html: str) -> str:
    return CSRF.sub("", html)


@pytest.mark.parametrize("url", PAGES)
def test_a_warm_page_is_served_whole_and_reads_no_data_table(client, world, url):
    client.force_login(world.analyst)
    cold = client.get(url)
    with CaptureQueriesContext(connection) as captured:
        warm = client.get(url)

    assert warm.status_code == 200
    assert without_token(warm.content.decode()) == without_token(cold.content.decode())
    sql = " ".join(query["sql"] for query in captured.captured_queries if "django_cache" not in query["sql"])
    assert not [table for table in DATA_TABLES if f'"{table}' in sql.replace("reports_summaryversion", "")]


def test_each_response_of_a_kept_page_has_its_own_working_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.analyst)
    tokens = [CSRF.search(client.get("/ics/QOP/").content.decode()).group(1) for _ in range(3)]

    assert len(set(tokens)) == 3, "masked afresh for every response, as Django does"
    assert page_cache.CSRF_SLOT not in client.get("/ics/QOP/").content.decode()
    assert client.post("/accounts/logout/", {"csrfmiddlewaretoken": tokens[-1]}).status_code == 302
    assert client.get("/ics/QOP/").status_code == 302, "logged out: sent to the log-in page"


def test_a_kept_page_is_sent_compressed_with_a_working_token_and_varies_on_encoding(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.analyst)
    cold = client.get("/ics/QOP/").content.decode()
    warm = client.get("/ics/QOP/", headers={"accept-encoding": "gzip, deflate"})

    assert warm["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in warm["Vary"]
    html = gzip.decompress(warm.content).decode()
    assert without_token(html) == without_token(cold)
    assert "Content-Encoding" not in client.get("/ics/QOP/")
    token = CSRF.search(html).group(1)
    assert client.post("/accounts/logout/", {"csrfmiddlewaretoken": token}).status_code == 302


def test_an_action_shows_at_once_before_any_refresh(client, world, django_capture_on_commit_callbacks):
    client.force_login(world.reviewer)
    before = awaiting(client.get("/ics/QOP/").content.decode())
    assessment = Assessment.objects.filter(trust=world.trusts[0], status=Status.SUBMITTED).get()

    # The refresh it marks does not run (on-commit hooks are held back): the audit event moves the page.
    with django_capture_on_commit_callbacks(execute=False):
        actions.approve_assessment(by=world.reviewer, assessment=assessment, expected_version=assessment.version)

    assert int(awaiting(client.get("/ics/QOP/").content.decode())) == int(before) - 1


def test_an_event_committed_late_under_an_earlier_id_still_shows(client, world):
    """Ids are handed out when events are inserted, not when they commit: a transaction that took an earlier id and
    commits after the page was kept adds an event without moving the newest id."""
    client.force_login(world.reviewer)
    later = AuditEvent.objects.create(action="test", summary="a later transaction, committed first")
    AuditEvent.objects.filter(pk=later.pk).update(id=later.pk + 10)  # room below it for the earlier one
    before = awaiting(client.get("/ics/QOP/").content.decode())
    assert awaiting(client.get("/ics/QOP/").content.decode()) == before  # kept

    assessment = Assessment.objects.filter(trust=world.trusts[0], status=Status.SUBMITTED).get()
    Assessment.objects.filter(pk=assessment.pk).update(status=Status.APPROVED)
    AuditEvent.objects.create(pk=later.pk + 5, action="approve", summary="the earlier transaction, committed now")

    assert int(awaiting(client.get("/ics/QOP/").content.decode())) == int(before) - 1


def test_a_role_ended_or_granted_shows_at_once(client, world):
    client.force_login(world.reviewer)
    assert client.get("/ics/QOP/").status_code == 200
    assert client.get("/ics/QOP/").status_code == 200  # kept

    trust_actions.revoke_role(by=world.analyst, membership=Membership.objects.get(user=world.reviewer))
    assert client.get("/ics/QOP/").status_code == 403

    trust_actions.grant_role(by=world.analyst, user=world.reviewer, role=Role.ICS_REVIEWER, organisation=world.qyg)
    page = client.get("/ics/QYG/")
    assert page.status_code == 200 and "My ICS" in page.content.decode()


def test_each_person_gets_their_own_page(world):
    pages = {}
    for user in (world.analyst, analyst()):
        client = Client()
        client.force_login(user)
        client.get("/national/")
        pages[user.username] = client.get("/national/").content.decode()

    for username, html in pages.items():
        assert username in html
        assert all(other not in html for other in pages if other != username)


def test_moved_summaries_and_organisations_build_the_page_again(client, world):
    from trusts.models import Trust

    client.force_login(world.analyst)
    assert "Trust 00" in client.get("/ics/QOP/").content.decode()
    Trust.objects.filter(code="R00").update(name="Trust Zero")  # as a load of the organisations would
    assert "Trust Zero" not in client.get("/ics/QOP/").content.decode()
    cache.set(ORGANISATIONS_TOKEN, "a-new-load", timeout=None)  # what load_organisations does once committed
    assert "Trust Zero" in client.get("/ics/QOP/").content.decode()

    Trust.objects.filter(code="R00").update(name="Trust Nought")
    cache.set(ORGANISATIONS_TOKEN, "another-load", timeout=None)
    versions.move([versions.ics("QOP")])  # a refresh of the ICS's summaries
    assert "Trust Nought" in client.get("/ics/QOP/").content.decode()


def test_a_page_with_a_message_to_show_is_neither_served_from_nor_kept_in_the_cache(client, world):
    client.force_login(world.analyst)
    client.get("/national/")
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(constants.SUCCESS, "Your changes were saved")
    carrier = HttpResponse()
    storage.update(carrier)
    client.cookies[storage.cookie_name] = carrier.cookies[storage.cookie_name].value

    assert "Your changes were saved" in client.get("/national/").content.decode()
    assert "Your changes were saved" not in client.get("/national/").content.decode()


def test_current_reads_the_tokens_and_the_newest_audit_event_in_one_query(world):
    versions.move([versions.ics("QOP")])
    with CaptureQueriesContext(connection) as captured:
        now = versions.current([versions.ics("QOP"), "never-moved"])

    assert len(captured.captured_queries) == 1
    assert set(now) == {versions.ics("QOP"), versions.WRITTEN}
    assert versions.current([]).keys() == {versions.WRITTEN}


@pytest.mark.parametrize("text", ["", "no slot", "<p>SLOT</p>", "SLOT<p>a page</p>SLOT", "é" * 70_000 + "SLOT" + "x"])
def test_a_slotted_page_is_one_valid_gzip_member_with_each_slot_filled(text):
    page = gzip_slots.slotted(text, "SLOT")
    expected = text.replace("SLOT", "a-token").encode()

    assert gzip.decompress(gzip_slots.gzipped(page, b"a-token")) == expected
    assert gzip_slots.plain(page, b"a-token") == expected
