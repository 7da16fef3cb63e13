"""A small world for the planner: one ICS of six acute trusts, each with a submitted acute return on a framework
of three pillars whose domains carry different weights and themes, and the cycle's gap targets."""

import datetime
from decimal import Decimal

import pytest

from maturity.models import DomainAnswer, GapTarget, Pillar, Status, TargetKind, Theme
from reports.summaries import tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    DomainFactory,
    FrameworkFactory,
    ICSFactory,
    TrustFactory,
)

# code: (pillar, weight, themes)
DOMAINS = {
    "WL01": ("well_led", Decimal("1.00"), ["workforce"]),
    "WL02": ("well_led", Decimal("2.50"), []),
    "SF01": ("smart_foundations", Decimal("1.50"), ["legacy_it", "cyber"]),
    "SF02": ("smart_foundations", Decimal("1.00"), ["epr"]),
    "SF03": ("smart_foundations", Decimal("0.75"), ["epr", "legacy_it"]),
    "SP01": ("safe_practice", Decimal("2.00"), ["epr"]),
}
LEVELS = {"WL01": 2, "WL02": 3, "SF01": 1, "SF02": 2, "SF03": 4, "SP01": 3}
# The other trusts' levels, each the same on every domain: the planned trust's overall of about 2.4 ranks among them.
OTHERS = [4, 3, 2, 2, 1]


def answer_all(assessment, levels: dict[str, int]):
    domains = {domain.code: domain for domain in assessment.applicable_domains()}
    DomainAnswer.objects.bulk_create(
        DomainAnswer(assessment=assessment, domain=domains[code], level=level) for code, level in levels.items()
    )


@pytest.fixture
def world(db):
    Pillar.objects.ensure_all()
    framework = FrameworkFactory()
    for position, (code, (pillar, weight, themes)) in enumerate(DOMAINS.items()):
        DomainFactory(
            framework=framework,
            pillar=Pillar.objects.get(code=pillar),
            code=code,
            weight=weight,
            themes=themes,
            position=position,
        )
    cycle = CycleFactory(year=2026, trust_framework=framework, opens_on=datetime.date(2026, 4, 1))
    for theme, goal in [(Theme.EPR, 3), (Theme.LEGACY_IT, 2.5), (Theme.CYBER, 2)]:
        GapTarget.objects.create(
            cycle=cycle, theme=theme, kind=TargetKind.DOMAIN_LEVEL, value=goal, description=f"Level {goal} on {theme}"
        )
    GapTarget.objects.create(
        cycle=cycle,
        theme=Theme.LEGACY_IT,
        kind=TargetKind.INDICATOR_AT_MOST,
        indicator_code="unsupported_devices_pct",
        value=5,
        description="At most 5% of devices unsupported",
    )
    ics = ICSFactory(name="NHS Greater Manchester Integrated Care Board")
    planned = AssessmentFactory(cycle=cycle, trust=TrustFactory(ics=ics), status=Status.SUBMITTED)
    answer_all(planned, LEVELS)
    others = []
    for level in OTHERS:
        other = AssessmentFactory(cycle=cycle, trust=TrustFactory(ics=ics), status=Status.APPROVED)
        answer_all(other, dict.fromkeys(DOMAINS, level))
        others.append(other)
    tables.rebuild()
    return {"cycle": cycle, "ics": ics, "assessment": planned, "others": others}
