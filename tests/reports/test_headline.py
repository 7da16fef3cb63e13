"""The headline and the plain-English summary on a small ICS whose figures are worked out by hand below, for a
viewer who sees every trust by name and for one who may see the ICS only in aggregates."""

from types import SimpleNamespace

import pandas as pd
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maturity.models import Assessment, DomainAnswer, GapTarget, IndicatorValue, Pillar, Status, TargetKind, Theme
from reports.dashboards import gaps, sections
from reports.dashboards.headline import Headline, Position, biggest_movers, target_gaps
from reports.dashboards.summary import summarise
from reports.summaries import tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    DomainFactory,
    ICSFactory,
    RegionFactory,
    TrustFactory,
    lead_of,
    reviewer_of,
)
from trusts.models import CareSetting
from trusts.permissions import viewer_of

# Levels (WL01 well led, SF01 legacy IT, SF02 EPR – acute only, SP01 cyber) and devices on unsupported systems (%)
# of each return in Greater Manchester; Trust 1 has a community return too.
RETURNS = {
    ("Trust 1", "acute"): ({"WL01": 3, "SF01": 2, "SF02": 1, "SP01": 3}, 8),
    ("Trust 1", "community"): ({"WL01": 3, "SF01": 3, "SP01": 1}, 10),
    ("Trust 2", "acute"): ({"WL01": 3, "SF01": 3, "SF02": 2, "SP01": 2}, 4),
    ("Trust 3", "acute"): ({"WL01": 4, "SF01": 4, "SF02": 3, "SP01": 4}, 6),
    ("Trust 4", "acute"): ({"WL01": 2, "SF01": 1, "SF02": 4, "SP01": 3}, 5),
    ("Trust 5", "acute"): ({"WL01": 3, "SF01": 3, "SF02": 3, "SP01": 1}, 2),
}
TARGETS = [
    (Theme.EPR, TargetKind.DOMAIN_LEVEL, "", 3, "Level 3 on EPR domains"),
    (Theme.CYBER, TargetKind.DOMAIN_LEVEL, "", 3, "Level 3 on cyber domains"),
    (Theme.LEGACY_IT, TargetKind.DOMAIN_LEVEL, "", 3, "Level 3 on legacy IT domains"),
    (Theme.LEGACY_IT, TargetKind.INDICATOR_AT_MOST, "unsupported_devices_pct", 5, "At most 5% of devices unsupported"),
]


def answer(cycle, trust, setting, levels, devices, status=Status.SUBMITTED):
    assessment = AssessmentFactory(cycle=cycle, trust=trust, care_setting_id=setting, status=status)
    DomainAnswer.objects.bulk_create(
        DomainAnswer(assessment=assessment, domain=domain, level=levels[domain.code])
        for domain in assessment.applicable_domains()
    )
    IndicatorValue.objects.create(assessment=assessment, indicator_code="unsupported_devices_pct", number=devices)
    return assessment


@pytest.fixture
def world(db):
    north_west = RegionFactory(code="Y62", name="North West")
    midlands = RegionFactory(code="Y60", name="Midlands")
    qop = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board", region=north_west)
    qhl = ICSFactory(code="QHL", name="NHS Birmingham and Solihull Integrated Care Board", region=midlands)
    cycle = CycleFactory()
    Pillar.objects.ensure_all()
    DomainFactory(
        framework=cycle.trust_framework,
        pillar=Pillar.objects.get(code="safe_practice"),
        code="SP01",
        name="Cyber security",
        themes=["cyber"],
    )
    GapTarget.objects.bulk_create(
        GapTarget(cycle=cycle, theme=theme, kind=kind, indicator_code=code, value=value, description=description)
        for theme, kind, code, value, description in TARGETS
    )
    trusts = {}
    for (name, setting), (levels, devices) in RETURNS.items():
        if name not in trusts:
            settings = [CareSetting.ACUTE, CareSetting.COMMUNITY] if name == "Trust 1" else [CareSetting.ACUTE]
            trusts[name] = TrustFactory(code=f"R0{name[-1]}", name=name, ics=qop, care_settings=settings)
        status = Status.APPROVED if name == "Trust 5" else Status.SUBMITTED
        answer(cycle, trusts[name], setting, levels, devices, status)
    elsewhere = TrustFactory(code="RQ3", name="Trust in Birmingham", ics=qhl)
    answer(cycle, elsewhere, "acute", {"WL01": 3, "SF01": 3, "SF02": 3, "SP01": 3}, 3)
    tables.rebuild()
    return SimpleNamespace(qop=qop, cycle=cycle, trusts=trusts, elsewhere=elsewhere)


