"""The gap panels' figures on a small ICS whose every figure is worked out by hand below.

Greater Manchester (QOP) has five trusts and seven returns; Cheshire and Merseyside (QYG), in the same region, five
trusts that meet every target. The small framework's legacy IT theme is the one domain SF01 and its EPR theme the
acute-only domain SF02, so a return's theme level is that domain's level. Targets: level 3 on legacy IT, at most 5%
of devices unsupported (a percentage: its gap is in percentage points), DSPT at Standards Met or better (met or
not), level 3 on EPR.

    trust  setting        SF01  SF02  devices  DSPT
    R01    acute          2     4     8        Standards Met
    R01    community      3     -     4        Approaching Standards
    R02    acute          1     2     5        Standards Met
    R03    acute          3     3     6.5      Standards Met
    R03    mental health  2     -     10       Standards Not Met
    R04    acute          4     1     2        Standards Met
    R05    community      3     -     5.5      (none)

A trust misses a target when any of its returns is below it; the share meeting is over the trusts with a value; the
gap of a trust is its largest, and "by how much" the mean of those over the trusts that miss.
"""

import csv
import io

import pandas as pd
import pytest
from django.contrib.auth import get_user_model

from maturity.models import DomainAnswer, GapTarget, IndicatorValue, Status, TargetKind, Theme
from reports.dashboards import charts, gaps, sections
from reports.summaries import tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    ICSFactory,
    RegionFactory,
    TrustFactory,
    lead_of,
    reviewer_of,
)
from trusts.permissions import viewer_of

RETURNS = {
    # trust: name, {setting: (SF01, SF02, devices, DSPT)}
    "R01": (
        "Alpha NHS Trust",
        {"acute": (2, 4, 8, "Standards Met"), "community": (3, None, 4, "Approaching Standards")},
    ),
    "R02": ("Bravo NHS Trust", {"acute": (1, 2, 5, "Standards Met")}),
    "R03": (
        "Charlie NHS Trust",
        {"acute": (3, 3, 6.5, "Standards Met"), "mental-health": (2, None, 10, "Standards Not Met")},
    ),
    "R04": ("Delta NHS Trust", {"acute": (4, 1, 2, "Standards Met")}),
    "R05": ("Echo NHS Trust", {"community": (3, None, 5.5, None)}),
}
ELSEWHERE = {f"R1{n}": (f"Open Trust {n}", {"acute": (3, 3, 1, "Standards Met")}) for n in range(5)}
LEGACY_LEVEL = "Level 3 on legacy IT domains"
DEVICES = "At most 5% of devices unsupported"
DSPT = "DSPT at Standards Met or better"
EPR_LEVEL = "Level 3 on EPR domains"


def make_return(cycle, trust, setting, values):
    sf01, sf02, devices, dspt = values
    assessment = AssessmentFactory(cycle=cycle, trust=trust, care_setting_id=setting, status=Status.SUBMITTED)
    levels = {"WL01": 3, "SF01": sf01, "SF02": sf02}
    DomainAnswer.objects.bulk_create(
        DomainAnswer(assessment=assessment, domain=domain, level=levels[domain.code])
        for domain in assessment.applicable_domains()
    )
    IndicatorValue.objects.create(assessment=assessment, indicator_code="unsupported_devices_pct", number=devices)
    if dspt:
        IndicatorValue.objects.create(assessment=assessment, indicator_code="dspt_status", text=dspt)


