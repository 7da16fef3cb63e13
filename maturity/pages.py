"""What the assessment pages show, read in a few queries: progress per pillar, answers by domain, comments."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.urls import reverse

from maturity.answers import DateParts
from maturity.models import (
    Assessment,
    Domain,
    Indicator,
    IndicatorType,
    IndicatorValue,
    Pillar,
    ReviewComment,
    Source,
)


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


def in_sentence(name: str) -> str:
    """A name as it reads inside a sentence: its first word in lower case when it is an ordinary capitalised word
    ("Digital strategy" → "digital strategy"), as it is when it is an acronym or a name with capitals of its own
    ("EPR optimisation", "NHS App and patient portal", "DDaT vacancy rate")."""
    first, space, rest = name.partition(" ")
    if first[:1].isupper() and first[1:].islower():
        first = first.lower()
    return f"{first}{space}{rest}"


def person_name(user) -> str:
    """A person as the review pages name them: their full name, else their e-mail address, else their username."""
    return user.get_full_name().strip() or user.email or user.get_username()


@dataclass
class DomainRow:
    domain: Domain
    level: int | None = None
    evidence_note: str = ""
    evidence_link: str = ""
    comments: list[ReviewComment] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    queries: list = field(default_factory=list)  # the reviewer's open queries on it (maturity.models.ReviewQuery)
    evidence_verified_by: object = None  # the reviewer (a user) who verified the evidence, if one did
    evidence_verified_at: object = None  # when (a datetime)

    @property
    def has_evidence(self) -> bool:
        return bool(self.evidence_note.strip() or self.evidence_link.strip())

    @property
    def verified_by_name(self) -> str:
        """Who verified the evidence, named as the review page names people: full name, else e-mail, else username."""
        return person_name(self.evidence_verified_by) if self.evidence_verified_by else ""

    @property
    def descriptor(self):
        return self.domain.levels[self.level - 1] if self.level else ""

    @property
    def question(self) -> str:
        return f"Which level best describes {in_sentence(self.domain.name)}?"

    @property
    def field_id(self) -> str:
        """The id of the domain's first input (its level 1 radio), which error and change links point at."""
        return f"{self.domain.code}-level"


@dataclass
class PillarProgress:
    pillar: Pillar
    rows: list[DomainRow]
    url: str = ""

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


def indicator_field_id(indicator: Indicator) -> str:
    """The id of an indicator's first input: the day box of a date, the field itself otherwise."""
    if indicator.value_type == IndicatorType.DATE:
        return f"indicator-{indicator.code}-day"
    return f"indicator-{indicator.code}"


def long_date(value) -> str:
    return f"{value.day} {value:%B %Y}"


@dataclass
class IndicatorRow:
    indicator: Indicator
    value: IndicatorValue | None

    @property
    def field_id(self) -> str:
        return indicator_field_id(self.indicator)

    @property
    def shown(self) -> str:
        """The value as a person reads it; empty when not answered."""
        value = self.value
        if value is None:
            return ""
        if value.boolean is not None:
            return "Yes" if value.boolean else "No"
        if value.number is not None:
            return f"{value.number:g}%" if self.indicator.value_type == IndicatorType.PERCENT else f"{value.number:g}"
        if value.date is not None:
            return long_date(value.date)
        return value.text

    @property
    def published_source(self) -> str:
        """Where a value filled in from NHS England's published data came from, for the person to check; empty
        for a value entered here. A value changed here is entered here (actions.save_answers)."""
        value = self.value
        if value is None or value.source != Source.PUBLISHED:
            return ""
        label = PUBLISHED_INDICATOR_LABELS.get(value.indicator_code, self.indicator.name)
        if value.indicator_code == "dspt_status" and value.edition:
            label = f"{label} {value.edition}"
        when = f" ({long_date(value.as_of)})" if value.as_of else ""
        return f"From NHS England's published data, {label}{when} – check it"

    def date_parts(self) -> DateParts:
        """A date value as the date input's three boxes show it."""
        if self.value is None or self.value.date is None:
            return DateParts()
        day = self.value.date
        return DateParts(str(day.day), str(day.month), str(day.year))

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
    answers = {answer.domain_id: answer for answer in assessment.answers.select_related("evidence_verified_by")}
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
            evidence_verified_by=answer.evidence_verified_by if answer else None,
            evidence_verified_at=answer.evidence_verified_at if answer else None,
        )
        if domain.pillar_id not in grouped:
            url = assessment_url(assessment, "pillar", pillar_code=domain.pillar.code)
            grouped[domain.pillar_id] = PillarProgress(pillar=domain.pillar, rows=[], url=url)
        grouped[domain.pillar_id].rows.append(row)
    return list(grouped.values())


def indicator_rows(assessment: Assessment) -> list[IndicatorRow]:
    values = {value.indicator_code: value for value in assessment.indicator_values.all()}
    return [IndicatorRow(indicator, values.get(indicator.code)) for indicator in assessment.indicators()]


@dataclass(frozen=True)
class CheckWarning:
    """A cross-check that fired (maturity.checks.Finding), with the link to change the answer it concerns."""

    message: str
    url: str
    answer: str  # the answer's name, for the link's hidden text


def warnings_for(
    findings: list, pillars: list[PillarProgress], indicators: list[IndicatorRow], indicators_url: str
) -> list[CheckWarning]:
    """Each finding linked to the field of its domain on the pillar's page, or of its indicator."""
    domains = {row.domain.code: (progress.url, row) for progress in pillars for row in progress.rows}
    fields = {row.indicator.code: row for row in indicators}
    warnings = []
    for finding in findings:
        if finding.domain in domains:
            url, row = domains[finding.domain]
            name = f"{row.domain.code} {row.domain.name}"
            warnings.append(CheckWarning(finding.message, f"{url}#{row.field_id}", name))
        elif finding.indicator in fields:
            row = fields[finding.indicator]
            warnings.append(CheckWarning(finding.message, f"{indicators_url}#{row.field_id}", row.indicator.name))
    return warnings


@dataclass
class MissingGroup:
    """What is still to answer on one page of the assessment: its heading and link, and (name, link to the field)
    of each question."""

    heading: str
    url: str
    items: list[tuple[str, str]] = field(default_factory=list)


def missing_by_page(assessment: Assessment, missing: list[str]) -> list[MissingGroup]:
    """The codes actions.missing_answers gives, grouped by pillar in the framework's order and then the contextual
    indicators, each named and linked to its field on its page."""
    codes = set(missing)
    groups: dict[str, MissingGroup] = {}
    for domain in assessment.applicable_domains():
        if domain.code in codes:
            if domain.pillar.code not in groups:
                url = assessment_url(assessment, "pillar", pillar_code=domain.pillar.code)
                groups[domain.pillar.code] = MissingGroup(domain.pillar.name, url)
            group = groups[domain.pillar.code]
            group.items.append((f"{domain.code} {domain.name}", f"{group.url}#{domain.code}-level"))
    indicators = [indicator for indicator in assessment.indicators() if indicator.code in codes]
    if indicators:
        url = assessment_url(assessment, "indicators")
        groups["indicators"] = MissingGroup(
            "Contextual indicators",
            url,
            [(indicator.name, f"{url}#{indicator_field_id(indicator)}") for indicator in indicators],
        )
    return list(groups.values())


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
