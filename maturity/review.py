"""What a reviewer judges an answer by, set beside each answer on the review page: last year's level, the trust's
published pillar score, the median level of its ICS and of similar trusts this cycle, and the published national
figures (DSPT, unsupported devices) beside the indicators entered.

The builders at the top are pure (plain values in, rows out) and tested on hand-made data; the reads below them
fetch those values with the maturity QuerySets, keeping the visibility rules: an earlier return is read through
Assessment.objects.shown_to, and a median of entered levels is shown only over at least MIN_GROUP returns."""

import statistics
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import dateformat

from maturity.models import (
    Assessment,
    AuditEvent,
    Cycle,
    Domain,
    DomainAnswer,
    IndicatorType,
    IndicatorValue,
    PublishedScore,
    ReviewQuery,
    Source,
)
from maturity.pages import (
    PUBLISHED_INDICATOR_LABELS,
    DomainRow,
    IndicatorRow,
    PillarProgress,
    person_name,
    published_indicators_for_trust,
)
from maturity.review_queries import QueryToSend, about_domain, about_indicator, finding_key
from trusts.models import TrustType
from trusts.permissions import MIN_GROUP, Viewer

# The published national figures a reviewer can hold an entered indicator against (indicator code -> the codes of
# the published snapshots loaded by maturity.published).
PUBLISHED_BESIDE = {
    "dspt_status": ("dspt_status",),
    "unsupported_devices_pct": ("unsupported_devices_pct", "windows7_devices"),
}


# --- Pure builders -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupMedian:
    """The median level of a group of counted returns on one domain; withheld below the minimum group size, as
    every aggregate of entered data is."""

    n: int
    median: float | None

    @property
    def shown(self) -> str:
        return f"fewer than {MIN_GROUP} returns" if self.median is None else f"{self.median:.1f}"


def group_median(levels: list[int]) -> GroupMedian:
    if len(levels) < MIN_GROUP:
        return GroupMedian(n=len(levels), median=None)
    return GroupMedian(n=len(levels), median=float(statistics.median(levels)))


def carried_levels(
    domain_ids: list[int], comparable_with: dict[int, int | None], previous_levels: dict[int, int]
) -> dict[int, int]:
    """Last year's level for each of this year's domains: its own answer when the framework is unchanged, otherwise
    the answer to the earlier domain it is comparable with, followed back through the versions. Domains with no
    comparable predecessor get none."""
    carried = {}
    for domain_id in domain_ids:
        seen, current = set(), domain_id
        while current is not None and current not in seen:
            if current in previous_levels:
                carried[domain_id] = previous_levels[current]
                break
            seen.add(current)
            current = comparable_with.get(current)
    return carried


@dataclass
class Comparison:
    """A group the answers are compared with, e.g. the trust's ICS, and its median on each domain (by domain id)."""

    label: str
    description: str
    levels: dict[int, list[int]]


@dataclass
class DomainEvidence:
    row: DomainRow
    last_year: int | None
    medians: list[tuple[Comparison, GroupMedian]]  # each comparison group with its median on this domain
    # The reviewer's comment on the domain as typed, kept on the page when a decision is refused, and its error.
    comment: str = ""
    comment_error: str = ""
    queries: list[QueryToSend] = field(default_factory=list)  # the cross-checks that fire on it now
    sent: list[ReviewQuery] = field(default_factory=list)  # the queries sent on it, with the lead's answers
    # The "Evidence verified" box: ticked as saved, or as posted when a decision is refused.
    evidence_verified: bool = False


@dataclass
class PillarEvidence:
    progress: PillarProgress
    published_score: float | None
    domains: list[DomainEvidence]


@dataclass(frozen=True)
class PublishedFigure:
    label: str
    shown: str
    as_of: object  # a date, or None


@dataclass
class IndicatorEvidence:
    row: IndicatorRow
    unit: str
    entered: str
    published: list[PublishedFigure] = field(default_factory=list)
    queries: list[QueryToSend] = field(default_factory=list)
    sent: list[ReviewQuery] = field(default_factory=list)


UNITS = {IndicatorType.PERCENT: "%"}


def entered_value(row: IndicatorRow) -> str:
    """An entered indicator value for people, with its unit."""
    value = row.value
    if value is None:
        return "Not answered"
    if value.is_unknown:
        return "Unknown"
    if value.boolean is not None:
        return "Yes" if value.boolean else "No"
    if value.number is not None:
        return f"{value.number:g}{UNITS.get(row.indicator.value_type, '')}"
    if value.date is not None:
        return dateformat.format(value.date, "j F Y")
    return value.text or "Not answered"


