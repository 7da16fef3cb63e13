"""A bad row never stops the rest: a stored value a refresh cannot use (planted past the forms with .update()) costs
that one figure, recorded on the run and shown at /summaries/, and every other figure is written; a refresh mark
that keeps failing is parked after three attempts, shown, and queued again by an analyst."""

import pytest
from django.db import connection

from maturity import actions
from maturity.models import (
    Assessment,
    AuditEvent,
    GapTarget,
    IndicatorValue,
    Pillar,
    PublishedScore,
    RefreshMark,
    Source,
    Status,
)
from reports.models import AreaStat, GapScore, PillarScore, RefreshRun
from reports.summaries import problems, rules
from reports.summaries import refresh as reports_refresh
from tests.factories import analyst, reviewer_of
from tests.reports.test_aggregation import answer, assessment, domain, target, trust, world  # noqa: F401 - fixture
from tests.reports.test_summaries import snapshot

DEVICES = "At most 5% unsupported"
LEVEL = "Level 3 on EPR domains"
DSPT = "DSPT met"


@pytest.fixture
def returns(world):  # noqa: F811
    """Three trusts' returns with domain levels and indicator values, and a target of each kind."""
    epr = domain(world, themes=["epr"])
    for code, ics, level, devices, dspt in [
        ("R0A", "QOP", 2, 8.0, "Standards Met"),
        ("RBV", "QOP", 4, 3.0, "Approaching Standards"),
        ("R0D", "QVV", 3, 5.0, "Standards Exceeded"),
    ]:
        return_ = assessment(world, trust(world, code, ics))
        answer(return_, epr, level)
        IndicatorValue.objects.create(assessment=return_, indicator_code="unsupported_devices_pct", number=devices)
        IndicatorValue.objects.create(assessment=return_, indicator_code="dspt_status", text=dspt)
    target(world, "epr", "domain_level", 3, LEVEL)
    target(world, "legacy_it", "indicator_at_most", 5, DEVICES, "unsupported_devices_pct")
    target(world, "cyber", "indicator_in", ["Standards Met", "Standards Exceeded"], DSPT, "dspt_status")
    return world


def rebuilt_without(planted) -> dict:
    """The summaries a rebuild writes once the planted value is gone: `planted()` removes it."""
    planted()
    reports_refresh.rebuild()
    return snapshot()


def run() -> RefreshRun:
    return RefreshRun.objects.latest("started_at")


@pytest.mark.parametrize(
    ("description", "bad", "why"),
    [
        (DEVICES, "5%", "value '5%' is text, not a number"),
        (DEVICES, "abc", "value 'abc' is text, not a number"),
        (DEVICES, "-1", "value '-1' is text, not a number"),
        (DEVICES, "nan", "value 'nan' is text, not a number"),
        (DEVICES, True, "value True is not a number"),
        (LEVEL, -1, "value -1 is not a level from 1 to 5"),
        (LEVEL, [3], "value [3] is not a number"),
        (DSPT, [], "it lists no allowed values"),
        (DSPT, [{"met": True}], "allowed value {'met': True} is not a text, yes/no or number"),
    ],
)
def test_a_bad_target_value_costs_that_targets_figure_only(returns, description, bad, why):
    GapTarget.objects.filter(description=description).update(value=bad)
    reports_refresh.rebuild()

    assert run().status == RefreshRun.Status.PROBLEMS
    assert run().problems == [f"Gap target '{description}' (2026): {why}; that target's figure was skipped"]
    assert not GapScore.objects.filter(target_description=description).exists()
    assert not AreaStat.objects.filter(metric_name=description).exists()
    others = {DEVICES, LEVEL, DSPT} - {description}
    assert set(GapScore.objects.values_list("target_description", flat=True)) == others
    assert set(AreaStat.objects.filter(area_type="england").values_list("metric_name", flat=True)) >= others
    with_the_bad_target = snapshot()
    assert with_the_bad_target == rebuilt_without(GapTarget.objects.filter(description=description).delete)


