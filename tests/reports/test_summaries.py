"""Summaries written from the database: the real published figures, incremental refreshes equal to a full rebuild,
and a rebuild that fails leaving the previous summaries in place."""

from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maturity import actions
from maturity.models import RefreshMark, Status
from maturity.published import import_published_dma
from reports.models import (
    AreaStat,
    AreaValueCount,
    DomainScore,
    GapScore,
    IndicatorScore,
    PillarScore,
    ProgressStat,
    RefreshRun,
)
from reports.summaries import refresh, tables
from tests.factories import AssessmentFactory, CycleFactory, ICSFactory, TrustFactory, lead_of, reviewer_of
from trusts.models import CareSetting, TrustType
from trusts.ods import load_organisations

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
SUMMARY_MODELS = (PillarScore, GapScore, IndicatorScore, DomainScore, AreaStat, AreaValueCount, ProgressStat)


def snapshot():
    """Every summary row, without ids, floats rounded: what a reader would see; and the counts by value behind
    the large areas' figures (a value no return has any more stays at 0 copies after a refresh: readers skip it)."""
    snapshot = {}
    for model in SUMMARY_MODELS:
        rows = model.objects.values() if model is not AreaValueCount else model.objects.filter(copies__gt=0).values()
        snapshot[model.__name__] = sorted(
            (
                tuple(
                    (key, round(value, 9) if isinstance(value, float) else value)
                    for key, value in sorted(row.items())
                    if key != "id"
                )
                for row in rows
            ),
            key=repr,
        )
    return snapshot


@pytest.fixture
def published(db):
    load_organisations(FIXTURES / "ods")
    import_published_dma(FIXTURES / "dma" / "dma_2024_2025_results_v2.xlsx", FIXTURES / "dma" / "provider_aliases.csv")
    tables.rebuild()


def england(year, metric):
    return AreaStat.objects.get(cycle_year=year, area_type="england", metric_code=metric)


def test_englands_published_2025_pillar_means(published):
    means = [
        round(england(2025, code).mean, 2)
        for code in [
            "well_led",
            "smart_foundations",
            "safe_practice",
            "support_workforce",
            "empower_people",
            "improve_care",
            "healthy_populations",
        ]
    ]
    assert means == [2.83, 2.61, 2.49, 2.64, 2.02, 2.38, 2.23]
    assert england(2025, "well_led").n == 285


def test_englands_overall_comparable_score_rose_from_2024_to_2025(published):
    assert round(england(2025, "overall").mean, 2) == 2.52
    assert round(england(2024, "overall").mean, 2) == 2.37


def test_published_rows_are_labelled_and_icb_returns_kept_apart(published):
    assert set(PillarScore.objects.values_list("source", "status").distinct()) == {("published", "published")}
    assert PillarScore.objects.filter(cycle_year=2025, org_type="ics").count() == 42 * 8
    assert england(2025, "well_led").n == 285  # the 42 ICB returns are not in it


def test_a_failed_rebuild_leaves_the_previous_summaries(published, monkeypatch):
    before = snapshot()
    real_insert = tables._insert

    def fail_on_gaps(model, frame):
        if model is AreaStat:
            raise RuntimeError("worker killed")
        return real_insert(model, frame)

    monkeypatch.setattr(tables, "_insert", fail_on_gaps)
    with pytest.raises(RuntimeError):
        refresh.rebuild()
    assert snapshot() == before
    run = RefreshRun.objects.latest("started_at")
    assert run.status == RefreshRun.Status.FAILED and "worker killed" in run.error


def test_each_run_is_recorded(published):
    refresh.rebuild()
    run = RefreshRun.objects.latest("started_at")
    assert run.kind == "full" and run.status == RefreshRun.Status.OK and run.rows > 2000 and run.finished_at


# --- Incremental refreshes equal a full rebuild ------------------------------------------------------------------


@pytest.fixture
def small_world(db):
    """Two ICSs in two regions; four trusts of two types; one open cycle with a small framework and targets."""
    cycle = CycleFactory()
    actions.set_gap_targets(
        by=_analyst(),
        cycle=cycle,
        targets=[
            {"theme": "epr", "kind": "domain_level", "value": 3, "description": "Level 3 on EPR domains"},
            {
                "theme": "legacy_it",
                "kind": "indicator_at_most",
                "indicator_code": "unsupported_devices_pct",
                "value": 5,
                "description": "At most 5% unsupported",
            },
        ],
    )
    icss = [ICSFactory(code="QOP"), ICSFactory(code="QVV")]
    trusts = [
        TrustFactory(
            code=code, ics=icss[i % 2], trust_type=kind, care_settings=[CareSetting.ACUTE, CareSetting.COMMUNITY]
        )
        for i, (code, kind) in enumerate(
            [
                ("R0A", TrustType.ACUTE),
                ("RBV", TrustType.ACUTE_SPECIALIST),
                ("RM3", TrustType.ACUTE),
                ("R0D", TrustType.ACUTE),
            ]
        )
    ]
    assessments = [
        AssessmentFactory(cycle=cycle, trust=trust, care_setting_id=setting)
        for trust in trusts
        for setting in (CareSetting.ACUTE, CareSetting.COMMUNITY)
    ]
    leads = {trust.pk: lead_of(trust) for trust in trusts}
    reviewers = {ics.pk: reviewer_of(ics) for ics in icss}
    return assessments, leads, reviewers


def _analyst():
    from tests.factories import analyst

    return analyst()


