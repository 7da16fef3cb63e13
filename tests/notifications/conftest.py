from types import SimpleNamespace

import pytest

from maturity import actions
from maturity.models import Assessment
from notifications import sending

# The browser tests' Chromium and page (tests/e2e/conftest.py), for test_browser.py.
from tests.e2e.conftest import browser, page  # noqa: F401
from tests.factories import AssessmentFactory, CycleFactory, ICSFactory, TrustFactory, analyst, lead_of, reviewer_of

FULL_ANSWERS = {"WL01": {"level": "3"}, "SF01": {"level": "2"}, "SF02": {"level": "4"}}


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def transactional_world(transactional_db):
    """The same world committed, for a live server and a browser."""
    return build_world()


def build_world():
    """Greater Manchester (QOP) with one trust and its people, and another ICS (QVV) with a reviewer of its own."""
    ics = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board")
    other_ics = ICSFactory(code="QVV")
    trust = TrustFactory(code="R0A", name="Manchester University NHS Foundation Trust", ics=ics)
    cycle = CycleFactory()
    users = {
        "lead": lead_of(trust, user__email="lead@r0a.example.nhs.uk"),
        "reviewer": reviewer_of(ics, user__email="reviewer@qop.example.nhs.uk"),
        "second reviewer": reviewer_of(ics, user__email="second@qop.example.nhs.uk"),
        "reviewer without e-mail": reviewer_of(ics, user__email=""),
        "other reviewer": reviewer_of(other_ics, user__email="reviewer@qvv.example.nhs.uk"),
        "analyst": analyst(user__email="analyst@england.example.nhs.uk"),
    }
    return SimpleNamespace(
        ics=ics,
        other_ics=other_ics,
        trust=trust,
        cycle=cycle,
        users=users,
        assessment=AssessmentFactory(cycle=cycle, trust=trust),
        ics_assessment=Assessment.objects.create(
            cycle=cycle, ics=ics, region=ics.region, framework=cycle.ics_framework
        ),
    )


@pytest.fixture
def act(django_capture_on_commit_callbacks):
    """Run an action as the web request would: commit, then the on-commit hooks (the send, eager without REDIS_URL).
    With REDIS_URL the send task waits in Redis for a worker these tests do not start, so the sweep sends instead."""

    def run(action, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            result = action(**kwargs)
        sending.sweep()
        return result

    return run


def fill(assessment, by):
    answers = {code: answer for code, answer in FULL_ANSWERS.items() if code != "SF02" or assessment.trust_id}
    actions.save_answers(
        by=by,
        assessment=assessment,
        expected_version=assessment.version,
        answers=answers,
        indicators={"unsupported_devices_pct": "4.5"},
    )
    assessment.refresh_from_db()
    return assessment


def submit_kwargs(assessment, by) -> dict:
    return {
        "by": by,
        "assessment": assessment,
        "expected_version": assessment.version,
        "sign_off_name": "Jo Bloggs",
        "sign_off_role": "Chief Executive",
        "declared": True,
    }
