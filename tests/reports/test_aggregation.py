"""The aggregation rules against small worlds computed by hand, through the SQL that writes the summaries: on
whichever database the run uses (run it on SQLite and on PostgreSQL, where some fragments differ)."""

import datetime

import pytest

from maturity.models import DomainAnswer, GapTarget, IndicatorValue, Pillar, PublishedScore, Source, Status
from reports.models import AreaStat, DomainScore, GapScore, IndicatorScore, PillarScore, ProgressStat
from reports.summaries import rules, tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    DomainFactory,
    ICSFactory,
    RegionFactory,
    TrustFactory,
    UserFactory,
)
from trusts.models import CareSetting, TrustType


@pytest.fixture
def world(db):
    """A collected 2026 cycle, region Y62 with the ICSs QOP and QVV; no trusts yet."""
    Pillar.objects.ensure_all()
    CareSetting.objects.ensure_all()
    region = RegionFactory(code="Y62", name="North West")
    cycle = CycleFactory()
    return {
        "cycle": cycle,
        "region": region,
        "QOP": ICSFactory(code="QOP", name="Greater Manchester", region=region),
        "QVV": ICSFactory(code="QVV", name="Dorset", region=region),
    }


def trust(world, code, ics="QOP", settings=(CareSetting.ACUTE,), trust_type=TrustType.ACUTE):
    return TrustFactory(code=code, name=f"Trust {code}", ics=world[ics], trust_type=trust_type, care_settings=settings)


def assessment(world, org, setting=CareSetting.ACUTE, status=Status.SUBMITTED, **kwargs):
    return AssessmentFactory(cycle=world["cycle"], trust=org, care_setting_id=setting, status=status, **kwargs)


def icb_return(world, ics="QOP"):
    return AssessmentFactory(
        cycle=world["cycle"],
        trust=None,
        care_setting_id=None,
        ics=world[ics],
        region=world["region"],
        framework=world["cycle"].ics_framework,
        status=Status.SUBMITTED,
    )


def domain(world, pillar="well_led", weight=1, themes=()):
    return DomainFactory(
        framework=world["cycle"].trust_framework,
        pillar=Pillar.objects.get(code=pillar),
        weight=weight,
        themes=list(themes),
    )


def answer(of, domain_, level, evidence="", verified=False):
    """An answer; `evidence` a note, `verified` as a reviewer would mark it (maturity.actions.verify_evidence)."""
    reviewer = UserFactory() if verified else None
    DomainAnswer.objects.create(
        assessment=of,
        domain=domain_,
        level=level,
        evidence_note=evidence,
        evidence_verified_by=reviewer,
        evidence_verified_at=datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC) if verified else None,
    )


def target(world, theme, kind, value, description, indicator_code=""):
    GapTarget.objects.create(
        cycle=world["cycle"],
        theme=theme,
        kind=kind,
        indicator_code=indicator_code,
        value=value,
        description=description,
    )


# --- Pillar scores -----------------------------------------------------------------------------------------------


def test_pillar_scores_take_the_means_and_weight_the_overall(world):
    return_ = assessment(world, trust(world, "R0A"))
    well_led = [domain(world), domain(world)]
    safe = domain(world, pillar="safe_practice", weight=2)
    # Levels 2 (weight 1), 3 (weight 1), 4 (weight 2): (2 + 3 + 8) / 4 = 3.25
    answer(return_, well_led[0], 2)
    answer(return_, well_led[1], 3)
    answer(return_, safe, 4)
    DomainAnswer.objects.create(assessment=return_, domain=domain(world, pillar="safe_practice"), level=None)
    tables.rebuild()
    scores = PillarScore.objects.order_by("pillar_position")
    assert list(scores.values_list("pillar_code", flat=True)) == ["overall", "well_led", "safe_practice"]
    assert list(scores.values_list("score", flat=True)) == [3.25, 2.5, 4.0]
    assert set(scores.values_list("org_code", flat=True)) == {"R0A"}


