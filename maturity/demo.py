"""Deterministic synthetic assessments for a demonstration cycle: every trust and care setting, every ICS, a mix of
statuses and plausible levels. Everything it makes is marked as demo (the cycle and each assessment) and every page
that shows it says so. Development only, like the demo accounts.

Levels are drawn around the trust's own published 2025 pillar score where there is one, so the demo looks like
the real country; the generator is seeded by the organisation and domain codes, so every run gives the same data.
"""

import datetime
import random
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from maturity import actions, audit, refresh
from maturity.models import (
    Assessment,
    Cycle,
    CycleKind,
    CycleState,
    DomainAnswer,
    Framework,
    FrameworkKind,
    GapTarget,
    IndicatorType,
    IndicatorValue,
    PublishedScore,
    ReviewComment,
    Source,
    Status,
    TargetKind,
    Theme,
)
from trusts.models import ICS, Trust

DEMO_YEAR = 2026
# The README's example lead (lead-r0a) finds fresh drafts, so the fill-in-and-submit journey can be walked at once.
FRESH_DRAFT_TRUSTS = {"R0A"}
# Share of assessments in each state (the rest have not been started).
STATUS_MIX = [
    (Status.SUBMITTED, 0.40),
    (Status.APPROVED, 0.25),
    (Status.DRAFT, 0.15),
    (Status.RETURNED, 0.08),
]
EPR_SUPPLIERS = {
    "acute": ["Epic", "Oracle Health (Cerner)", "Altera Digital Health (Sunrise)", "System C (CareFlow)", "MEDITECH"],
    "community": ["TPP (SystmOne)", "EMIS", "Rio (Servelec/Access)"],
    "mental-health": ["Rio (Servelec/Access)", "TPP (SystmOne)", "Oracle Health (Cerner)", "Epic"],
    "ambulance": ["Other", "System C (CareFlow)"],
    "ics": ["Other"],
}
# The design's example targets: level 3 on each theme's domains, an EPR live, DSPT met, ≤ 5 % unsupported devices,
# ≥ 5 % of turnover on digital.
DEFAULT_TARGETS = [
    (Theme.LEGACY_IT, TargetKind.DOMAIN_LEVEL, "", 3, "Level 3 on legacy IT domains"),
    (Theme.LEGACY_IT, TargetKind.INDICATOR_AT_MOST, "unsupported_devices_pct", 5, "At most 5% of devices unsupported"),
    (Theme.EPR, TargetKind.DOMAIN_LEVEL, "", 3, "Level 3 on EPR domains"),
    (Theme.EPR, TargetKind.INDICATOR_IN, "epr_in_place", [True], "An EPR live in every care setting"),
    (Theme.CYBER, TargetKind.DOMAIN_LEVEL, "", 3, "Level 3 on cyber domains"),
    (
        Theme.CYBER,
        TargetKind.INDICATOR_IN,
        "dspt_status",
        ["Standards Met", "Standards Exceeded"],
        "DSPT at Standards Met or better",
    ),
    (Theme.WORKFORCE, TargetKind.DOMAIN_LEVEL, "", 3, "Level 3 on workforce domains"),
    (Theme.INVESTMENT, TargetKind.INDICATOR_AT_LEAST, "digital_spend_pct", 5, "At least 5% of turnover on digital"),
]


class DemoRefused(Exception):
    pass


@dataclass
class DemoSummary:
    assessments: int = 0
    by_status: dict = field(default_factory=dict)
    answers: int = 0
    indicator_values: int = 0

    def lines(self):
        if not self.assessments:
            return [
                f"Demo cycle {DEMO_YEAR}: every demo assessment is already there; left as it is "
                "(load_demo_data --replace starts it again)."
            ]
        mix = ", ".join(f"{count} {status}" for status, count in sorted(self.by_status.items()))
        return [
            f"Demo cycle {DEMO_YEAR}: {self.assessments} assessments ({mix}), {self.answers} domain answers, "
            f"{self.indicator_values} indicator values. All marked as demo data."
        ]


def _rng(*parts) -> random.Random:
    return random.Random("|".join(str(part) for part in parts))


def _status_for(organisation_code: str, setting: str) -> str | None:
    if organisation_code in FRESH_DRAFT_TRUSTS:
        return Status.DRAFT
    draw = _rng("status", organisation_code, setting).random()
    for status, share in STATUS_MIX:
        if draw < share:
            return status
        draw -= share
    return None