def pillar_evidence(
    pillars: list[PillarProgress],
    *,
    last_year: dict[int, int],
    published_scores: dict[str, float],
    comparisons: list[Comparison],
) -> list[PillarEvidence]:
    """Each pillar's answers with, per domain, last year's level (by this year's domain id) and each comparison
    group's median; per pillar, the published score (by pillar code)."""
    return [
        PillarEvidence(
            progress=progress,
            published_score=published_scores.get(progress.pillar.code),
            domains=[
                DomainEvidence(
                    row=row,
                    last_year=last_year.get(row.domain.pk),
                    medians=[(group, group_median(group.levels.get(row.domain.pk, []))) for group in comparisons],
                )
                for row in progress.rows
            ],
        )
        for progress in pillars
    ]


def indicator_evidence(
    rows: list[IndicatorRow], published: dict[str, list[PublishedFigure]]
) -> list[IndicatorEvidence]:
    """Each entered indicator with its unit and, where there are any, the published figures to hold it against
    (`published`: published indicator code -> figures, newest first)."""
    return [
        IndicatorEvidence(
            row=row,
            unit=UNITS.get(row.indicator.value_type, ""),
            entered=entered_value(row),
            published=[
                figure for code in PUBLISHED_BESIDE.get(row.indicator.code, ()) for figure in published.get(code, [])
            ],
        )
        for row in rows
    ]


# --- Reads -------------------------------------------------------------------------------------------------------


@dataclass
class Submission:
    by: str  # the person who submitted, or "" when not recorded
    at: object  # a datetime, or None
    sign_off_name: str
    sign_off_role: str


def submission(assessment: Assessment) -> Submission:
    """Who submitted and when. Older or imported returns may lack submitted_by: the audit trail's last submit
    then names the person."""
    user, at = assessment.submitted_by, assessment.submitted_at
    if user is None:
        event = (
            AuditEvent.objects.filter(assessment=assessment, action="submit", actor__isnull=False)
            .select_related("actor")
            .order_by("-at", "-pk")
            .first()
        )
        if event is not None:
            user, at = event.actor, at or event.at
    return Submission(
        by=person_name(user) if user is not None else "",
        at=at,
        sign_off_name=assessment.sign_off_name,
        sign_off_role=assessment.sign_off_role,
    )


def previous_cycle(cycle: Cycle) -> Cycle | None:
    return Cycle.objects.filter(year__lt=cycle.year).order_by("-year").first()


def _same_return(queryset, assessment: Assessment):
    """The returns of the same organisation and care setting (an ICB's own, for an ICB assessment)."""
    if assessment.is_ics_assessment:
        return queryset.for_icss().filter(ics_id=assessment.ics_id)
    return queryset.filter(trust_id=assessment.trust_id, care_setting_id=assessment.care_setting_id)


def last_year_levels(
    assessment: Assessment, viewer: Viewer, cycle: Cycle | None, domain_ids: list[int]
) -> dict[int, int]:
    """The same return's counted levels in `cycle` (the previous one), by this year's domain ids. NHS England's
    published results have no domain levels, so a published-history cycle gives none (its pillar scores are the
    published scores)."""
    if cycle is None or cycle.is_published_history:
        return {}
    earlier = _same_return(Assessment.objects.shown_to(viewer).counted().in_cycle(cycle), assessment).first()
    if earlier is None:
        return {}
    previous = dict(earlier.answers.filter(level__isnull=False).values_list("domain_id", "level"))
    # The comparability chain may pass through versions between the two years: a few hundred rows at most.
    comparable_with = dict(
        Domain.objects.filter(comparable_with__isnull=False).order_by().values_list("pk", "comparable_with_id")
    )
    return carried_levels(domain_ids, comparable_with, previous)


def published_pillar_scores(assessment: Assessment) -> tuple[int | None, dict[str, float]]:
    """The latest published pillar scores of the same return (NHS England's results are public), with their year."""
    scores = PublishedScore.objects.filter(
        pillar__isnull=False,
        assessment__source=Source.PUBLISHED,
        assessment__cycle__year__lte=assessment.cycle.year,
    )
    if assessment.is_ics_assessment:
        scores = scores.filter(assessment__trust__isnull=True, assessment__ics_id=assessment.ics_id)
    else:
        scores = scores.filter(
            assessment__trust_id=assessment.trust_id, assessment__care_setting_id=assessment.care_setting_id
        )
    rows = list(scores.values_list("assessment__cycle__year", "pillar__code", "score"))
    year = max((row[0] for row in rows), default=None)
    return year, {code: score for row_year, code, score in rows if row_year == year}