def test_an_assessment_without_scores_has_no_rows(world):
    assessment(world, trust(world, "R0A"))
    tables.rebuild()
    assert not PillarScore.objects.exists()


def test_drafts_and_returned_assessments_are_not_counted(world):
    well_led = domain(world)
    for code, status in [("R0A", Status.DRAFT), ("RBV", Status.RETURNED), ("RM3", Status.APPROVED)]:
        answer(assessment(world, trust(world, code), status=status), well_led, 3)
    tables.rebuild()
    assert set(PillarScore.objects.values_list("org_code", flat=True)) == {"RM3"}


def test_published_scores_are_taken_as_published_with_the_overall_unnamed(world):
    return_ = assessment(world, trust(world, "R0A"), status=Status.PUBLISHED, source=Source.PUBLISHED)
    PublishedScore.objects.create(assessment=return_, pillar=Pillar.objects.get(code="well_led"), score=2.75)
    PublishedScore.objects.create(assessment=return_, pillar=None, score=2.5)
    tables.rebuild()
    scores = dict(PillarScore.objects.values_list("pillar_code", "score"))
    assert scores == {"well_led": 2.75, "overall": 2.5}
    overall = PillarScore.objects.get(pillar_code="overall")
    assert (overall.pillar_name, overall.pillar_position, overall.source) == ("Overall", 0, "published")


# --- Verified evidence -------------------------------------------------------------------------------------------


def test_pillar_scores_carry_the_share_of_verified_answers_and_the_score_over_them(world):
    return_ = assessment(world, trust(world, "R0A"))
    well_led = [domain(world), domain(world), domain(world)]
    safe = [domain(world, pillar="safe_practice", weight=2), domain(world, pillar="safe_practice")]
    # Well Led: 2 (verified), 3 (evidence, not verified), 4 (no evidence) -> share 1/3, verified-only score 2.
    answer(return_, well_led[0], 2, "Board paper", verified=True)
    answer(return_, well_led[1], 3, "Board paper")
    answer(return_, well_led[2], 4)
    # Safe Practice: 5 (weight 2, verified), 1 (weight 1, no evidence) -> share 1/2, verified-only score 5.
    answer(return_, safe[0], 5, "Audit", verified=True)
    answer(return_, safe[1], 1)
    tables.rebuild()
    rows = {row.pillar_code: row for row in PillarScore.objects.all()}
    assert rows["well_led"].verified_share == pytest.approx(1 / 3) and rows["well_led"].verified_score == 2.0
    assert rows["safe_practice"].verified_share == 0.5 and rows["safe_practice"].verified_score == 5.0
    # Overall: 2 of 5 answers verified; weighted over them: (2 * 1 + 5 * 2) / 3 = 4.
    assert rows["overall"].verified_share == pytest.approx(0.4)
    assert rows["overall"].verified_score == pytest.approx(4.0)


def test_a_score_with_nothing_verified_has_a_share_of_0_and_no_verified_score(world):
    answer(assessment(world, trust(world, "R0A")), domain(world), 3, "Board paper")
    tables.rebuild()
    row = PillarScore.objects.get(pillar_code="well_led")
    assert (row.verified_share, row.verified_score) == (0.0, None)


def test_published_scores_have_no_verified_share(world):
    return_ = assessment(world, trust(world, "R0A"), status=Status.PUBLISHED, source=Source.PUBLISHED)
    PublishedScore.objects.create(assessment=return_, pillar=None, score=2.5)
    tables.rebuild()
    row = PillarScore.objects.get()
    assert (row.verified_share, row.verified_score) == (None, None)
    assert not AreaStat.objects.filter(metric_type=rules.EVIDENCE_METRIC_TYPE).exists()


