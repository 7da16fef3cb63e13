"""Reminders 14 and 3 days before a cycle's deadline to the makers of returns not yet submitted, once each."""

from datetime import date, timedelta

import pytest

from maturity.models import CycleState, Status
from notifications import reminders, sending
from notifications.models import Kind, OutboxEmail, Preference
from tests.factories import AssessmentFactory, TrustFactory, lead_of
from trusts.models import CareSetting

TODAY = date(2026, 3, 2)


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    """Run the reminders as beat would on a given day; returns how many e-mails they wrote."""

    def run(day):
        with django_capture_on_commit_callbacks(execute=True):
            written = reminders.send_reminders(today=day)
        sending.sweep()
        return written

    return run


@pytest.fixture
def deadline(world):
    world.cycle.closes_on = TODAY + timedelta(days=14)
    world.cycle.save()
    return world.cycle.closes_on


def trust_with_lead(world, code, email, status=None, **kwargs):
    trust = TrustFactory(code=code, ics=world.ics, **kwargs)
    lead_of(trust, user__email=email)
    if status:
        AssessmentFactory(cycle=world.cycle, trust=trust, status=status)
    return trust


@pytest.mark.parametrize(
    ("days_left", "threshold"),
    [(15, None), (14, 14), (13, 14), (4, 14), (3, 3), (1, 3), (0, 3), (-1, None)],
)
def test_the_reminder_due_for_the_days_left(days_left, threshold):
    assert reminders.threshold_for(days_left) == threshold


def test_leads_of_unsubmitted_returns_are_reminded_14_and_3_days_before_the_deadline_once_each(
    world, deadline, remind, smtp_server
):
    assert remind(TODAY - timedelta(days=1)) == 0
    assert smtp_server.to("lead@r0a.example.nhs.uk") == []

    remind(TODAY)
    [first] = smtp_server.to("lead@r0a.example.nhs.uk")
    assert first["Subject"] == "Due in 14 days: Manchester University NHS Foundation Trust, Acute, 2026"
    assert "is due in 14 days, by 16 March 2026, and is a draft, not submitted yet." in first.get_content()
    assert "http://127.0.0.1:8000/trusts/R0A/assessments/2026/acute/" in first.get_content()

    remind(TODAY)
    remind(TODAY + timedelta(days=1))
    assert len(smtp_server.to("lead@r0a.example.nhs.uk")) == 1

    remind(deadline - timedelta(days=3))
    remind(deadline - timedelta(days=3))
    remind(deadline - timedelta(days=1))
    remind(deadline + timedelta(days=1))
    _, second = smtp_server.to("lead@r0a.example.nhs.uk")
    assert second["Subject"] == "Due in 3 days: Manchester University NHS Foundation Trust, Acute, 2026"
    assert OutboxEmail.objects.filter(kind=Kind.REMINDER, recipient=world.users["lead"]).count() == 2


def test_returns_not_started_and_returned_are_reminded_submitted_and_approved_are_not(
    world, deadline, remind, smtp_server
):
    trust_with_lead(world, "RM3", "lead@rm3.example.nhs.uk")
    trust_with_lead(world, "RW6", "lead@rw6.example.nhs.uk", status=Status.RETURNED)
    trust_with_lead(world, "RBV", "lead@rbv.example.nhs.uk", status=Status.SUBMITTED)
    trust_with_lead(world, "RRF", "lead@rrf.example.nhs.uk", status=Status.APPROVED)

    remind(TODAY)

    [not_started] = smtp_server.to("lead@rm3.example.nhs.uk")
    assert "and is not started yet." in not_started.get_content()
    [returned] = smtp_server.to("lead@rw6.example.nhs.uk")
    assert "and is returned for changes." in returned.get_content()
    assert smtp_server.to("lead@rbv.example.nhs.uk") == []
    assert smtp_server.to("lead@rrf.example.nhs.uk") == []


def test_a_lead_is_reminded_of_each_care_setting_s_return(world, deadline, remind, smtp_server):
    trust_with_lead(world, "RXA", "lead@rxa.example.nhs.uk", care_settings=[CareSetting.ACUTE, CareSetting.COMMUNITY])

    remind(TODAY)

    subjects = sorted(message["Subject"] for message in smtp_server.to("lead@rxa.example.nhs.uk"))
    assert [subject.split(", ")[1] for subject in subjects] == ["Acute", "Community"]


def test_an_icb_s_own_unsubmitted_return_is_reminded_to_its_ics_reviewers(world, deadline, remind, smtp_server):
    remind(TODAY)

    [draft] = smtp_server.to("reviewer@qop.example.nhs.uk")
    assert draft["Subject"] == "Due in 14 days: NHS Greater Manchester Integrated Care Board, 2026"
    [not_started] = smtp_server.to("reviewer@qvv.example.nhs.uk")
    assert "is not started yet" in not_started.get_content()
    assert "/ics/QVV/assessments/2026/" in not_started.get_content()
    assert smtp_server.to("analyst@england.example.nhs.uk") == []


def test_a_lead_who_switched_reminders_off_is_not_reminded(world, deadline, remind, smtp_server):
    Preference.objects.create(user=world.users["lead"], kind=Kind.REMINDER, enabled=False)

    remind(TODAY)

    assert smtp_server.to("lead@r0a.example.nhs.uk") == []


def test_a_closed_cycle_sends_no_reminders(world, deadline, remind, smtp_server):
    world.cycle.state = CycleState.CLOSED
    world.cycle.save()

    assert remind(TODAY) == 0
    assert smtp_server.messages == []