@pytest.fixture
def world(db):
    north = RegionFactory(code="Y62", name="North West")
    qop = ICSFactory(code="QOP", name="NHS Greater Manchester Integrated Care Board", region=north)
    qyg = ICSFactory(code="QYG", name="NHS Cheshire and Merseyside Integrated Care Board", region=north)
    cycle = CycleFactory()
    for theme, kind, code, value, description in [
        (Theme.LEGACY_IT, TargetKind.DOMAIN_LEVEL, "", 3, LEGACY_LEVEL),
        (Theme.LEGACY_IT, TargetKind.INDICATOR_AT_MOST, "unsupported_devices_pct", 5, DEVICES),
        (Theme.CYBER, TargetKind.INDICATOR_IN, "dspt_status", ["Standards Met", "Standards Exceeded"], DSPT),
        (Theme.EPR, TargetKind.DOMAIN_LEVEL, "", 3, EPR_LEVEL),
    ]:
        GapTarget.objects.create(
            cycle=cycle, theme=theme, kind=kind, indicator_code=code, value=value, description=description
        )
    trusts = {}
    for ics, table in ((qop, RETURNS), (qyg, ELSEWHERE)):
        for code, (name, settings) in table.items():
            trusts[code] = TrustFactory(code=code, name=name, ics=ics, care_settings=list(settings))
            for setting, values in settings.items():
                make_return(cycle, trusts[code], setting, values)
    tables.rebuild()
    return {"qop": qop, "north": north, "trusts": trusts}


def table(chart) -> list[dict]:
    return chart.table.to_dict("records")


def by_target(chart) -> dict[str, dict]:
    return {row["Target"]: row for row in table(chart)}


def dashboard_chart(dashboard, chart_id):
    chart = dashboard.chart(chart_id)
    assert chart is not None, f"no chart {chart_id}"
    return chart


def test_a_named_viewer_sees_the_share_of_trusts_meeting_each_target_and_the_gap_in_its_unit(world):
    viewer = viewer_of(reviewer_of(world["qop"]))
    dashboard = sections._ics(world["qop"], 2026, [2026], viewer)

    legacy = by_target(dashboard_chart(dashboard, "legacy_it-targets"))
    assert list(legacy) == [LEGACY_LEVEL, DEVICES]  # two targets, two names
    level = legacy[LEGACY_LEVEL]
    # Largest gaps: R01 1 (acute), R02 2, R03 1 (mental health); R04 and R05 meet it.
    assert (level["Trusts with a value"], level["Trusts meeting it"], level["Trusts missing it"]) == (5, 2, 3)
    assert level["Share of trusts meeting it (%)"] == pytest.approx(40)
    assert level["Mean gap of trusts missing it"] == pytest.approx((1 + 2 + 1) / 3)
    assert (level["Unit of the gap"], level["Target value"]) == ("levels", "Level 3 or above")
    devices = legacy[DEVICES]
    # Largest gaps: R01 3 (8%), R03 5 (10%), R05 0.5 (5.5%); R02 is at 5% exactly and meets it, as does R04.
    assert (devices["Trusts with a value"], devices["Trusts meeting it"], devices["Trusts missing it"]) == (5, 2, 3)
    assert devices["Mean gap of trusts missing it"] == pytest.approx((3 + 5 + 0.5) / 3)
    assert (devices["Unit of the gap"], devices["Target value"]) == ("percentage points", "At most 5%")

    dspt = by_target(dashboard_chart(dashboard, "cyber-targets"))[DSPT]
    # R05 has no DSPT status; R01 (community) and R03 (mental health) each have one return below.
    assert (dspt["Trusts with a value"], dspt["Trusts meeting it"], dspt["Trusts missing it"]) == (4, 2, 2)
    assert dspt["Share of trusts meeting it (%)"] == pytest.approx(50)
    assert dspt["Mean gap of trusts missing it"] is None  # met or not: no size
    assert dspt["Target value"] == "Standards Met or Standards Exceeded"

    epr = by_target(dashboard_chart(dashboard, "epr-targets"))[EPR_LEVEL]
    # Only acute returns have an EPR level: R02 (gap 1) and R04 (gap 2) miss it.
    assert (epr["Trusts with a value"], epr["Trusts meeting it"], epr["Share of trusts meeting it (%)"]) == (4, 2, 50)
    assert epr["Mean gap of trusts missing it"] == pytest.approx(1.5)