@pytest.mark.parametrize(
    ("field", "bad", "why"),
    [
        ("theme", "legacy", "theme 'legacy' is not a theme"),
        ("kind", "indicator_about", "kind 'indicator_about' is not a kind of target"),
    ],
)
def test_a_target_of_an_unknown_theme_or_kind_is_skipped(returns, field, bad, why):
    GapTarget.objects.filter(description=DEVICES).update(**{field: bad})
    reports_refresh.rebuild()
    assert run().problems == [f"Gap target '{DEVICES}' (2026): {why}; that target's figure was skipped"]
    assert snapshot() == rebuilt_without(GapTarget.objects.filter(description=DEVICES).delete)


def test_every_refresh_of_the_cycle_records_the_bad_target_and_completes(returns):
    GapTarget.objects.filter(description=DEVICES).update(value="5%")
    r0a = Assessment.objects.get(trust__code="R0A")

    reports_refresh.refresh_assessment(r0a.pk)
    assert (run().kind, run().status) == ("assessment", RefreshRun.Status.PROBLEMS)
    assert set(GapScore.objects.filter(org_code="R0A").values_list("target_description", flat=True)) == {LEVEL, DSPT}
    reports_refresh.refresh_areas(2026)
    assert (run().kind, run().status) == ("areas", RefreshRun.Status.PROBLEMS)
    assert "value '5%' is text, not a number" in run().problems[0]
    assert AreaStat.objects.filter(area_type="england", metric_name=LEVEL).exists()


# NaN is kept as NULL by SQLite, so only PostgreSQL can hold one; an infinity both can.
NOT_FINITE = [float("inf"), pytest.param(float("nan"), id="nan-postgresql-only")]


@pytest.mark.parametrize("bad", NOT_FINITE)
def test_an_indicator_number_that_is_not_finite_is_skipped(returns, bad):
    if bad != bad and connection.vendor != "postgresql":
        pytest.skip("SQLite stores NaN as NULL: there is no NaN to find")
    devices = IndicatorValue.objects.filter(assessment__trust__code="RBV", indicator_code="unsupported_devices_pct")
    devices.update(number=bad)
    reports_refresh.rebuild()

    assert run().status == RefreshRun.Status.PROBLEMS
    assert run().problems == [
        f"Indicator 'unsupported_devices_pct' of RBV (2026): value {bad!r} is not a finite number; "
        "that value was skipped"
    ]
    rbv = GapScore.objects.get(org_code="RBV", target_description=DEVICES)
    assert (rbv.measured, rbv.gap) == (None, None)
    assert snapshot() == rebuilt_without(lambda: devices.update(number=None))


@pytest.mark.parametrize("bad", NOT_FINITE)
def test_a_published_score_that_is_not_finite_is_skipped(returns, world, bad):  # noqa: F811
    if bad != bad and connection.vendor != "postgresql":
        pytest.skip("SQLite stores NaN as NULL: there is no NaN to find")
    published = assessment(world, trust(world, "RM3"), status=Status.PUBLISHED, source=Source.PUBLISHED)
    well_led = Pillar.objects.get(code="well_led")
    PublishedScore.objects.create(assessment=published, pillar=well_led, score=2.5)
    overall = PublishedScore.objects.create(assessment=published, pillar=None, score=2.0)
    PublishedScore.objects.filter(pk=overall.pk).update(score=bad)
    reports_refresh.rebuild()

    assert run().problems == [
        f"Published overall score of RM3 (2026): value {bad!r} is not a finite number; that value was skipped"
    ]
    assert dict(PillarScore.objects.filter(org_code="RM3").values_list("pillar_code", "score")) == {"well_led": 2.5}
    assert snapshot() == rebuilt_without(PublishedScore.objects.filter(pk=overall.pk).delete)


def test_good_data_finishes_without_problems(returns):
    reports_refresh.rebuild()
    assert (run().status, run().problems) == (RefreshRun.Status.OK, [])


def test_a_run_lists_at_most_fifty_problems_and_says_how_many_more():
    listed = problems.listed([f"problem {n}" for n in range(60)] + ["problem 0"])
    assert listed[-1] == "… and 10 more problems of the same kinds"
    assert listed[:-1] == [f"problem {n}" for n in range(problems.MOST_LISTED)]


# --- Marks that keep failing ---------------------------------------------------------------------------------------