def test_domain_rows_say_whether_their_evidence_is_verified_self_asserted_or_none(world):
    return_ = assessment(world, trust(world, "R0A"))
    codes = []
    for level, evidence, verified in [(2, "Paper", True), (3, "Paper", False), (4, "", False)]:
        domain_ = domain(world)
        codes.append(domain_.code)
        answer(return_, domain_, level, evidence, verified)
    tables.rebuild()
    evidence = dict(DomainScore.objects.values_list("domain_code", "evidence"))
    assert [evidence[code] for code in codes] == ["verified", "self-asserted", "none"]


def test_areas_take_the_mean_verified_share_and_the_mean_over_verified_answers(world):
    well_led = domain(world)
    # QOP: five returns; two verified at levels 2 and 4, three not (levels 3, 3, 5).
    for number, (level, verified) in enumerate([(2, True), (4, True), (3, False), (3, False), (5, False)]):
        answer(assessment(world, trust(world, f"R0{number}")), well_led, level, "Paper", verified)
    tables.rebuild()
    share = stat("ics", "QOP", rules.verified_metric(rules.VERIFIED_SHARE, "well_led"))
    assert (share.n, share.mean, share.metric_type) == (5, pytest.approx(0.4), "evidence")
    assert (share.metric_name, share.metric_position) == ("Well Led", 1)
    verified = stat("ics", "QOP", rules.verified_metric(rules.VERIFIED_SCORE, "well_led"))
    assert (verified.n, verified.mean) == (2, pytest.approx(3.0))
    assert stat("ics", "QOP").mean == pytest.approx(3.4)  # every answer, as before
    assert stat("england", "E", rules.verified_metric(rules.VERIFIED_SHARE, "overall")).mean == pytest.approx(0.4)


# --- Gaps --------------------------------------------------------------------------------------------------------


def test_theme_levels_average_the_domains_of_each_theme(world):
    return_ = assessment(world, trust(world, "R0A"))
    answer(return_, domain(world, themes=["epr", "cyber"]), 2)
    answer(return_, domain(world, themes=["epr"]), 4)
    answer(return_, domain(world, themes=[]), 5)
    for theme in ("epr", "cyber", "workforce"):
        target(world, theme, "domain_level", 3, f"Level 3 on {theme} domains")
    tables.rebuild()
    levels = dict(GapScore.objects.values_list("theme", "measured"))
    assert levels == {"epr": 3.0, "cyber": 2.0, "workforce": None}


TARGETS = [
    ("epr", "domain_level", 3, "Level 3 on EPR domains", ""),
    ("legacy_it", "indicator_at_most", 5, "At most 5% unsupported", "unsupported_devices_pct"),
    ("investment", "indicator_at_least", 5, "At least 5% on digital", "digital_spend_pct"),
    ("cyber", "indicator_in", ["Standards Met", "Standards Exceeded"], "DSPT met", "dspt_status"),
]


def test_gaps_measure_the_distance_to_each_target(world):
    return_ = assessment(world, trust(world, "R0A"))
    answer(return_, domain(world, themes=["epr"]), 2)
    answer(return_, domain(world, themes=["epr"]), 3)
    for code, number, text in [
        ("unsupported_devices_pct", 8.0, ""),
        ("digital_spend_pct", 6.0, ""),
        ("dspt_status", None, "Approaching Standards"),
    ]:
        IndicatorValue.objects.create(assessment=return_, indicator_code=code, number=number, text=text)
    for theme, kind, value, description, code in TARGETS:
        target(world, theme, kind, value, description, code)
    tables.rebuild()
    gaps = {gap.theme: gap for gap in GapScore.objects.all()}
    assert gaps["epr"].gap == 0.5 and gaps["epr"].met is False
    assert gaps["legacy_it"].gap == 3.0 and gaps["legacy_it"].measured == 8.0
    assert gaps["investment"].gap == 0.0 and gaps["investment"].met is True
    assert gaps["cyber"].gap == 1.0 and gaps["cyber"].measured_text == "Approaching Standards"
    assert gaps["cyber"].target == "Standards Met, Standards Exceeded"
    assert gaps["cyber"].theme_name == "Cyber security" and gaps["legacy_it"].target == "5"