def test_below_target_lists_each_trust_once_with_its_ods_code_largest_gap_first(world):
    dashboard = sections._ics(world["qop"], 2026, [2026], viewer_of(reviewer_of(world["qop"])))
    level = dashboard_chart(dashboard, "legacy_it-below-1")
    assert [(row["Trust"], row["ODS code"], row["Largest gap to target (levels)"]) for row in table(level)] == [
        ("Bravo NHS Trust", "R02", 2),
        ("Alpha NHS Trust", "R01", 1),
        ("Charlie NHS Trust", "R03", 1),
    ]
    assert level.figure["layout"]["xaxis"]["title"]["text"] == "Largest gap to target (levels)"

    devices = dashboard_chart(dashboard, "legacy_it-below-2")
    assert [
        (
            row["ODS code"],
            row["Care settings below target"],
            row["Measured"],
            row["Largest gap to target (percentage points)"],
        )
        for row in table(devices)
    ] == [("R03", "Acute, Mental health", 10, 5), ("R01", "Acute", 8, 3), ("R05", "Community", 5.5, 0.5)]
    assert devices.figure["layout"]["xaxis"]["title"]["text"] == "Largest gap to target (percentage points)"

    dspt = dashboard_chart(dashboard, "cyber-below-1")
    assert [(row["ODS code"], row["Measured"], row["Care settings missing it"]) for row in table(dspt)] == [
        ("R01", "Approaching Standards", 1),
        ("R03", "Standards Not Met", 1),
    ]


def test_dspt_and_devices_count_each_trust_once(world):
    dashboard = sections._ics(world["qop"], 2026, [2026], viewer_of(reviewer_of(world["qop"])))
    # Six returns carry a status; four trusts do, each at its least good: R01 Approaching, R03 Not Met.
    (dspt,) = table(dashboard_chart(dashboard, "dspt"))
    assert {status: count for status, count in dspt.items() if status != "What is counted"} == {
        "Standards Met": 2,
        "Approaching Standards": 1,
        "Standards Not Met": 1,
    }
    assert dashboard_chart(dashboard, "dspt").figure["layout"]["xaxis"]["title"]["text"] == "Trusts"
    devices = dashboard_chart(dashboard, "devices")
    assert [(row["Trust"], row["Devices on unsupported systems (%)"]) for row in table(devices)] == [
        ("Charlie NHS Trust", 10),
        ("Alpha NHS Trust", 8),
        ("Echo NHS Trust", 5.5),
        ("Bravo NHS Trust", 5),
        ("Delta NHS Trust", 2),
    ]
    assert devices.figure["layout"]["yaxis"]["title"]["text"] == "Trusts"


def test_a_viewer_who_sees_only_aggregates_gets_figures_over_returns(world):
    """A lead of R01 reads its own two returns one by one, and Greater Manchester's aggregates over its 7 returns."""
    dashboard = sections._ics(world["qop"], 2026, [2026], viewer_of(lead_of(world["trusts"]["R01"])))
    legacy = by_target(dashboard_chart(dashboard, "legacy_it-targets"))
    level = legacy[LEGACY_LEVEL]
    # Return gaps 1, 0, 2, 0, 1, 0, 0: 4 of 7 meet it; the 3 missing it miss by 4/3 on average.
    assert (level["Returns with a value"], level["Returns meeting it"], level["Returns missing it"]) == (7, 4, 3)
    assert level["Share of returns meeting it (%)"] == pytest.approx(100 * 4 / 7)
    assert level["Mean gap of returns missing it"] == pytest.approx(4 / 3)
    devices = legacy[DEVICES]
    # Return gaps 3, 0, 0, 1.5, 5, 0, 0.5: 4 miss, by 10 / 4 on average.
    assert (devices["Returns with a value"], devices["Returns missing it"]) == (7, 4)
    assert devices["Mean gap of returns missing it"] == pytest.approx(2.5)
    # Four returns have an EPR level: too few for an aggregate this viewer may see.
    assert dashboard_chart(dashboard, "epr-targets").is_empty
    # Its own trust is still listed by name where it misses.
    assert [row["ODS code"] for row in table(dashboard_chart(dashboard, "legacy_it-below-1"))] == ["R01"]