def _indicator_raw(indicator, setting: str, rng: random.Random):
    """A plausible value for one indicator, as a dict of IndicatorValue's typed fields."""
    code, kind = indicator.code, indicator.value_type
    if code == "epr_supplier":
        return {"text": rng.choice(EPR_SUPPLIERS.get(setting, EPR_SUPPLIERS["ics"]))}
    if code == "dspt_status":
        return {"text": rng.choices(indicator.choices, weights=[2, 6, 3, 1, 1][: len(indicator.choices)])[0]}
    if kind == IndicatorType.BOOLEAN:
        return {"boolean": rng.random() < 0.85}
    if kind == IndicatorType.DATE:
        return {"date": datetime.date(rng.randint(2012, 2026), rng.randint(1, 12), 1)}
    if kind == IndicatorType.CHOICE:
        return {"text": rng.choice(indicator.choices)}
    if kind in (IndicatorType.PERCENT, IndicatorType.NUMBER):
        low, high = indicator.min_value or 0, indicator.max_value if indicator.max_value is not None else 100
        typical = {"unsupported_devices_pct": 6, "digital_spend_pct": 3.5, "ddat_vacancy_pct": 11}.get(code, 50)
        return {"number": round(min(high, max(low, rng.gauss(typical, typical / 2))), 1)}
    return {"text": "Demo value"}


def _published_pillar_means() -> dict[tuple[str, str], dict[str, float]]:
    """(trust code, setting) → pillar code → published 2025 score: the centre each demo level is drawn around."""
    rows = PublishedScore.objects.filter(
        assessment__source=Source.PUBLISHED, assessment__trust__isnull=False, pillar__isnull=False
    ).values_list("assessment__trust__code", "assessment__care_setting_id", "pillar__code", "score")
    means: dict[tuple[str, str], dict[str, float]] = {}
    for trust_code, setting, pillar_code, score in rows:
        means.setdefault((trust_code, setting), {})[pillar_code] = score
    return means


def _latest(kind: str) -> Framework:
    framework = Framework.objects.filter(kind=kind).order_by("-version").first()
    if framework is None:
        raise DemoRefused("Load the frameworks first: manage.py load_frameworks")
    return framework