def apply_edit(assessment, leads, reviewers, edit):
    """One person's action on an assessment, if its state allows it; invalid moves are simply skipped."""
    kind, level, devices = edit
    assessment.refresh_from_db()
    lead, reviewer = leads[assessment.trust_id], reviewers[assessment.trust.ics_id]
    try:
        if kind == "fill":
            answers = {code: {"level": str(level)} for code in ("WL01", "SF01", "SF02")}
            # Evidence on some answers only, so that verified, self-asserted and none all occur.
            answers["WL01"]["evidence_note"] = f"Board paper {level % 3}" if level % 3 else ""
            if assessment.care_setting_id != CareSetting.ACUTE:
                del answers["SF02"]
            actions.save_answers(
                by=lead,
                assessment=assessment,
                expected_version=assessment.version,
                answers=answers,
                indicators={"unsupported_devices_pct": str(devices)},
            )
        elif kind == "submit":
            actions.submit_assessment(
                by=lead,
                assessment=assessment,
                expected_version=assessment.version,
                sign_off_name="A",
                sign_off_role="B",
                declared=True,
            )
        elif kind == "return":
            actions.return_assessment(
                by=reviewer,
                assessment=assessment,
                expected_version=assessment.version,
                comments=[actions.Comment("More")],
            )
        elif kind == "approve":
            actions.approve_assessment(by=reviewer, assessment=assessment, expected_version=assessment.version)
        elif kind == "verify":
            actions.verify_evidence(
                by=reviewer, assessment=assessment, expected_version=assessment.version, domain_codes=["WL01"]
            )
    except (actions.WrongState, actions.Incomplete, actions.Invalid):
        pass


EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=7),
        st.tuples(
            st.sampled_from(["fill", "submit", "return", "approve", "verify"]),
            st.integers(min_value=1, max_value=5),
            st.integers(min_value=0, max_value=20),
        ),
    ),
    min_size=1,
    max_size=15,
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=EDITS)
@pytest.mark.slow
def test_incremental_refreshes_after_random_edits_equal_a_full_rebuild(small_world, edits):
    assessments, leads, reviewers = small_world
    with transaction.atomic():
        tables.rebuild()
        for index, edit in edits:
            apply_edit(assessments[index], leads, reviewers, edit)
            for mark_id in RefreshMark.objects.filter(done_at__isnull=True).values_list("pk", flat=True):
                refresh.process_mark(mark_id)  # the assessment, then its region and England
        incremental = snapshot()
        tables.rebuild()
        assert incremental == snapshot()
        transaction.set_rollback(True)


def test_summaries_written_before_the_counts_existed_refresh_to_what_a_rebuild_writes(small_world):
    """After an upgrade, until the next rebuild, a cycle has figures but no counts by value: its first refresh counts
    the cycle's rows before moving them by its difference."""
    assessments, leads, reviewers = small_world
    for assessment in assessments[:3]:
        apply_edit(assessment, leads, reviewers, ("fill", 3, 2))
        apply_edit(assessment, leads, reviewers, ("submit", 0, 0))
    tables.rebuild()
    RefreshMark.objects.update(done_at=timezone.now())  # all written by the rebuild
    AreaValueCount.objects.all().delete()
    apply_edit(assessments[0], leads, reviewers, ("return", 0, 0))
    for mark_id in RefreshMark.objects.filter(done_at__isnull=True).values_list("pk", flat=True):
        refresh.process_mark(mark_id)
    incremental = snapshot()
    tables.rebuild()
    assert incremental == snapshot()
    assert AreaValueCount.objects.filter(area_type="england", copies=2).exists()


def test_a_submission_shows_in_its_ics_at_once_and_england_after_the_areas(small_world):
    assessments, leads, reviewers = small_world
    tables.rebuild()
    first = assessments[0]
    apply_edit(first, leads, reviewers, ("fill", 4, 2))
    apply_edit(first, leads, reviewers, ("submit", 0, 0))
    tables.refresh_assessment(first.pk)
    assert AreaStat.objects.get(area_type="ics", area_code="QOP", metric_code="well_led").mean == 4
    assert not AreaStat.objects.filter(area_type="england", metric_code="well_led").exists()
    tables.refresh_areas(2026)
    assert AreaStat.objects.get(area_type="england", metric_code="well_led").mean == 4
    assert first.__class__.objects.get(pk=first.pk).status == Status.SUBMITTED


def test_a_verification_refreshes_to_what_a_rebuild_writes(small_world):
    assessments, leads, reviewers = small_world
    tables.rebuild()
    r0a, rbv, rm3 = assessments[0], assessments[2], assessments[4]  # acute returns of three trusts
    for assessment in (r0a, rbv, rm3):
        for edit in [("fill", 4, 2), ("submit", 0, 0), ("verify", 0, 0)]:
            apply_edit(assessment, leads, reviewers, edit)
    apply_edit(rm3, leads, reviewers, ("return", 0, 0))
    apply_edit(rm3, leads, reviewers, ("fill", 2, 3))  # changed evidence: no longer verified
    apply_edit(rm3, leads, reviewers, ("submit", 0, 0))
    for mark_id in RefreshMark.objects.filter(done_at__isnull=True).values_list("pk", flat=True):
        refresh.process_mark(mark_id)
    assert set(DomainScore.objects.filter(domain_code="WL01").values_list("org_code", "evidence")) == {
        ("R0A", "verified"),
        ("RBV", "verified"),
        ("RM3", "self-asserted"),
    }
    assert AreaStat.objects.filter(metric_type="evidence", area_type="ics", area_code="QOP").exists()
    incremental = snapshot()
    tables.rebuild()
    assert incremental == snapshot()