def ics_headline(world, user):
    handle = sections.ics_dashboard(world.qop, 2026, [2026], user)
    return handle.load()


def test_the_ics_headline_counts_trusts_that_miss_each_target_for_its_reviewer(world):
    dashboard = ics_headline(world, reviewer_of(world.qop))
    headline = dashboard.headline
    # Overall score of each return: the mean of its domain levels. Acute returns have four domains, community three.
    overall = [9 / 4, 7 / 3, 10 / 4, 15 / 4, 10 / 4, 10 / 4]
    assert headline.overall.value == pytest.approx(sum(overall) / 6)
    assert headline.overall.n == 6
    assert headline.comparator_names == ["North West", "England"]
    assert headline.overall.comparators == pytest.approx([sum(overall) / 6, (sum(overall) + 3) / 7])
    assert headline.previous_year is None
    assert (headline.progress.expected, headline.progress.submitted, headline.progress.approved) == (6, 6, 1)

    figures = {
        (theme.theme, target.description): (target.missing, target.counted, target.counts, target.unit, target.gap)
        for theme in headline.themes
        for target in theme.targets
    }
    assert figures == {
        # EPR (acute only): Trust 1 at 1 (gap 2), Trust 2 at 2 (gap 1); Trust 1's community return has no value.
        ("epr", "Level 3 on EPR domains"): (2, 5, "trusts", "levels", pytest.approx(1.5)),
        # Cyber: Trust 1 misses in community (gap 2) though its acute return meets it; Trust 2 gap 1, Trust 5 gap 2.
        ("cyber", "Level 3 on cyber domains"): (3, 5, "trusts", "levels", pytest.approx(5 / 3)),
        # Legacy IT levels: Trust 1 acute (gap 1), Trust 4 (gap 2).
        ("legacy_it", "Level 3 on legacy IT domains"): (2, 5, "trusts", "levels", pytest.approx(1.5)),
        # Devices: Trust 1's largest gap is its community return's 10 % (5 points); Trust 3 at 6 % (1 point).
        ("legacy_it", "At most 5% of devices unsupported"): (2, 5, "trusts", "percentage points", pytest.approx(3.0)),
    }
    anchors = {theme.theme: theme.anchor for theme in headline.themes}
    assert anchors == {"epr": "epr-gap", "cyber": "cyber-gap", "legacy_it": "legacy-it-gap"}
    assert set(anchors.values()) <= {section.anchor for section in dashboard.sections}


def test_a_lead_of_another_ics_sees_only_aggregates_counted_in_returns(world):
    headline = ics_headline(world, lead_of(world.elsewhere)).headline
    figures = {
        target.description: (target.missing, target.counted, target.counts, target.gap, target.furthest)
        for theme in headline.themes
        for target in theme.targets
    }
    # Over the 6 returns (5 with an EPR value): the same misses counted per return, gaps averaged over those missing.
    assert figures == {
        "Level 3 on EPR domains": (2, 5, "returns", pytest.approx(1.5), ""),
        "Level 3 on cyber domains": (3, 6, "returns", pytest.approx(5 / 3), ""),
        "Level 3 on legacy IT domains": (2, 6, "returns", pytest.approx(1.5), ""),
        "At most 5% of devices unsupported": (3, 6, "returns", pytest.approx(3.0), ""),
    }
    assert headline.overall.n == 6
    assert not headline.movers
    assert any("counted in returns, not trusts" in note for note in headline.notes)