def test_a_gap_with_nothing_measured_is_empty_not_zero(world):
    assessment(world, trust(world, "R0A"))
    for theme, kind, value, description, code in TARGETS:
        target(world, theme, kind, value, description, code)
    tables.rebuild()
    assert GapScore.objects.count() == 4
    assert not GapScore.objects.filter(gap__isnull=False).exists()
    assert not GapScore.objects.filter(met__isnull=False).exists()


def test_one_of_compares_values_as_python_prints_them(world):
    """Yes/no, numbers, dates and text against 'one of' lists: equal, or equal as text ('5.0' is the number 5)."""
    cases = [
        # indicator, value fields, allowed, met, measured, measured text
        ("epr_in_place", {"boolean": True}, [True], True, None, "True"),
        ("epr_in_place_1", {"boolean": True}, [1], True, None, "True"),
        ("epr_in_place_2", {"boolean": False}, ["False"], True, None, "False"),
        ("epr_in_place_3", {"boolean": False}, [True], False, None, "False"),
        ("devices", {"number": 5.0}, ["5.0"], True, 5.0, ""),
        ("devices_1", {"number": 5.0}, [5], True, 5.0, ""),
        ("devices_2", {"number": 5.0}, ["5"], False, 5.0, ""),
        ("go_live", {"date": datetime.date(2025, 4, 1)}, ["2025-04-01"], True, None, "2025-04-01"),
        ("supplier", {"text": "Epic"}, "Epic", True, None, "Epic"),
        ("supplier_1", {"text": "Epic"}, ["Other"], False, None, "Epic"),
    ]
    return_ = assessment(world, trust(world, "R0A"))
    for code, fields, allowed, *_ in cases:
        IndicatorValue.objects.create(assessment=return_, indicator_code=code, **fields)
        target(world, "epr", "indicator_in", allowed, f"Target {code}", code)
    tables.rebuild()
    gaps = {gap.target_description.removeprefix("Target "): gap for gap in GapScore.objects.all()}
    for code, _, _, met, measured, text in cases:
        gap = gaps[code]
        assert (gap.met, gap.gap, gap.measured, gap.measured_text) == (met, 0.0 if met else 1.0, measured, text), code


def test_at_most_and_at_least_need_a_number(world):
    return_ = assessment(world, trust(world, "R0A"))
    IndicatorValue.objects.create(assessment=return_, indicator_code="dspt_status", text="Standards Met")
    IndicatorValue.objects.create(assessment=return_, indicator_code="epr_in_place", boolean=False)
    target(world, "cyber", "indicator_at_least", 1, "At least one", "dspt_status")
    target(world, "epr", "indicator_at_most", 1, "At most one", "epr_in_place")
    tables.rebuild()
    rows = set(GapScore.objects.values_list("theme", "measured", "measured_text", "gap", "met"))
    assert rows == {("cyber", None, "Standards Met", None, None), ("epr", None, "False", None, None)}


def test_indicator_values_fall_back_to_the_trusts_latest_published_snapshot(world):
    """Its own value first (unless published as unknown); else the trust's latest snapshot by date, then by pk."""
    r0a = trust(world, "R0A")
    acute, community = (assessment(world, r0a, setting) for setting in (CareSetting.ACUTE, CareSetting.COMMUNITY))
    IndicatorValue.objects.create(assessment=acute, indicator_code="dspt_status", text="Standards Exceeded")
    IndicatorValue.objects.create(assessment=acute, indicator_code="devices", is_unknown=True)
    for edition, as_of, text in [("22/23", "2023-06-30", "Standards Met"), ("21/22", "2022-06-30", "Not Met")]:
        IndicatorValue.objects.create(
            trust=r0a, indicator_code="dspt_status", text=text, edition=edition, as_of=as_of, source="published"
        )
    for edition, number in [("a", 4.0), ("b", 6.0)]:
        IndicatorValue.objects.create(
            trust=r0a, indicator_code="devices", number=number, edition=edition, as_of="2022-09-09", source="published"
        )
    IndicatorValue.objects.create(
        trust=r0a, indicator_code="spend", is_unknown=True, edition="x", as_of="2024-01-01", source="published"
    )
    tables.rebuild()
    values = {(row.assessment_id, row.indicator_code): (row.number, row.text) for row in IndicatorScore.objects.all()}
    assert values == {
        (acute.pk, "dspt_status"): (None, "Standards Exceeded"),
        (acute.pk, "devices"): (6.0, ""),
        (community.pk, "dspt_status"): (None, "Standards Met"),
        (community.pk, "devices"): (6.0, ""),
    }


