"""What the assessment pages show, read in a few queries: progress per pillar, answers by domain, comments."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.urls import reverse

from maturity.models import Assessment, Domain, Indicator, IndicatorValue, Pillar, ReviewComment


def assessment_url(assessment: Assessment, page: str = "overview", **kwargs) -> str:
    """URL of one of an assessment's pages. Trust and ICS assessments share the pages under different prefixes."""
    if assessment.is_ics_assessment:
        return reverse(
            f"ics_assessment:{page}", kwargs={"code": assessment.ics.code, "year": assessment.cycle.year, **kwargs}
        )
    return reverse(
        f"trust_assessment:{page}",
        kwargs={
            "code": assessment.trust.code,
            "year": assessment.cycle.year,
            "setting": assessment.care_setting_id,
            **kwargs,
        },
    )


@dataclass
class DomainRow:
    domain: Domain
    level: int | None = None
    evidence_note: str = ""
    evidence_link: str = ""
    comments: list[ReviewComment] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def descriptor(self):
        return self.domain.levels[self.level - 1] if self.level else ""


@dataclass
class PillarProgress:
    pillar: Pillar
    rows: list[DomainRow]

    @property
    def answered(self):
        return sum(1 for row in self.rows if row.level is not None)

    @property
    def total(self):
        return len(self.rows)

    @property
    def is_complete(self):
        return self.answered == self.total

    @property
    def mean_level(self):
        levels = [row.level for row in self.rows if row.level is not None]
        return round(sum(levels) / len(levels), 1) if levels else None


@dataclass
class IndicatorRow:
    indicator: Indicator
    value: IndicatorValue | None

    @property
    def raw(self) -> str:
        """The value as a form field shows it."""
        if self.value is None:
            return ""
        if self.value.boolean is not None:
            return "yes" if self.value.boolean else "no"
        if self.value.number is not None:
            return f"{self.value.number:g}"
        if self.value.date is not None:
            return self.value.date.isoformat()
        return self.value.text


def pillars_of(assessment: Assessment) -> list[PillarProgress]:
    """The assessment's applicable domains grouped by pillar, with answers and review comments."""
    answers = {answer.domain_id: answer for answer in assessment.answers.all()}
    comments = defaultdict(list)
    for comment in assessment.comments.select_related("author").filter(domain__isnull=False):
        comments[comment.domain_id].append(comment)
    grouped: dict[int, PillarProgress] = {}
    for domain in assessment.applicable_domains():
        answer = answers.get(domain.pk)
        row = DomainRow(
            domain=domain,
            level=answer.level if answer else None,
            evidence_note=answer.evidence_note if answer else "",
            evidence_link=answer.evidence_link if answer else "",
            comments=comments[domain.pk],
        )
        grouped.setdefault(domain.pillar_id, PillarProgress(pillar=domain.pillar, rows=[])).rows.append(row)
    return list(grouped.values())


def indicator_rows(assessment: Assessment) -> list[IndicatorRow]:
    values = {value.indicator_code: value for value in assessment.indicator_values.all()}
    return [IndicatorRow(indicator, values.get(indicator.code)) for indicator in assessment.indicators()]


def general_comments(assessment: Assessment) -> list[ReviewComment]:
    return list(assessment.comments.select_related("author").filter(domain__isnull=True))


def _readable(value) -> str:
    if value in (None, "", {}):
        return "–"
    if isinstance(value, dict):
        return ", ".join(
            f"{key.replace('_', ' ')} {_readable(item)}" for key, item in value.items() if item not in (None, "")
        )
    if isinstance(value, list):
        return "; ".join(_readable(item) for item in value)
    return str(value)


def audit_rows(events) -> list[tuple]:
    """(event, [(what, before, after)]) with values written for people, for the change history page."""
    return [
        (
            event,
            [(key, _readable(event.before.get(key)), _readable(after)) for key, after in event.after.items()],
        )
        for event in events
    ]


PUBLISHED_INDICATOR_LABELS = {
    "dspt_status": "Data Security and Protection Toolkit",
    "unsupported_devices_pct": "Windows 10 devices on unsupported versions",
    "windows7_devices": "Windows 7 devices",
}


def published_indicators_for_trust(trust) -> list[IndicatorValue]:
    """The national snapshots loaded for a trust (DSPT, legacy devices), newest edition first, labelled for people."""
    values = list(
        IndicatorValue.objects.filter(
            trust=trust, assessment__isnull=True, indicator_code__in=PUBLISHED_INDICATOR_LABELS
        ).order_by("indicator_code", "-as_of")
    )
    for value in values:
        value.label = PUBLISHED_INDICATOR_LABELS[value.indicator_code]
        if value.indicator_code == "dspt_status":
            value.label = f"{value.label} {value.edition}"
        if value.number is None:
            value.shown = value.display_value
        elif value.indicator_code.endswith("_pct"):
            value.shown = f"{value.number:.1f}%"
        else:
            value.shown = f"{value.number:,.0f}"
    return values