def test_the_region_headline_counts_trusts_when_its_reader_sees_every_return_it_counts(world):
    """Greater Manchester is the only ICS of the North West: its reviewer reads every return the region's aggregates
    count, so the region's headline counts trusts, as its cyber and legacy IT panel does, by hand as for the ICS."""
    dashboard = sections._area(world.qop.region, 2026, [2026], viewer_of(reviewer_of(world.qop)))
    figures = {
        target.description: (target.missing, target.counted, target.counts, target.gap)
        for theme in dashboard.headline.themes
        for target in theme.targets
    }
    assert figures == {
        "Level 3 on EPR domains": (2, 5, "trusts", pytest.approx(1.5)),
        "Level 3 on cyber domains": (3, 5, "trusts", pytest.approx(5 / 3)),
        "Level 3 on legacy IT domains": (2, 5, "trusts", pytest.approx(1.5)),
        "At most 5% of devices unsupported": (2, 5, "trusts", pytest.approx(3.0)),
    }
    panels = {
        row["Target"]: (
            row["Trusts missing it"],
            row["Trusts with a value"],
            "trusts",
            row["Mean gap of trusts missing it"],
        )
        for chart_id in ("cyber-targets", "legacy_it-targets")
        for row in dashboard.chart(chart_id).table.to_dict("records")
    }
    assert panels == {name: figure for name, figure in figures.items() if name != "Level 3 on EPR domains"}
    assert not any("counted in returns" in note for note in dashboard.headline.notes)


def test_aggregates_under_five_are_not_shown_to_a_lead_of_another_ics(world):
    """Remove two of Greater Manchester's returns: its aggregates (4 returns) are hidden from outsiders."""
    Assessment.objects.filter(trust__name__in=["Trust 4", "Trust 5"]).delete()
    tables.rebuild()
    headline = ics_headline(world, lead_of(world.elsewhere)).headline
    assert headline.overall.value is None
    assert all(not theme.targets for theme in headline.themes)
    # Targets were set: the headline says why it shows none, rather than that there are none.
    assert [theme.facts for theme in headline.themes] == [["Too few returns to show (at least 5 are needed)"]] * 3
    assert not any("No EPR, cyber or legacy IT targets" in note for note in headline.notes)
    # Counts of returns by status cover the 6 expected returns, enough to show.
    assert (headline.progress.expected, headline.progress.submitted) == (6, 4)


def test_the_summary_of_the_ics_for_its_reviewer(world):
    dashboard = ics_headline(world, reviewer_of(world.qop))
    assert dashboard.summary == [
        "Greater Manchester's overall score in 2026 is 2.64 (mean of 6 returns), against North West 2.64 and "
        "England 2.69.",
        "The strongest pillar is Well Led (3.00; England 3.00) and the weakest Safe Practice (2.33; England 2.43).",
        "No earlier cycle is comparable with 2026, so no change is shown.",
        "EPR: 2 of 5 trusts miss ‘Level 3 on EPR domains’, by 1.50 levels on average (furthest: Trust 1).",
        "Cyber: 3 of 5 trusts miss ‘Level 3 on cyber domains’, by 1.67 levels on average (furthest: Trust 1).",
        # The targets in the order they were set, as in the legacy IT gap panel.
        "Legacy IT: 2 of 5 trusts miss ‘Level 3 on legacy IT domains’, by 1.50 levels on average (furthest: "
        "Trust 4); 2 of 5 trusts miss ‘At most 5% of devices unsupported’, by 3.0 percentage points on average "
        "(furthest: Trust 1).",
        "6 of 6 expected returns are in (submitted or approved), 1 of them approved.",
    ]


def test_the_trust_headline_counts_its_care_settings(world):
    trust = world.trusts["Trust 1"]
    dashboard = sections.trust_dashboard(trust, 2026, [2026], lead_of(trust)).load()
    headline = dashboard.headline
    assert headline.comparator_names == ["Greater Manchester", "England"]
    assert headline.overall.value == pytest.approx((9 / 4 + 7 / 3) / 2)
    figures = {
        target.description: (target.missing, target.counted, target.gap_text)
        for theme in headline.themes
        for target in theme.targets
    }
    assert figures == {
        "Level 3 on EPR domains": (1, 1, "by up to 2.00 levels"),
        "Level 3 on cyber domains": (1, 2, "by up to 2.00 levels"),
        "Level 3 on legacy IT domains": (1, 2, "by up to 1.00 levels"),
        "At most 5% of devices unsupported": (2, 2, "by up to 5.0 percentage points"),
    }
    assert {theme.anchor for theme in headline.themes} == {"gaps-to-target"}