def test_the_chart_csv_carries_the_hand_computed_figures(client, world):
    client.force_login(reviewer_of(world["qop"]))
    response = client.get("/ics/QOP/?cycle=2026&chart=legacy_it-targets&format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [row["Target"] for row in rows] == [LEGACY_LEVEL, DEVICES]
    assert [int(row["Trusts missing it"]) for row in rows] == [3, 3]
    assert [float(row["Mean gap of trusts missing it"]) for row in rows] == pytest.approx([4 / 3, 8.5 / 3], abs=0.01)
    below = client.get("/ics/QOP/?cycle=2026&chart=legacy_it-below-2&format=csv").content.decode("utf-8-sig")
    assert next(csv.reader(io.StringIO(below)))[:2] == ["Trust", "ODS code"]


def test_the_trust_dashboard_gives_each_unit_of_gap_its_own_chart(world):
    dashboard = sections._trust(world["trusts"]["R01"], 2026, [2026], viewer_of(lead_of(world["trusts"]["R01"])))
    levels = dashboard_chart(dashboard, "gaps-levels")
    assert levels.figure["layout"]["xaxis"]["title"]["text"] == "Gap to target (levels; 0 = target met)"
    # The community return has no EPR domain: nothing measured, so no row.
    assert [
        (row["Target"], row["Measured"], row["Gap to target (levels)"], row["Target met"]) for row in table(levels)
    ] == [
        (f"{EPR_LEVEL} – Acute", 4, 0, "Yes"),
        (f"{LEGACY_LEVEL} – Acute", 2, 1, "No"),
        (f"{LEGACY_LEVEL} – Community", 3, 0, "Yes"),
    ]
    points = dashboard_chart(dashboard, "gaps-percentage-points")
    assert points.figure["layout"]["xaxis"]["title"]["text"] == "Gap to target (percentage points; 0 = target met)"
    assert [(row["Measured"], row["Gap to target (percentage points)"]) for row in table(points)] == [(8, 3), (4, 0)]
    met_or_not = table(dashboard_chart(dashboard, "gaps-met-or-not"))
    assert [(row["Measured"], row["Target met"]) for row in met_or_not] == [
        ("Standards Met", "Yes"),
        ("Approaching Standards", "No"),
    ]
    # England: 11 returns with a status, 9 of them Standards Met.
    assert met_or_not[0]["England: share of returns meeting it (%)"] == pytest.approx(100 * 9 / 11)


@pytest.mark.parametrize("role", ["analyst", "lead"])
def test_the_region_counts_trusts_or_says_returns(world, role):
    user = (
        get_user_model().objects.create_superuser("admin", password="x")
        if role == "analyst"
        else lead_of(world["trusts"]["R01"])
    )
    dashboard = sections._area(world["north"], 2026, [2026], viewer_of(user))
    legacy = by_target(dashboard_chart(dashboard, "legacy_it-targets"))
    dspt = by_target(dashboard_chart(dashboard, "cyber-targets"))[DSPT]
    if role == "analyst":
        # Ten trusts: Cheshire's five meet every target.
        assert (legacy[LEGACY_LEVEL]["Trusts with a value"], legacy[LEGACY_LEVEL]["Trusts meeting it"]) == (10, 7)
        assert legacy[DEVICES]["Mean gap of trusts missing it"] == pytest.approx(8.5 / 3)
        assert (dspt["Trusts with a value"], dspt["Trusts meeting it"]) == (9, 7)
        counts = {row["ICS"]: row for row in table(dashboard_chart(dashboard, "dspt"))}
        assert counts["Cheshire and Merseyside"]["Standards Met"] == 5
        assert (counts["Greater Manchester"]["Standards Met"], counts["Greater Manchester"]["Standards Not Met"]) == (
            2,
            1,
        )
    else:
        # Twelve returns; 3 miss the level target (by 4/3), 4 the devices target (by 2.5), 2 the DSPT target.
        assert (legacy[LEGACY_LEVEL]["Returns with a value"], legacy[LEGACY_LEVEL]["Returns meeting it"]) == (12, 9)
        assert legacy[LEGACY_LEVEL]["Mean gap of returns missing it"] == pytest.approx(4 / 3)
        assert legacy[DEVICES]["Mean gap of returns missing it"] == pytest.approx(2.5)
        assert (dspt["Returns with a value"], dspt["Returns meeting it"]) == (11, 9)
        # Only its own trust, once, at its least good status.
        (row,) = table(dashboard_chart(dashboard, "dspt"))
        assert (row["ICS"], row["Approaching Standards"]) == ("Greater Manchester", 1)


@pytest.mark.parametrize("role", ["reviewer", "lead of another ICS"])
def test_the_headline_gives_the_gap_panels_figures(world, role):
    """The headline and the gap panels are one definition: per target, the same counts, share meeting and mean gap,
    in trusts for the ICS's reviewer and in returns (the aggregates it may see) for a lead of a trust elsewhere."""
    user = reviewer_of(world["qop"]) if role == "reviewer" else lead_of(world["trusts"]["R10"])
    dashboard = sections._ics(world["qop"], 2026, [2026], viewer_of(user))
    counted = "trusts" if role == "reviewer" else "returns"
    noun = counted.capitalize()
    panels = {
        row["Target"]: (
            row[f"{noun} missing it"],
            row[f"{noun} with a value"],
            pytest.approx(row[f"Share of {counted} meeting it (%)"]),
            None if pd.isna(row[f"Mean gap of {counted} missing it"]) else row[f"Mean gap of {counted} missing it"],
        )
        for theme in ("epr", "cyber", "legacy_it")
        for row in table(dashboard_chart(dashboard, f"{theme}-targets"))
    }
    headline = {
        target.description: (target.missing, target.counted, target.share_meeting, target.gap)
        for theme in dashboard.headline.themes
        for target in theme.targets
    }
    assert headline == panels
    # Every target with a figure on both: the aggregates over 4 EPR returns are hidden from the lead, on both.
    assert set(headline) == (
        {LEGACY_LEVEL, DEVICES, DSPT, EPR_LEVEL} if role == "reviewer" else {LEGACY_LEVEL, DEVICES, DSPT}
    )
    assert {target.counts for theme in dashboard.headline.themes for target in theme.targets} == {counted}


# --- The builders, on frames given directly -------------------------------------------------------------------------


def test_below_target_sorts_by_gap_whatever_the_order_given():
    chart = charts.gap_below(
        "below",
        pd.DataFrame(
            {
                "org_name": ["Alpha", "Bravo", "Charlie"],
                "ods_code": ["R01", "R02", "R03"],
                "settings": ["Acute", "Acute", "Community"],
                "measured": [2.5, 1.0, 2.5],
                "goal": "Level 3 or above",
                "gap": [0.5, 2.0, 0.5],
            }
        ),
        unit="levels",
    )
    assert chart.figure["data"][0]["y"] == ["Bravo", "Alpha", "Charlie"]
    assert list(chart.table.columns)[:2] == ["Trust", "ODS code"]


def test_a_met_or_not_target_says_met_rather_than_a_size():
    chart = charts.gaps(
        "met",
        pd.DataFrame(
            {
                "theme_name": ["DSPT"],
                "description": ["Cyber security"],
                "measured": ["Approaching Standards"],
                "target": ["Standards Met"],
                "gap": [1.0],
            }
        ),
        unit=charts.MET_OR_NOT,
    )
    assert chart.table.to_dict("records") == [
        {
            "Theme": "DSPT",
            "Target": "Cyber security",
            "Measured": "Approaching Standards",
            "Target value": "Standards Met",
            "Target met": "No",
        }
    ]
    assert chart.figure["layout"]["xaxis"]["ticktext"] == ["Met", "Not met"]


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.gap_targets("t", pd.DataFrame(columns=gaps.SUMMARY_COLUMNS), counted="returns"),
        lambda: charts.gap_below("b", pd.DataFrame(columns=["org_name", "ods_code", "gap"]), unit="levels"),
    ],
)
def test_the_gap_builders_give_an_empty_chart_for_no_rows(build):
    chart = build()
    assert chart.is_empty and chart.figure == {"data": [], "layout": {}}
