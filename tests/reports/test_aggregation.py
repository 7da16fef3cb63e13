"""The aggregation rules against small frames computed by hand."""

import pandas as pd
import pytest

from reports import aggregation


def assessments(*rows):
    base = {
        "cycle_year": 2026,
        "region_code": "Y62",
        "region_name": "North West",
        "ics_code": "QOP",
        "ics_name": "Greater Manchester",
        "org_type": "trust",
        "trust_type": "acute",
        "care_setting": "acute",
        "source": "return",
        "status": "submitted",
        "is_demo": False,
    }
    return pd.DataFrame([{**base, **row} for row in rows])[aggregation.ORG_COLUMNS]


def test_pillar_scores_take_the_database_means_and_weight_the_overall():
    frame = assessments({"assessment_id": 1, "org_code": "R0A", "org_name": "Manchester"})
    means = pd.DataFrame(
        [(1, "well_led", "Well Led", 1, 2.5), (1, "safe_practice", "Safe Practice", 3, 4.0)],
        columns=["assessment_id", "pillar_code", "pillar_name", "pillar_position", "score"],
    )
    # Levels 2 (weight 1), 3 (weight 1), 4 (weight 2): (2 + 3 + 8) / 4 = 3.25
    overall = pd.DataFrame([(1, 13.0, 4.0)], columns=["assessment_id", "weighted_sum", "weight_total"])
    published = pd.DataFrame(columns=means.columns)
    scores = aggregation.pillar_scores(frame, means, overall, published)
    assert list(scores["pillar_code"]) == ["overall", "well_led", "safe_practice"]
    assert list(scores["score"]) == [3.25, 2.5, 4.0]
    assert set(scores["org_code"]) == {"R0A"}


def test_an_assessment_without_scores_has_no_rows():
    frame = assessments({"assessment_id": 1, "org_code": "R0A", "org_name": "M"})
    empty = pd.DataFrame(columns=["assessment_id", "pillar_code", "pillar_name", "pillar_position", "score"])
    overall = pd.DataFrame(columns=["assessment_id", "weighted_sum", "weight_total"])
    assert aggregation.pillar_scores(frame, empty, overall, empty).empty


def test_theme_levels_average_the_domains_of_each_theme():
    answers = pd.DataFrame(
        [(1, 2, ["epr", "cyber"]), (1, 4, ["epr"]), (1, 5, [])], columns=["assessment_id", "level", "themes"]
    )
    levels = aggregation.theme_levels(answers).set_index("theme")["level"].to_dict()
    assert levels == {"epr": 3.0, "cyber": 2.0}


TARGETS = pd.DataFrame(
    [
        (2026, "epr", "Electronic patient record", "domain_level", "", 3, "Level 3 on EPR domains"),
        (2026, "legacy_it", "Legacy IT", "indicator_at_most", "unsupported_devices_pct", 5, "At most 5% unsupported"),
        (2026, "investment", "Investment", "indicator_at_least", "digital_spend_pct", 5, "At least 5% on digital"),
        (2026, "cyber", "Cyber", "indicator_in", "dspt_status", ["Standards Met", "Standards Exceeded"], "DSPT met"),
    ],
    columns=["cycle_year", "theme", "theme_name", "kind", "indicator_code", "value", "description"],
)


def test_gaps_measure_the_distance_to_each_target():
    frame = assessments({"assessment_id": 1, "org_code": "R0A", "org_name": "M"})
    levels = pd.DataFrame([(1, "epr", 2.5)], columns=["assessment_id", "theme", "level"])
    values = pd.DataFrame(
        [
            (1, "unsupported_devices_pct", 8.0),
            (1, "digital_spend_pct", 6.0),
            (1, "dspt_status", "Approaching Standards"),
        ],
        columns=["assessment_id", "indicator_code", "value"],
    )
    gaps = aggregation.gap_scores(frame, levels, values, TARGETS).set_index("theme")
    assert gaps.loc["epr", "gap"] == 0.5 and not gaps.loc["epr", "met"]
    assert gaps.loc["legacy_it", "gap"] == 3.0 and gaps.loc["legacy_it", "measured"] == 8.0
    assert gaps.loc["investment", "gap"] == 0.0 and gaps.loc["investment", "met"]
    assert gaps.loc["cyber", "gap"] == 1.0 and gaps.loc["cyber", "measured_text"] == "Approaching Standards"
    assert gaps.loc["cyber", "target"] == "Standards Met, Standards Exceeded"