@pytest.fixture
def failing_cycle_refresh(returns, monkeypatch):
    """A mark for the whole cycle whose rebuild fails every time, and a mark for one assessment that works."""
    calls = []

    def broken_rebuild(years=None):
        calls.append(years)
        raise RuntimeError("the worker ran out of memory")

    monkeypatch.setattr(reports_refresh, "rebuild", broken_rebuild)
    failing = RefreshMark.objects.create(cycle=returns["cycle"], reason="targets")
    one = returns["cycle"].assessments.first()
    working = RefreshMark.objects.create(assessment=one, cycle=returns["cycle"], reason="save")
    return failing, working, calls


def test_a_failing_mark_is_parked_after_three_sweeps_and_not_retried(failing_cycle_refresh):
    failing, working, calls = failing_cycle_refresh

    assert reports_refresh.sweep() == 1, "the failing mark does not hold up the other"
    working.refresh_from_db()
    assert working.done_at is not None
    failing.refresh_from_db()
    assert (failing.attempts, failing.parked_at) == (1, None)

    reports_refresh.sweep()
    reports_refresh.sweep()
    failing.refresh_from_db()
    assert failing.attempts == 3 and failing.parked_at is not None and failing.done_at is None
    assert failing.last_error == "RuntimeError: the worker ran out of memory"
    assert list(RefreshMark.objects.parked()) == [failing]

    assert reports_refresh.sweep() == 0
    assert len(calls) == 3, "a parked mark is not refreshed a fourth time"
    assert reports_refresh.process_mark(failing.pk) is False, "nor when a late delivery of its task arrives"


def test_the_summaries_page_shows_the_problems_and_the_parked_mark(client, failing_cycle_refresh):
    failing, _, _ = failing_cycle_refresh
    for _ in range(reports_refresh.PARK_AFTER):
        reports_refresh.sweep()
    GapTarget.objects.filter(description=DEVICES).update(value="5%")
    reports_refresh.refresh_areas(2026)

    client.force_login(analyst())
    page = client.get("/summaries/").content.decode()

    assert "The latest refresh skipped figures" in page
    assert "Finished with problems" in page
    assert f"Gap target &#x27;{DEVICES}&#x27; (2026): value &#x27;5%&#x27; is text, not a number" in page
    assert "Refreshes no longer retried" in page
    assert "RuntimeError: the worker ran out of memory" in page
    assert f"/summaries/parked/{failing.pk}/requeue/" in page


def test_an_analyst_queues_a_parked_mark_again(client, failing_cycle_refresh, django_capture_on_commit_callbacks):
    failing, _, _ = failing_cycle_refresh
    RefreshMark.objects.filter(pk=failing.pk).update(attempts=3, parked_at=failing.created_at, last_error="Boom")
    client.force_login(analyst())

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/summaries/parked/{failing.pk}/requeue/")

    assert response.status_code == 302
    assert len(callbacks) == 1, "enqueued after commit"
    failing.refresh_from_db()
    assert (failing.attempts, failing.parked_at, failing.last_error) == (0, None, "")
    assert failing in reports_refresh.pending_marks()
    event = AuditEvent.objects.get(action="requeue_refresh")
    assert event.before["attempts"] == 3 and event.before["last_error"] == "Boom"


def test_only_a_parked_mark_can_be_queued_again(failing_cycle_refresh):
    failing, _, _ = failing_cycle_refresh
    with pytest.raises(actions.ActionError, match="not parked"):
        actions.requeue_refresh_mark(by=analyst(), mark=failing)


def test_only_analysts_queue_a_mark_again(client, failing_cycle_refresh):
    failing, _, _ = failing_cycle_refresh
    RefreshMark.objects.filter(pk=failing.pk).update(attempts=3, parked_at=failing.created_at)
    client.force_login(reviewer_of(failing_cycle_refresh[1].assessment.ics))
    assert client.post(f"/summaries/parked/{failing.pk}/requeue/").status_code == 403
    failing.refresh_from_db()
    assert failing.parked_at is not None


def test_the_dashboards_leave_out_a_target_the_summaries_skipped(returns):
    from reports.dashboards import gaps

    GapTarget.objects.filter(description=DEVICES).update(value="5%")
    codes = set(gaps.targets(2026))
    assert codes == {rules.target_code("epr", LEVEL), rules.target_code("cyber", DSPT)}