def test_the_trust_page_opens_on_the_latest_cycle_with_its_own_results(client, world):
    """Trust 2 has results in 2025 and only a draft in 2026: its lead lands on 2025, not on an empty 2026."""
    trust = world.trusts["Trust 2"]
    earlier = CycleFactory(year=2025)
    answer(earlier, trust, "acute", {"WL01": 2, "SF01": 2, "SF02": 2}, 4)
    trust_2026 = trust.assessments.get(cycle=world.cycle)
    trust_2026.status = Status.DRAFT
    trust_2026.save()
    tables.rebuild()
    client.force_login(lead_of(trust))
    content = client.get(f"/trusts/{trust.code}/").content.decode()
    assert "At a glance: 2025" in content
    assert "Digital maturity in 2025" in content
    other = world.trusts["Trust 3"]
    client.force_login(lead_of(other))
    assert "At a glance: 2026" in client.get(f"/trusts/{other.code}/").content.decode()
    client.force_login(lead_of(trust))
    assert "Digital maturity in 2026" in client.get(f"/trusts/{trust.code}/?cycle=2026").content.decode()


def test_the_headline_comes_first_and_a_warm_page_serves_it_from_the_cache(client, world):
    client.force_login(reviewer_of(world.qop))
    content = client.get("/ics/QOP/").content.decode()
    assert (
        content.index("At a glance: 2026")
        < content.index("Integrated care board")
        < content.index('id="member-trusts-against-the-seven-pillars"')
    )
    assert 'href="#epr-gap"' in content and 'id="epr-gap"' in content
    with CaptureQueriesContext(connection) as captured:
        assert "At a glance: 2026" in client.get("/ics/QOP/").content.decode()
    sql = " ".join(query["sql"] for query in captured.captured_queries)
    for table in ("reports_pillarscore", "reports_gapscore", "reports_areastat", "reports_progressstat"):
        assert table not in sql


# --- Pure rules on fixed data ------------------------------------------------------------------------------------


def test_a_trust_misses_a_target_when_any_of_its_returns_does_and_its_gap_is_its_largest():
    code = "epr:level-3-on-epr-domains"
    rows = pd.DataFrame(
        [
            ("A", "Trust A", "acute", 0.0, 3.5),
            ("A", "Trust A", "community", 0.5, 2.5),
            ("B", "Trust B", "acute", 1.5, 1.5),
            ("B", "Trust B", "community", 0.5, 2.5),
            ("C", "Trust C", "acute", 0.0, 3.0),
            ("D", "Trust D", "acute", None, None),
        ],
        columns=["org_code", "org_name", "care_setting", "gap", "measured"],
    ).assign(target_code=code)
    target = gaps.Target(code, "epr", "Level 3 on EPR domains", gaps.LEVELS, "Level 3 or above")
    (figures,) = target_gaps(gaps.trust_summary(gaps.trust_gaps(rows), [target]), "trusts")
    # A and B miss (A through its community return); D has no value and is not counted; gaps 0.5 and 1.5.
    assert (figures.missing, figures.counted, figures.gap, figures.furthest) == (2, 3, 1.0, "Trust B")
    assert figures.share_meeting == pytest.approx(100 / 3)
    assert figures.gap_text == "by 1.00 levels on average"


def test_the_summary_says_what_moved_since_the_last_comparable_cycle():
    headline = Headline(
        place="Somewhere",
        year=2025,
        previous_year=2024,
        comparator_names=["England"],
        positions=[
            Position("Overall", 2.5, 12, [2.4], previous=2.2),
            Position("Well Led", 3.1, 12, [2.9], previous=3.0),
            Position("Safe Practice", 2.0, 12, [2.2], previous=2.4),
        ],
        progress=None,
        themes=[],
        movers=biggest_movers(
            pd.DataFrame(
                [(2024, "Trust A", 2.0), (2025, "Trust A", 2.6), (2024, "Trust B", 3.0), (2025, "Trust B", 2.7)],
                columns=["cycle_year", "org_name", "score"],
            ),
            2025,
            2024,
        ),
    )
    assert summarise(headline) == [
        "Somewhere's overall score in 2025 is 2.50 (mean of 12 returns), against England 2.40.",
        "The strongest pillar is Well Led (3.10; England 2.90) and the weakest Safe Practice (2.00; England 2.20).",
        "Since 2024 the overall score rose by 0.30 (from 2.20). The biggest move among the pillars: Safe Practice "
        "fell by 0.40.",
        "Biggest movers since 2024: Trust A rose by 0.60; Trust B fell by 0.30.",
    ]
