"""`make run` re-runs every data step each time. People enter, submit, return and approve returns in the 2026 demo
cycle, so those steps must leave every entered answer, status and audit event as it is."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import override_settings

from maturity import actions
from maturity.models import Assessment, AuditEvent, DomainAnswer, IndicatorValue, ReviewComment, Status

# The Makefile's `data` target, in its order.
DATA_STEPS = [
    "load_organisations",
    "load_frameworks",
    "load_checks",
    "import_published",
    "create_demo_accounts",
    "load_demo_data",
    "rebuild_summaries",
]


def run_data_steps():
    for command in DATA_STEPS:
        call_command(command, stdout=io.StringIO())


def entered_work():
    """Everything a person could have entered in the demo cycle, as comparable rows."""
    cycle = {"assessment__cycle__year": 2026}
    return {
        "assessments": sorted(
            Assessment.objects.filter(cycle__year=2026).values_list("pk", "status", "version", "sign_off_name")
        ),
        "answers": sorted(
            DomainAnswer.objects.filter(**cycle).values_list("assessment_id", "domain_id", "level", "evidence_note")
        ),
        "indicators": sorted(
            IndicatorValue.objects.filter(**cycle).values_list("assessment_id", "indicator_code", "number", "text"),
            key=str,
        ),
        "comments": sorted(ReviewComment.objects.filter(**cycle).values_list("assessment_id", "text")),
        "assessment history": sorted(
            AuditEvent.objects.filter(assessment__isnull=False).values_list("pk", "action", "assessment_id", "version")
        ),
    }


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_rerunning_the_data_steps_keeps_every_entered_answer_status_and_event():
    run_data_steps()
    users = get_user_model().objects
    lead, reviewer = users.get(username="lead-r0a"), users.get(username="ics-qop")

    # The lead answers two domains of R0A's fresh draft.
    draft = Assessment.objects.get(cycle__year=2026, trust__code="R0A", care_setting="acute")
    codes = [domain.code for domain in draft.applicable_domains()[:2]]
    actions.save_answers(
        by=lead,
        assessment=draft,
        expected_version=draft.version,
        answers={code: {"level": "4", "evidence_note": "'=Board minutes, May", "evidence_link": ""} for code in codes},
    )
    # The reviewer approves one submitted return of Greater Manchester and returns another with a comment.
    submitted = list(
        Assessment.objects.filter(cycle__year=2026, ics__code="QOP", trust__isnull=False, status=Status.SUBMITTED)[:2]
    )
    assert len(submitted) == 2
    approved, returned = submitted
    actions.approve_assessment(by=reviewer, assessment=approved, expected_version=approved.version)
    actions.return_assessment(
        by=reviewer,
        assessment=returned,
        expected_version=returned.version,
        comments=[actions.Comment(text="Add the board minutes.")],
    )
    before, events_before = entered_work(), set(AuditEvent.objects.values_list("pk", flat=True))

    run_data_steps()

    assert entered_work() == before
    assert events_before <= set(AuditEvent.objects.values_list("pk", flat=True))
    draft.refresh_from_db()
    assert draft.answers.filter(level=4).count() == 2
    assert Assessment.objects.get(pk=approved.pk).status == Status.APPROVED
    assert Assessment.objects.get(pk=returned.pk).status == Status.RETURNED


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_replacing_the_demo_cycle_is_explicit_and_starts_it_again():
    run_data_steps()
    draft = Assessment.objects.get(cycle__year=2026, trust__code="R0A", care_setting="acute")
    domain = draft.applicable_domains()[0]
    actions.save_answers(
        by=get_user_model().objects.get(username="lead-r0a"),
        assessment=draft,
        expected_version=draft.version,
        answers={domain.code: {"level": "2", "evidence_note": "", "evidence_link": ""}},
    )

    call_command("load_demo_data", replace=True, no_input=True, stdout=io.StringIO())

    fresh = Assessment.objects.get(cycle__year=2026, trust__code="R0A", care_setting="acute")
    assert fresh.pk != draft.pk and fresh.status == Status.DRAFT
    assert not fresh.answers.exists()