def test_indicator_rows_hold_numbers_and_yes_no_as_numbers_the_rest_as_text(world):
    return_ = assessment(world, trust(world, "R0A"))
    for code, fields in [
        ("a", {"boolean": True}),
        ("b", {"boolean": False, "number": 3}),
        ("c", {"number": 2.5}),
        ("d", {"date": datetime.date(2024, 2, 29)}),
        ("e", {"text": "Epic"}),
        ("f", {}),
    ]:
        IndicatorValue.objects.create(assessment=return_, indicator_code=code, **fields)
    tables.rebuild()
    assert dict(IndicatorScore.objects.values_list("indicator_code", "number")) == {
        "a": 1.0,
        "b": 0.0,
        "c": 2.5,
        "d": None,
        "e": None,
    }
    assert dict(IndicatorScore.objects.values_list("indicator_code", "text")) == {
        "a": "",
        "b": "",
        "c": "",
        "d": "2024-02-29",
        "e": "Epic",
    }


# --- Area statistics ---------------------------------------------------------------------------------------------


@pytest.fixture
def scores(world):
    """Three acute returns in QOP (levels 1, 2, 4 on Well Led), one community return of R0A (3), one in QVV (5),
    and QOP's own ICB return (which never counts in provider aggregates)."""
    well_led = domain(world)
    trusts = {code: trust(world, code, ics) for code, ics in [("R0A", "QOP"), ("RBV", "QOP"), ("RM3", "QOP")]}
    trusts["R0D"] = trust(world, "R0D", "QVV")
    returns = [
        assessment(world, trusts[code], setting)
        for code, setting in [
            ("R0A", CareSetting.ACUTE),
            ("RBV", CareSetting.ACUTE),
            ("RM3", CareSetting.ACUTE),
            ("R0A", CareSetting.COMMUNITY),
            ("R0D", CareSetting.ACUTE),
        ]
    ]
    for return_, level in zip(returns, [1, 2, 4, 3, 5], strict=True):
        answer(return_, well_led, level)
    answer(icb_return(world), domain(world), 1)
    return returns


def stat(area_type, area_code, metric_code="well_led"):
    return AreaStat.objects.get(area_type=area_type, area_code=area_code, metric_code=metric_code)


def test_area_stats_are_plain_statistics_over_provider_assessments(scores):
    tables.rebuild()
    england = stat("england", "E")
    assert england.n == 5
    assert england.mean == pytest.approx(3.0)
    assert england.median == 3.0
    assert (england.q1, england.q3) == (2.0, 4.0)
    assert england.deciles == pytest.approx([1.4, 1.8, 2.2, 2.6, 3.0, 3.4, 3.8, 4.2, 4.6])
    assert england.share_met is None and england.measured_median is None
    assert (england.area_name, england.metric_name, england.metric_position) == ("England", "Well Led", 1)
    qop = stat("ics", "QOP")
    assert qop.n == 4 and qop.mean == pytest.approx(2.5)
    assert qop.deciles == pytest.approx([1.3, 1.6, 1.9, 2.2, 2.5, 2.8, 3.1, 3.4, 3.7])
    assert stat("region", "Y62").n == 5