@transaction.atomic
def load_demo_data(*, today: datetime.date | None = None, replace: bool = False) -> DemoSummary:
    """Fill the demo cycle with deterministic assessments where there are none. People enter, submit and approve
    returns in this cycle, so a re-run (every `make run`) adds only what is missing and never touches an existing
    assessment, its answers or its history; `replace=True` (asked for explicitly) wipes the cycle and starts again.
    One transaction, one audit event and one refresh mark for the cycle when anything was made."""
    if not settings.DEBUG:
        raise DemoRefused("Demo data is only loaded when DEBUG is on.")
    today = today or timezone.localdate()
    trust_framework, ics_framework = _latest(FrameworkKind.TRUST), _latest(FrameworkKind.ICS)
    cycle = Cycle.objects.filter(year=DEMO_YEAR).first()
    if cycle is not None and not cycle.is_demo:
        raise DemoRefused(f"The {DEMO_YEAR} cycle holds real data: demo data never replaces it.")
    if cycle is None or replace:
        cycle = cycle or Cycle(year=DEMO_YEAR, kind=CycleKind.COLLECTED, is_demo=True)
        cycle.state, cycle.trust_framework, cycle.ics_framework = CycleState.OPEN, trust_framework, ics_framework
        cycle.opens_on, cycle.closes_on = today - datetime.timedelta(days=60), today + datetime.timedelta(days=30)
        cycle.save()
        cycle.assessments.all().delete()
        cycle.targets.all().delete()
    else:
        trust_framework, ics_framework = cycle.trust_framework, cycle.ics_framework
    if not cycle.targets.exists():
        GapTarget.objects.bulk_create(
            GapTarget(cycle=cycle, theme=theme, kind=kind, indicator_code=code, value=value, description=description)
            for theme, kind, code, value, description in DEFAULT_TARGETS
        )

    published = _published_pillar_means()
    plans = [
        (trust.code, setting.slug, trust, setting, trust.ics)
        for trust in Trust.objects.open().select_related("ics__region").prefetch_related("care_settings")
        for setting in trust.care_settings.all()
    ]
    plans += [(ics.code, "ics", None, None, ics) for ics in ICS.objects.select_related("region")]
    present = {
        (trust_code, setting) if trust_code else (ics_code, "ics")
        for trust_code, setting, ics_code in cycle.assessments.values_list(
            "trust__code", "care_setting_id", "ics__code"
        )
    }
    plans = [plan for plan in plans if plan[:2] not in present]
    now = timezone.now()
    # A submitted demo return was submitted by its organisation's demo account (trusts.demo), where there is one.
    submitters = dict(
        get_user_model()
        .objects.filter(username__in=[_demo_username(code, trust) for code, _, trust, *_ in plans])
        .values_list("username", "pk")
    )
    assessments = []
    for code, setting_slug, trust, setting, ics in plans:
        status = _status_for(code, setting_slug)
        if status is None:
            continue
        assessments.append(
            Assessment(
                cycle=cycle,
                framework=trust_framework if trust else ics_framework,
                trust=trust,
                care_setting=setting,
                ics=ics,
                region=ics.region,
                status=status,
                is_demo=True,
                sign_off_name="Demo Executive" if status != Status.DRAFT else "",
                sign_off_role="Chief Executive" if status != Status.DRAFT else "",
                submitted_at=now if status != Status.DRAFT else None,
                submitted_by_id=submitters.get(_demo_username(code, trust)) if status != Status.DRAFT else None,
            )
        )
    Assessment.objects.bulk_create(assessments)

    domains = {
        framework.pk: list(framework.domains.select_related("pillar")) for framework in (trust_framework, ics_framework)
    }
    indicators = {framework.pk: list(framework.indicators.all()) for framework in (trust_framework, ics_framework)}
    answers, values, comments = [], [], []
    summary = DemoSummary(assessments=len(assessments))
    for assessment in assessments:
        summary.by_status[assessment.status] = summary.by_status.get(assessment.status, 0) + 1
        code = assessment.trust.code if assessment.trust_id else assessment.ics.code
        if code in FRESH_DRAFT_TRUSTS:
            # As a lead who has just started it finds it: only what NHS England has published filled in.
            values += actions.published_values_for(assessment)
            continue
        setting_slug = assessment.care_setting_id or "ics"
        centres = published.get((code, setting_slug), {})
        applicable = [d for d in domains[assessment.framework_id] if d.applies_to(assessment.care_setting_id)]
        # A draft is part-way through: about half its domains answered.
        answered = applicable[: len(applicable) // 2] if assessment.status == Status.DRAFT else applicable
        for domain in answered:
            rng = _rng("level", code, setting_slug, domain.code)
            centre = centres.get(domain.pillar.code, 2.5)
            level = min(5, max(1, round(rng.gauss(centre, 0.8))))
            answers.append(
                DomainAnswer(
                    assessment=assessment,
                    domain=domain,
                    level=level,
                    evidence_note=f"Demo evidence for {domain.code}: level {level} (synthetic).",
                )
            )
        if assessment.status != Status.DRAFT:
            for indicator in indicators[assessment.framework_id]:
                rng = _rng("indicator", code, setting_slug, indicator.code)
                values.append(
                    IndicatorValue(
                        assessment=assessment,
                        indicator_code=indicator.code,
                        source=Source.RETURN,
                        **_indicator_raw(indicator, setting_slug, rng),
                    )
                )
        if assessment.status == Status.RETURNED and applicable:
            comments.append((assessment, applicable[0]))
    DomainAnswer.objects.bulk_create(answers, batch_size=2000)
    IndicatorValue.objects.bulk_create(values, batch_size=2000)
    summary.answers, summary.indicator_values = len(answers), len(values)
    reviewer_comments = [
        ReviewComment(
            assessment=assessment,
            domain=domain,
            author=_demo_author(),
            text=f"Please add evidence for {domain.code} (demo comment).",
            round=1,
        )
        for assessment, domain in comments
    ]
    if reviewer_comments:
        ReviewComment.objects.bulk_create(reviewer_comments)
    if not assessments:
        return summary
    audit.record(
        by=None,
        action="load_demo_data",
        cycle=cycle,
        summary=f"Loaded demo data: {summary.assessments} synthetic assessments",
        after={"assessments": summary.assessments, "by_status": summary.by_status},
    )
    refresh.mark(reason="demo", cycle=cycle)
    return summary


def _demo_username(code: str, trust) -> str:
    """The demo account of the organisation that makes a return: lead-<trust> or ics-<icb>."""
    return f"lead-{code.lower()}" if trust else f"ics-{code.lower()}"


def _demo_author():
    """Review comments need an author: the demo analyst account (create_demo_accounts gives it its password)."""
    user, _ = get_user_model().objects.get_or_create(username="analyst")
    return user
