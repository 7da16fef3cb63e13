"""Reading what the planner needs: an assessment's answers and targets as planning.simulate takes them, its saved
plan, where it stands among its ICS's and its peers' counted returns, and the plans an ICS board pack lists."""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from maturity.models import Assessment, DomainAnswer, GapTarget, TargetKind
from planning import simulate
from planning.models import Plan, PlannedStep
from reports.models import AreaStat, GapScore
from reports.summaries import problems, rules


def answers_of(assessment: Assessment) -> list[simulate.Answer]:
    """The assessment's applicable domains with today's levels, in pillar order."""
    levels = dict(DomainAnswer.objects.filter(assessment=assessment).values_list("domain_id", "level"))
    return _answers(assessment.applicable_domains(), levels)


def _answers(domains, levels: dict[int, int | None]) -> list[simulate.Answer]:
    return [
        simulate.Answer(
            code=domain.code,
            name=domain.name,
            pillar_code=domain.pillar.code,
            pillar_name=domain.pillar.name,
            pillar_position=domain.pillar.position,
            position=domain.position,
            level=levels.get(domain.pk),
            weight=domain.weight,
            themes=tuple(domain.themes) if isinstance(domain.themes, list) else (),
        )
        for domain in domains
    ]


def targets_of(assessment: Assessment) -> list[simulate.Target]:
    """The cycle's gap targets the summaries can use (the others they skip, and so does the planner); an indicator
    target with what the summaries measured for this assessment, if it is counted."""
    measured = dict(GapScore.objects.filter(assessment_id=assessment.pk).values_list("target_description", "met"))
    return _targets(_usable_targets(assessment.cycle_id, assessment.cycle.year), measured)


def _usable_targets(cycle_id: int, year: int) -> list[GapTarget]:
    targets = GapTarget.objects.filter(cycle_id=cycle_id).order_by("theme", "pk")
    return [
        target
        for target in targets
        if not problems.target_problem(
            year=year, theme=target.theme, kind=target.kind, value=target.value, description=target.description
        )
    ]


def _targets(targets: list[GapTarget], measured: dict[str, bool | None]) -> list[simulate.Target]:
    found = []
    for target in targets:
        is_level = target.kind == TargetKind.DOMAIN_LEVEL
        found.append(
            simulate.Target(
                theme=target.theme,
                theme_name=target.get_theme_display(),
                description=target.description,
                kind=target.kind,
                goal=float(target.value) if is_level else None,
                met_now=None if is_level else measured.get(target.description),
            )
        )
    return found


def plan_of(assessment: Assessment, viewer) -> Plan | None:
    return Plan.objects.shown_to(viewer).filter(assessment=assessment).first()


def saved_steps(plan: Plan | None) -> list[PlannedStep]:
    return list(plan.steps.select_related("domain")) if plan else []


# --- Where it would stand ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """The assessment's position in one group, now and with the plan done; None where the group is too small to
    show one (fewer than MIN_GROUP counted returns) or the assessment has no overall score."""

    group: str
    now: simulate.Position | None
    planned: simulate.Position | None
    counted: int


def peer_name(trust_type: str, care_setting: str) -> str:
    """As the summaries name a peer group: 'Acute specialist trusts, mental health'."""
    return f"{trust_type.replace('-', ' ').capitalize()} trusts, {care_setting.replace('-', ' ')}"


def standings(
    assessment: Assessment, viewer, overall_now: float | None, overall_planned: float | None
) -> list[Standing]:
    """Its band by overall score in its ICS and in its peer group (trusts of its type making a return for its care
    setting), against the group's deciles as the summaries hold them (AreaStat), read through the scoped layer: shown
    where the viewer may read that aggregate (at least MIN_GROUP counted returns, or an area it sees by name)."""
    trust = assessment.trust
    groups = [
        (assessment.ics.short_name, "ics", assessment.ics.code),
        (
            peer_name(trust.trust_type, assessment.care_setting_id),
            "peer",
            f"{trust.trust_type}|{assessment.care_setting_id}",
        ),
    ]
    overall = AreaStat.objects.in_cycle(assessment.cycle.year).filter(
        metric_type="pillar", metric_code=rules.OVERALL[0]
    )
    found = []
    for name, area_type, area_code in groups:
        rows = overall.filter(area_type=area_type, area_code=area_code)
        shown = rows.shown_to(viewer).values_list("deciles", flat=True).first()
        counted = rows.values_list("n", flat=True).first() or 0
        now, planned = (
            simulate.position(name, score, shown) if shown and score is not None else None
            for score in (overall_now, overall_planned)
        )
        found.append(Standing(name, now, planned, counted))
    return found


# --- The board pack ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSummary:
    trust_name: str
    care_setting: str
    steps: int
    pillars_up: list[str]
    targets_met: list[str]
    earliest: datetime.date | None
    latest: datetime.date | None


def may_see_ics_plans(viewer, ics) -> bool:
    """The ICS's reviewers and analysts see its member trusts' plans side by side; a trust's lead sees only its
    own, on its planner."""
    return viewer.names_ics(ics.code)


def ics_plan_summaries(viewer, ics, year: int) -> list[PlanSummary]:
    """Each member trust's saved plan in the cycle, for the ICS board pack: how many steps, which pillars would
    reach their next whole level, which targets would be newly met, and the span of the target dates. Only for
    those who see the ICS's trusts by name (its reviewers, analysts); a lead's board pack lists none."""
    if not may_see_ics_plans(viewer, ics):
        return []
    plans = list(
        Plan.objects.shown_to(viewer)
        .recorded_in_ics(ics)
        .in_cycle(year)
        .filter(steps__isnull=False)
        .distinct()
        .select_related("assessment__cycle", "assessment__framework", "assessment__trust", "assessment__care_setting")
        .order_by("assessment__trust__name", "assessment__care_setting__position")
    )
    # Each plan's steps, answers, domains and measured targets read for all the plans at once, not plan by plan.
    ids = [plan.assessment_id for plan in plans]
    steps, levels, measured = defaultdict(list), defaultdict(dict), defaultdict(dict)
    for step in PlannedStep.objects.filter(plan__in=plans).select_related("domain"):
        steps[step.plan_id].append(step)
    for assessment_id, domain_id, level in DomainAnswer.objects.filter(assessment_id__in=ids).values_list(
        "assessment_id", "domain_id", "level"
    ):
        levels[assessment_id][domain_id] = level
    for assessment_id, description, met in GapScore.objects.filter(assessment_id__in=ids).values_list(
        "assessment_id", "target_description", "met"
    ):
        measured[assessment_id][description] = met
    targets = _usable_targets(plans[0].assessment.cycle_id, year) if plans else []
    domains = {}  # (framework, care setting) -> its applicable domains
    summaries = []
    for plan in plans:
        assessment = plan.assessment
        key = (assessment.framework_id, assessment.care_setting_id)
        if key not in domains:
            domains[key] = assessment.applicable_domains()
        planned = steps[plan.pk]
        result = simulate.simulate(
            _answers(domains[key], levels[assessment.pk]),
            {step.domain.code: step.level for step in planned},
            _targets(targets, measured[assessment.pk]),
        )
        dates = [step.target_date for step in planned]
        summaries.append(
            PlanSummary(
                trust_name=assessment.trust.name,
                care_setting=assessment.care_setting.name,
                steps=len(planned),
                pillars_up=[pillar.name for pillar in result.pillars_moving_up],
                targets_met=[found.target.description for found in result.newly_met],
                earliest=min(dates, default=None),
                latest=max(dates, default=None),
            )
        )
    return summaries
