"""The planner's simulated scores equal the summaries' rules applied to the planned answers: the test computes
both, the simulation in Python and the summaries in the database after writing the planned levels in."""

import datetime

import pytest

from maturity.models import DomainAnswer
from planning import actions, plans, simulate
from planning.models import Plan
from reports.models import AreaStat, GapScore, PillarScore
from reports.summaries import tables
from tests.factories import lead_of, reviewer_of
from trusts import permissions

STEPS = {
    "WL01": actions.Step(4, datetime.date(2027, 3, 31), "Chief nursing information officer"),
    "SF01": actions.Step(3, datetime.date(2026, 12, 1), "Head of infrastructure"),
    "SF02": actions.Step(4, datetime.date(2027, 6, 30), "EPR programme lead"),
}


def summaries_of(assessment):
    pillars = dict(PillarScore.objects.filter(assessment_id=assessment.pk).values_list("pillar_code", "score"))
    met = dict(GapScore.objects.filter(assessment_id=assessment.pk).values_list("target_description", "met"))
    return pillars, met


def simulated(result: simulate.Simulation, planned: bool):
    pillars = {p.code: (p.planned if planned else p.now) for p in result.pillars if p.now is not None}
    pillars["overall"] = result.overall_planned if planned else result.overall_now
    met = {found.target.description: (found.met_planned if planned else found.met_now) for found in result.targets}
    return pillars, met


def test_the_simulated_scores_equal_the_summaries_of_the_planned_answers(world):
    assessment = world["assessment"]
    plan = actions.save_plan(by=lead_of(assessment.trust), assessment=assessment, steps=STEPS, expected_version=0)
    saved = {step.domain.code: step.level for step in plan.steps.select_related("domain")}
    result = simulate.simulate(plans.answers_of(assessment), saved, plans.targets_of(assessment))

    # As it stands, the simulation is what the summaries hold now.
    pillars_now, met_now = summaries_of(assessment)
    expected_pillars, expected_met = simulated(result, planned=False)
    assert expected_pillars == pytest.approx(pillars_now)
    assert expected_met == met_now

    # Write the planned levels into the return and refresh its summaries.
    for code, level in saved.items():
        DomainAnswer.objects.filter(assessment=assessment, domain__code=code).update(level=level)
    tables.refresh_assessment(assessment.pk)

    pillars_planned, met_planned = summaries_of(assessment)
    expected_pillars, expected_met = simulated(result, planned=True)
    assert set(expected_pillars) == set(pillars_planned)
    assert expected_pillars == pytest.approx(pillars_planned)
    assert expected_met == met_planned
    # The plan moves something: the test would not pass by leaving everything as it was.
    assert pillars_planned != pillars_now and met_planned != met_now


def test_an_indicator_target_is_shown_as_the_summaries_measured_it_and_a_plan_leaves_it(world):
    assessment = world["assessment"]
    result = simulate.simulate(plans.answers_of(assessment), {"SF01": 5}, plans.targets_of(assessment))
    devices = next(found for found in result.targets if not found.target.is_domain_level)
    assert devices.met_now is None and devices.met_planned is None  # nothing measured for this return


def test_the_pillars_held_back_list_the_domains_below_the_next_level_furthest_first(world):
    result = simulate.simulate(plans.answers_of(world["assessment"]), {}, [])
    foundations = next(p for p in result.pillars if p.code == "smart_foundations")
    # Levels 1, 2, 4: mean 2.33, next whole level 3; SF01 (2 below) helps most, and raising it alone is enough.
    assert foundations.next_level == 3
    assert [a.code for a in foundations.holding_back] == ["SF01", "SF02"]
    assert foundations.fewest_raises == 1
    well_led = next(p for p in result.pillars if p.code == "well_led")
    # Levels 2 and 3: mean 2.5, next level 3: raising WL01 to 3 is needed and enough.
    assert ([a.code for a in well_led.holding_back], well_led.fewest_raises) == (["WL01"], 1)


def test_a_whole_score_aims_for_the_level_above_and_the_top_level_for_none():
    assert simulate.next_whole_level(3.0) == 4
    assert simulate.next_whole_level(3.99) == 4
    assert simulate.next_whole_level(5.0) is None
    assert simulate.next_whole_level(None) is None


def test_gap_targets_list_the_theme_domains_below_the_goal(world):
    result = simulate.simulate(plans.answers_of(world["assessment"]), {}, plans.targets_of(world["assessment"]))
    epr = next(found for found in result.targets if found.target.theme == "epr")
    # EPR domains: SF02 at 2, SF03 at 4, SP01 at 3; goal 3.
    assert [a.code for a in epr.below] == ["SF02"]


def test_positions_place_the_trust_among_its_groups_deciles_before_and_after(world):
    assessment = world["assessment"]
    result = simulate.simulate(plans.answers_of(assessment), {"WL02": 5, "SP01": 5}, [])
    lead = permissions.viewer_of(lead_of(assessment.trust))
    ics, peers = plans.standings(assessment, lead, result.overall_now, result.overall_planned)
    # Greater Manchester's other overall scores are 4, 3, 2, 2 and 1; the trust's 2.51 now, 3.54 with the plan.
    deciles = AreaStat.objects.get(
        area_type="ics", area_code=assessment.ics.code, metric_type="pillar", metric_code="overall"
    ).deciles
    assert ics.now == simulate.position("Greater Manchester", result.overall_now, deciles)
    assert ics.planned == simulate.position("Greater Manchester", result.overall_planned, deciles)
    assert str(ics.planned) == "at or above the 90th percentile in Greater Manchester"
    assert ics.now.percentile < ics.planned.percentile
    assert peers.now is not None


def test_a_band_reveals_no_score_beyond_the_deciles():
    deciles = [1.5, 2, 2, 2, 2.225, 2.45, 2.725, 3, 3.5]
    assert str(simulate.position("X", 1.0, deciles)) == "below the 10th percentile in X"
    assert simulate.position("X", 2.0, deciles).percentile == 40
    assert simulate.position("X", 3.49, deciles).percentile == 80
    assert simulate.position("X", 5.0, deciles).percentile == 90


def test_positions_are_not_shown_in_a_group_of_fewer_than_five_counted_returns(world):
    for other in world["others"][:2]:
        other.status = "draft"
        other.save()
    tables.rebuild()
    assessment = world["assessment"]
    lead = permissions.viewer_of(lead_of(assessment.trust))
    ics, _ = plans.standings(assessment, lead, 2.5, 3.0)
    assert ics.now is None and ics.counted == 4
    # The ICS's reviewer sees its own ICS by name, so its aggregates whatever their size.
    reviewer = permissions.viewer_of(reviewer_of(assessment.ics))
    assert plans.standings(assessment, reviewer, 2.5, 3.0)[0].now is not None


def test_no_plan_is_made_for_no_steps(world):
    assessment = world["assessment"]
    assert actions.save_plan(by=lead_of(assessment.trust), assessment=assessment, steps={}, expected_version=0) is None
    assert not Plan.objects.exists()


def test_ordinals():
    assert [simulate.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st",
        "2nd",
        "3rd",
        "4th",
        "11th",
        "12th",
        "13th",
        "21st",
        "22nd",
        "101st",
        "111th",
    ]
