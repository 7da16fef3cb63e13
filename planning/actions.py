"""The planner's one write: saving a trust assessment's improvement plan. A plan is not the return, so it may be
saved whatever the assessment's status (before or after submission, approved too) and changes no counted figure:
no version check on the assessment and no refresh mark. The plan has its own version, so that of two people
editing one plan the later save is refused rather than undoing the other's steps. It is audited like every
change."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import transaction

from maturity import audit
from maturity.actions import Invalid
from maturity.models import Assessment
from planning import plans, simulate
from planning.models import Plan, PlannedStep
from trusts import permissions

OWNER_MAX = PlannedStep._meta.get_field("owner").max_length


class PlanChanged(Exception):
    """The plan was saved by someone else since the page was opened: saving would silently undo their steps."""

    def __init__(self, current_version: int):
        super().__init__(
            "Someone saved this plan since you opened the page. Your steps are still below: check them against the "
            "saved plan, then save again to replace it."
        )
        self.current_version = current_version


@dataclass(frozen=True)
class Step:
    """A planned step as typed: the domain's planned level, its target date and its owner."""

    level: int
    target_date: datetime.date
    owner: str


def may_plan(user, assessment: Assessment) -> bool:
    """The trust's leads, the reviewers of the ICS the assessment recorded, and analysts: exactly those who see the
    assessment by name (Plan.objects.shown_to answers the same). Only trusts' returns have plans."""
    if assessment.is_ics_assessment or assessment.cycle.is_published_history:
        return False
    return permissions.viewer_of(user).names_assessment(assessment.trust_id, assessment.ics_id)


def step_errors(assessment: Assessment, answers: list[simulate.Answer], steps: dict[str, Step]) -> dict[str, str]:
    """What is wrong with each planned step, by its field on the planner page (`<domain code>-level`, …): the domain
    must be one of the return's, answered, and the level above today's and at most 5; the target date not before
    the cycle opens; the owner named."""
    by_code = {answer.code: answer for answer in answers}
    opens_on = assessment.cycle.opens_on
    errors = {}
    for code, step in steps.items():
        answer = by_code.get(code)
        if answer is None:
            errors[f"{code}-level"] = f"Domain {code} is not one of this return's domains"
            continue
        if answer.level is None:
            errors[f"{code}-level"] = f"{code} {answer.name}: answer it in the return before planning a level"
        elif not 1 <= step.level <= simulate.TOP_LEVEL:
            errors[f"{code}-level"] = f"{code} {answer.name}: the planned level must be from 1 to 5"
        elif step.level <= answer.level:
            errors[f"{code}-level"] = (
                f"{code} {answer.name}: the planned level must be above level {answer.level}, the level answered now"
            )
        if opens_on is not None and step.target_date < opens_on:
            errors[f"{code}-target_date"] = (
                f"{code} {answer.name}: the target date must be on or after {opens_on.day} {opens_on:%B %Y}, "
                f"when the {assessment.cycle.year} cycle opened"
            )
        owner = step.owner.strip()
        if not owner:
            errors[f"{code}-owner"] = f"{code} {answer.name}: enter who owns this step (a name or role)"
        elif len(owner) > OWNER_MAX:
            errors[f"{code}-owner"] = f"{code} {answer.name}: the owner must be {OWNER_MAX} characters or fewer"
    return errors


def _for_audit(steps: dict[str, Step]) -> dict:
    return {
        code: {"level": step.level, "target_date": step.target_date.isoformat(), "owner": step.owner}
        for code, step in sorted(steps.items())
    }


@transaction.atomic
def save_plan(*, by, assessment: Assessment, steps: dict[str, Step], expected_version: int) -> Plan | None:
    """Make the assessment's plan exactly `steps` (domain code → step): steps added, changed and removed at once.
    `expected_version` is the plan's version the page showed (0: no plan yet); PlanChanged if it moved since.
    Nothing is written when nothing changes (no plan is made for no steps)."""
    if not may_plan(by, assessment):
        raise PermissionDenied("You may not plan for this assessment.")
    answers = plans.answers_of(assessment)
    if errors := step_errors(assessment, answers, steps):
        raise Invalid(errors)
    cleaned = {code: Step(step.level, step.target_date, step.owner.strip()) for code, step in steps.items()}
    # Two first saves of one plan queue on the assessment's row rather than both creating the plan.
    Assessment.objects.select_for_update(of=("self",)).only("pk").get(pk=assessment.pk)
    plan = Plan.objects.filter(assessment=assessment).first()
    if (plan.version if plan else 0) != expected_version:
        raise PlanChanged(plan.version if plan else 0)
    before = {
        step.domain.code: Step(step.level, step.target_date, step.owner)
        for step in (plan.steps.select_related("domain") if plan else [])
    }
    if before == cleaned:
        return plan
    if plan is None:
        plan = Plan.objects.create(assessment=assessment, created_by=by, version=0)
    domains = {domain.code: domain for domain in assessment.applicable_domains()}
    plan.steps.exclude(domain__code__in=list(cleaned)).delete()
    for code, step in cleaned.items():
        PlannedStep.objects.update_or_create(
            plan=plan,
            domain=domains[code],
            defaults={"level": step.level, "target_date": step.target_date, "owner": step.owner},
        )
    plan.version += 1
    plan.save(update_fields=["updated_at", "version"])
    added = len(cleaned.keys() - before.keys())
    removed = len(before.keys() - cleaned.keys())
    changed = sum(1 for code in cleaned.keys() & before.keys() if cleaned[code] != before[code])
    audit.record(
        by=by,
        action="plan",
        assessment=assessment,
        summary=f"Improvement plan saved: {added} step(s) added, {changed} changed, {removed} removed",
        before={"steps": _for_audit(before)},
        after={"steps": _for_audit(cleaned)},
    )
    return plan