def comparisons(assessment: Assessment) -> list[Comparison]:
    """The groups a return's levels are set beside, from the counted returns of this cycle. A trust's: its ICS (as
    recorded in the cycle) and its peer group, defined as the summaries define it (reports.summaries.sql: trusts of
    the same type making a return for the same care setting, across England). ICBs' own returns are never mixed into
    provider groups: an ICB's is set beside all ICBs'."""
    counted = Assessment.objects.counted().in_cycle(assessment.cycle)
    if assessment.is_ics_assessment:
        return [Comparison("All ICBs' median", "every ICB's own return", _levels(counted.for_icss()))]
    trust = assessment.trust
    peer_name = f"{TrustType(trust.trust_type).label.lower()} trusts' {assessment.care_setting.name.lower()} returns"
    return [
        Comparison(
            "ICS median",
            f"{assessment.ics.short_name}'s returns",
            _levels(counted.for_trusts().recorded_in_ics(assessment.ics)),
        ),
        Comparison(
            "Similar trusts' median",
            f"{peer_name} in England",
            _levels(
                counted.for_trusts().filter(
                    trust__trust_type=trust.trust_type, care_setting_id=assessment.care_setting_id
                )
            ),
        ),
    ]


def _levels(assessments) -> dict[int, list[int]]:
    """Each domain's answered levels in these assessments, in one query. Read here rather than from the reports
    summaries: they keep no per-domain statistics of areas, and maturity reads nothing of reports. A group is one
    ICS's or one peer group's returns in one cycle, a few hundred levels per domain at most."""
    levels = defaultdict(list)
    answers = DomainAnswer.objects.filter(assessment__in=assessments, level__isnull=False)
    for domain_id, level in answers.values_list("domain_id", "level"):
        levels[domain_id].append(level)
    return levels


def published_figures(assessment: Assessment) -> dict[str, list[PublishedFigure]]:
    """The national snapshots loaded for the organisation (DSPT status, unsupported devices), by indicator code,
    newest first."""
    if assessment.is_ics_assessment:
        values = list(
            IndicatorValue.objects.filter(
                ics_id=assessment.ics_id, assessment__isnull=True, indicator_code__in=PUBLISHED_INDICATOR_LABELS
            ).order_by("indicator_code", "-as_of")
        )
        for value in values:
            value.label = f"{PUBLISHED_INDICATOR_LABELS[value.indicator_code]} {value.edition}".strip()
            value.shown = value.display_value
    else:
        values = published_indicators_for_trust(assessment.trust)
    figures = defaultdict(list)
    for value in values:
        figures[value.indicator_code].append(PublishedFigure(value.label, str(value.shown), value.as_of))
    return figures


@dataclass
class Evidence:
    """Everything the review page sets beside the answers."""

    submission: Submission
    last_year: int | None  # the year last year's levels come from, when there are any
    last_year_note: str  # why there are none, when there are none
    published_year: int | None
    comparisons: list[Comparison]
    pillars: list[PillarEvidence]
    indicators: list[IndicatorEvidence]

    @property
    def columns(self) -> int:
        """The columns of a pillar's table: domain, level, last year's level when there are any, each group."""
        return 2 + (1 if self.last_year else 0) + len(self.comparisons)


def evidence_for(
    assessment: Assessment, viewer: Viewer, pillars: list[PillarProgress], indicators: list[IndicatorRow]
) -> Evidence:
    earlier = previous_cycle(assessment.cycle)
    domain_ids = [row.domain.pk for progress in pillars for row in progress.rows]
    last_year = last_year_levels(assessment, viewer, earlier, domain_ids)
    published_year, published_scores = published_pillar_scores(assessment)
    groups = comparisons(assessment)
    return Evidence(
        submission=submission(assessment),
        last_year=earlier.year if last_year else None,
        last_year_note=_no_last_year(earlier) if not last_year else "",
        published_year=published_year,
        comparisons=groups,
        pillars=pillar_evidence(pillars, last_year=last_year, published_scores=published_scores, comparisons=groups),
        indicators=indicator_evidence(indicators, published_figures(assessment)),
    )


def attach_queries(
    evidence: Evidence, findings: list, sent: list[ReviewQuery] = (), chosen: frozenset[str] = frozenset()
) -> None:
    """Set beside the domain or indicator it concerns each cross-check that fires (maturity.checks.Finding), as a
    query the reviewer may send (ticked when its key is `chosen`), and each query sent before, with its answer."""

    def to_send(found) -> QueryToSend:
        return QueryToSend(finding_key(found), found.message, chosen=finding_key(found) in chosen)

    for pillar in evidence.pillars:
        for domain in pillar.domains:
            code = domain.row.domain.code
            domain.queries = [to_send(found) for found in findings if found.domain == code]
            domain.sent = about_domain(sent, code)
    for indicator in evidence.indicators:
        code = indicator.row.indicator.code
        indicator.queries = [to_send(found) for found in findings if found.indicator == code]
        indicator.sent = about_indicator(sent, code)


def _no_last_year(earlier: Cycle | None) -> str:
    if earlier is None:
        return "There is no earlier cycle to compare with."
    if earlier.is_published_history:
        return (
            f"NHS England published {earlier.year}'s results as pillar scores, not domain levels: "
            "each pillar's published score is shown instead."
        )
    return f"There is no submitted or approved {earlier.year} return to compare with."