def test_a_gap_with_nothing_measured_is_empty_not_zero():
    frame = assessments({"assessment_id": 1, "org_code": "R0A", "org_name": "M"})
    empty_levels = pd.DataFrame(columns=["assessment_id", "theme", "level"])
    empty_values = pd.DataFrame(columns=["assessment_id", "indicator_code", "value"])
    gaps = aggregation.gap_scores(frame, empty_levels, empty_values, TARGETS)
    assert gaps["gap"].isna().all() and gaps["met"].isna().all()


def scores_frame():
    """Three acute returns in QOP (levels 1, 2, 4 on Well Led), one community return of R0A (3), one in QVV (5),
    and QOP's own ICB return (which never counts in provider aggregates)."""
    rows = [
        (1, "QOP", "R0A", "acute", 1.0, "trust"),
        (2, "QOP", "RBV", "acute", 2.0, "trust"),
        (3, "QOP", "RM3", "acute", 4.0, "trust"),
        (4, "QOP", "R0A", "community", 3.0, "trust"),
        (5, "QVV", "R0D", "acute", 5.0, "trust"),
        (6, "QOP", "QOP", "", 1.0, "ics"),
    ]
    frame = assessments(
        *[
            {
                "assessment_id": i,
                "ics_code": ics,
                "ics_name": ics,
                "org_code": org,
                "org_name": org,
                "care_setting": s,
                "org_type": t,
            }
            for i, ics, org, s, _, t in rows
        ]
    )
    return frame.assign(
        pillar_code="well_led", pillar_name="Well Led", pillar_position=1, score=[row[4] for row in rows]
    )


def stat(stats, area_type, area_code):
    return stats[(stats["area_type"] == area_type) & (stats["area_code"] == area_code)].iloc[0]


def test_area_stats_are_plain_statistics_over_provider_assessments():
    stats = aggregation.area_stats(scores_frame(), metric_type="pillar")
    england = stat(stats, "england", "E")
    assert england["n"] == 5
    assert england["mean"] == pytest.approx(3.0)
    assert england["median"] == 3.0
    assert (england["q1"], england["q3"]) == (2.0, 4.0)
    assert england["deciles"] == pytest.approx([1.4, 1.8, 2.2, 2.6, 3.0, 3.4, 3.8, 4.2, 4.6])
    qop = stat(stats, "ics", "QOP")
    assert qop["n"] == 4 and qop["mean"] == pytest.approx(2.5)


def test_a_trusts_own_figure_is_the_mean_of_its_care_settings():
    stats = aggregation.area_stats(scores_frame(), metric_type="pillar")
    r0a = stat(stats, "trust", "R0A")
    assert r0a["n"] == 2 and r0a["mean"] == pytest.approx(2.0)


def test_peer_groups_are_trust_type_by_care_setting():
    stats = aggregation.area_stats(scores_frame(), metric_type="pillar")
    acute = stat(stats, "peer", "acute|acute")
    assert acute["n"] == 4 and acute["mean"] == pytest.approx(3.0)
    assert acute["area_name"] == "Acute trusts, acute"


def test_gap_stats_carry_the_share_meeting_the_target():
    frame = (
        scores_frame()
        .iloc[:5]
        .assign(
            theme="epr",
            theme_name="EPR",
            theme_position=2,
            gap=[0.0, 1.0, 0.0, 0.5, 0.0],
            met=[True, False, True, False, True],
        )
    )
    stats = aggregation.area_stats(
        frame, metric_type="gap", metric_columns=("theme", "theme_name", "theme_position"), value_column="gap"
    )
    england = stat(stats, "england", "E")
    assert england["mean"] == pytest.approx(0.3) and england["share_met"] == pytest.approx(0.6)


def test_progress_counts_each_status_against_the_returns_due():
    statuses = pd.DataFrame(
        [(2026, "Y62", "NW", "QOP", "GM", status) for status in ["draft", "submitted", "submitted", "approved"]],
        columns=["cycle_year", "region_code", "region_name", "ics_code", "ics_name", "status"],
    )
    expected = pd.DataFrame(
        [(2026, "Y62", "NW", "QOP", "GM", 6), (2026, "Y62", "NW", "QYG", "C&M", 3)],
        columns=["cycle_year", "region_code", "region_name", "ics_code", "ics_name", "expected"],
    )
    progress = aggregation.progress_stats(statuses, expected).set_index(["area_type", "area_code"])
    assert progress.loc[("ics", "QOP"), ["expected", "not_started", "draft", "submitted", "approved"]].tolist() == [
        6,
        2,
        1,
        2,
        1,
    ]
    assert progress.loc[("ics", "QYG"), ["expected", "not_started"]].tolist() == [3, 3]
    assert progress.loc[("england", "E"), ["expected", "not_started"]].tolist() == [9, 5]
