"""Saving a plan: who may, what a step may be, and the audit trail."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied

from maturity.actions import Invalid
from maturity.models import AuditEvent, RefreshMark, Status
from planning import actions
from planning.models import PlannedStep
from tests.factories import ICSFactory, TrustFactory, analyst, lead_of, reviewer_of

DATE = datetime.date(2027, 3, 31)


def step(level, date=DATE, owner="Chief information officer"):
    return actions.Step(level, date, owner)


def test_a_lead_saves_a_plan_after_submission_with_an_audit_event_and_no_refresh(world):
    assessment = world["assessment"]
    assert assessment.status == Status.SUBMITTED
    marks = RefreshMark.objects.count()
    plan = actions.save_plan(
        by=lead_of(assessment.trust), assessment=assessment, steps={"SF01": step(3)}, expected_version=0
    )
    assert [(s.domain.code, s.level, s.owner) for s in plan.steps.all()] == [("SF01", 3, "Chief information officer")]
    event = AuditEvent.objects.get(action="plan")
    assert event.assessment == assessment
    assert event.after == {
        "steps": {"SF01": {"level": 3, "target_date": "2027-03-31", "owner": "Chief information officer"}}
    }
    assert RefreshMark.objects.count() == marks


def test_saving_again_adds_changes_and_removes_steps(world):
    assessment = world["assessment"]
    lead = lead_of(assessment.trust)
    actions.save_plan(by=lead, assessment=assessment, steps={"SF01": step(3), "WL01": step(3)}, expected_version=0)
    plan = actions.save_plan(
        by=lead, assessment=assessment, steps={"SF01": step(4), "SF02": step(3)}, expected_version=1
    )
    assert plan.version == 2
    assert dict(plan.steps.values_list("domain__code", "level")) == {"SF01": 4, "SF02": 3}
    assert AuditEvent.objects.filter(action="plan").last().summary == (
        "Improvement plan saved: 1 step(s) added, 1 changed, 1 removed"
    )


def test_the_ics_reviewer_and_an_analyst_may_save_a_plan(world):
    assessment = world["assessment"]
    actions.save_plan(by=reviewer_of(world["ics"]), assessment=assessment, steps={"SF01": step(2)}, expected_version=0)
    actions.save_plan(by=analyst(), assessment=assessment, steps={"SF01": step(3)}, expected_version=1)
    assert PlannedStep.objects.get().level == 3


@pytest.mark.parametrize(
    "who",
    [
        lambda world: lead_of(TrustFactory(ics=world["ics"])),  # another trust's lead, in the same ICS
        lambda world: reviewer_of(ICSFactory()),  # another ICS's reviewer
    ],
    ids=["other trust's lead", "other ICS's reviewer"],
)
def test_others_may_not_save_a_plan(world, who):
    with pytest.raises(PermissionDenied):
        actions.save_plan(by=who(world), assessment=world["assessment"], steps={"SF01": step(3)}, expected_version=0)
    assert not PlannedStep.objects.exists()


@pytest.mark.parametrize(
    "steps, field, message",
    [
        ({"SF03": step(4)}, "SF03-level", "must be above level 4, the level answered now"),
        ({"SF03": step(3)}, "SF03-level", "must be above level 4"),
        ({"SF01": step(6)}, "SF01-level", "must be from 1 to 5"),
        ({"SF01": step(0)}, "SF01-level", "must be from 1 to 5"),
        ({"XX99": step(3)}, "XX99-level", "is not one of this return's domains"),
        ({"SF01": step(3, owner="  ")}, "SF01-owner", "enter who owns this step"),
        ({"SF01": step(3, owner="x" * 121)}, "SF01-owner", "120 characters or fewer"),
        (
            {"SF01": step(3, date=datetime.date(2026, 3, 31))},
            "SF01-target_date",
            "must be on or after 1 April 2026, when the 2026 cycle opened",
        ),
    ],
)
def test_a_wrong_step_is_refused_with_a_message_naming_its_field(world, steps, field, message):
    assessment = world["assessment"]
    with pytest.raises(Invalid) as refused:
        actions.save_plan(by=lead_of(assessment.trust), assessment=assessment, steps=steps, expected_version=0)
    assert message in refused.value.errors[field]
    assert not PlannedStep.objects.exists() and not AuditEvent.objects.filter(action="plan").exists()


def test_a_target_date_on_the_day_the_cycle_opens_is_allowed(world):
    assessment = world["assessment"]
    steps = {"SF01": step(3, date=datetime.date(2026, 4, 1))}
    assert actions.save_plan(by=lead_of(assessment.trust), assessment=assessment, steps=steps, expected_version=0)


def test_a_save_over_a_plan_changed_since_the_page_opened_is_refused_and_keeps_the_other_steps(world):
    assessment = world["assessment"]
    lead, reviewer = lead_of(assessment.trust), reviewer_of(world["ics"])
    actions.save_plan(by=lead, assessment=assessment, steps={"SF01": step(3)}, expected_version=0)
    # The reviewer opened the page before the lead's save: its version was 0.
    with pytest.raises(actions.PlanChanged) as refused:
        actions.save_plan(by=reviewer, assessment=assessment, steps={"WL01": step(3)}, expected_version=0)
    assert refused.value.current_version == 1
    assert dict(PlannedStep.objects.values_list("domain__code", "level")) == {"SF01": 3}
    assert AuditEvent.objects.filter(action="plan").count() == 1