def test_each_area_has_its_own_deciles(scores):
    tables.rebuild()
    for row in AreaStat.objects.all():
        assert row.deciles[4] == pytest.approx(row.median), (row.area_type, row.area_code, row.metric_code)
        assert row.deciles == sorted(row.deciles)


def test_a_trusts_own_figure_is_the_mean_of_its_care_settings(scores):
    tables.rebuild()
    r0a = stat("trust", "R0A")
    assert r0a.n == 2 and r0a.mean == pytest.approx(2.0)
    assert r0a.area_name == "Trust R0A"


def test_peer_groups_are_trust_type_by_care_setting(scores):
    tables.rebuild()
    acute = stat("peer", "acute|acute")
    assert acute.n == 4 and acute.mean == pytest.approx(3.0)
    assert acute.area_name == "Acute trusts, acute"


def test_peer_group_names_read_as_words(world):
    specialist = trust(world, "RBV", trust_type=TrustType.ACUTE_SPECIALIST, settings=[CareSetting.MENTAL_HEALTH])
    answer(assessment(world, specialist, CareSetting.MENTAL_HEALTH), domain(world), 3)
    tables.rebuild()
    peer = stat("peer", "acute-specialist|mental-health")
    assert peer.area_name == "Acute specialist trusts, mental health"


def test_gap_stats_carry_the_share_meeting_the_target(scores, world):
    """Gaps 0, 1, 0, 0.5 and 0 on a level-3 target: levels 3, 2, 4, 2.5 (two domains, 2 and 3) and 5."""
    epr = [domain(world, themes=["epr"]), domain(world, themes=["epr"])]
    for return_, levels in zip(scores, [(3,), (2,), (4,), (2, 3), (5,)], strict=True):
        for domain_, level in zip(epr, levels, strict=False):
            answer(return_, domain_, level)
    target(world, "epr", "domain_level", 3, "Level 3 on EPR domains")
    tables.rebuild()
    england = stat("england", "E", rules.target_code("epr", "Level 3 on EPR domains"))
    assert england.mean == pytest.approx(0.3) and england.share_met == pytest.approx(0.6)
    assert england.measured_median == 3.0
    assert (england.metric_type, england.metric_name, england.metric_position) == ("gap", "Level 3 on EPR domains", 2)


def test_gap_metric_codes_are_one_per_target():
    assert rules.target_code("cyber", "DSPT at Standards Met or better") == "cyber:dspt-at-standards-met-or-better"
    assert rules.target_code("legacy_it", "At most 5% of devices unsupported") == (
        "legacy_it:at-most-5-of-devices-unsupported"
    )


# --- Progress ----------------------------------------------------------------------------------------------------


def test_progress_counts_each_status_against_the_returns_due(world):
    both = [CareSetting.ACUTE, CareSetting.COMMUNITY]
    qop = [trust(world, code, "QOP", both) for code in ("R0A", "RBV", "RM3")]
    trust(world, "R0D", "QVV", [CareSetting.ACUTE, CareSetting.COMMUNITY, CareSetting.MENTAL_HEALTH])
    for (org, setting), status in zip(
        [(qop[0], CareSetting.ACUTE), (qop[0], CareSetting.COMMUNITY), (qop[1], CareSetting.ACUTE), (qop[2], "acute")],
        [Status.DRAFT, Status.SUBMITTED, Status.SUBMITTED, Status.APPROVED],
        strict=True,
    ):
        assessment(world, org, setting, status=status)
    tables.rebuild()
    progress = {(row.area_type, row.area_code): row for row in ProgressStat.objects.all()}
    qop_row = progress[("ics", "QOP")]
    assert [qop_row.expected, qop_row.not_started, qop_row.draft, qop_row.submitted, qop_row.approved] == [
        6,
        2,
        1,
        2,
        1,
    ]
    assert [progress[("ics", "QVV")].expected, progress[("ics", "QVV")].not_started] == [3, 3]
    assert [progress[("england", "E")].expected, progress[("england", "E")].not_started] == [9, 5]
    assert progress[("region", "Y62")].area_name == "North West"
