"""Two people saving the same pillar at the same moment, each in a request of its own on a connection of its own:
one is saved, the other gets the conflict message (409) with its answers kept, never a server error. On SQLite (the
default set-up, a file database in tests: config/settings.py) the second save waits for the first to commit; on
PostgreSQL (with DATABASE_URL set) the row lock makes it wait."""

import threading
import time

import pytest
from django.db import connections
from django.test import Client

from maturity import audit
from maturity.models import DomainAnswer
from tests.factories import AssessmentFactory, CycleFactory, TrustFactory, lead_of

URL = "/trusts/R0A/assessments/2026/acute/pillars/well_led/"
# How long the first save keeps its transaction open once the second has set off: long enough for the second to
# reach the database while the first still holds it, whichever order the scheduler runs them in.
HOLD_SECONDS = 0.5


@pytest.fixture
def two_leads(transactional_db):
    """Committed data (the requests run in other threads, on connections of their own), two leads logged in."""
    trust = TrustFactory(code="R0A")
    AssessmentFactory(cycle=CycleFactory(), trust=trust)
    clients = []
    for name in ("first", "second"):
        client = Client(raise_request_exception=False)  # a server error is a 500 here, as a browser sees it
        client.force_login(lead_of(trust, user__username=name))
        clients.append(client)
    return clients


def test_two_saves_of_the_same_page_at_once_give_one_save_and_one_conflict(two_leads, monkeypatch):
    first, second = two_leads
    inside_first_save = threading.Event()
    record = audit.record

    def record_slowly(**kwargs):
        # The first save's last write before its commit: let the second save set off now, and keep this
        # transaction open while it reaches the database.
        event = record(**kwargs)
        if kwargs["by"].username == "first":
            inside_first_save.set()
            time.sleep(HOLD_SECONDS)
        return event

    monkeypatch.setattr(audit, "record", record_slowly)
    responses = {}

    def save(name, client, level):
        try:
            responses[name] = client.post(URL, {"version": 1, "WL01-level": level})
        finally:
            connections.close_all()  # this thread's connection, so that the test database can be flushed

    first_thread = threading.Thread(target=save, args=("first", first, "4"))
    first_thread.start()
    assert inside_first_save.wait(timeout=30), "the first save never reached the database"
    second_thread = threading.Thread(target=save, args=("second", second, "2"))
    second_thread.start()
    first_thread.join(timeout=60)
    second_thread.join(timeout=60)

    assert responses["first"].status_code == 302
    assert responses["second"].status_code == 409
    page = responses["second"].content.decode()
    assert "Someone else changed this assessment" in page
    assert "first" in page  # who changed it
    assert 'value="2" aria-describedby="WL01-level-2-hint" checked' in page  # what the second person picked, kept
    assert 'name="version" value="2"' in page  # saving again now goes through
    assert DomainAnswer.objects.get().level == 4
