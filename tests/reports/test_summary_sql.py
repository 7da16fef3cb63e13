"""What each write touches: a refresh rewrites its own rows and its two areas only, the batched follow-up the national
areas its cycle's refreshes moved only, a cycle's rebuild its cycle only;
and the Python side of the gap rules ('one of' lists, printed as Python prints)."""

import pytest

from maturity.models import Assessment, IndicatorValue, Status
from reports.models import AreaStat, AreaValueCount, PillarScore, ProgressStat
from reports.summaries import sql as summary_sql
from reports.summaries import tables
from tests.factories import CycleFactory
from tests.reports.test_aggregation import (  # noqa: F401 - the fixture
    TARGETS,
    answer,
    assessment,
    domain,
    target,
    trust,
    world,
)
from trusts.models import CareSetting


def test_a_refresh_rewrites_its_trust_and_ics_and_nothing_else(world):  # noqa: F811
    well_led = domain(world)
    r0a, r0d = trust(world, "R0A", "QOP"), trust(world, "R0D", "QVV", settings=[CareSetting.COMMUNITY])
    mine = assessment(world, r0a)
    answer(mine, well_led, 2)
    theirs = assessment(world, r0d, CareSetting.COMMUNITY)
    answer(theirs, well_led, 4)
    tables.rebuild()
    AreaStat.objects.update(n=99)
    answer(assessment(world, r0a, CareSetting.COMMUNITY), well_led, 4)  # not refreshed yet
    mine.answers.filter(domain=well_led).update(level=3)
    tables.refresh_assessment(mine.pk)
    rewritten = set(AreaStat.objects.exclude(n=99).values_list("area_type", "area_code"))
    assert rewritten == {("trust", "R0A"), ("ics", "QOP")}
    assert AreaStat.objects.get(area_type="ics", area_code="QOP", metric_code="well_led").mean == 3.0
    # Its own rows only: the community return it did not name stays unwritten until its own refresh.
    assert set(PillarScore.objects.values_list("assessment_id", flat=True)) == {mine.pk, theirs.pk}


def test_the_batched_follow_up_rewrites_the_national_areas_its_cycles_refreshes_moved(world):  # noqa: F811
    well_led = domain(world)
    r0a, r0d = trust(world, "R0A", "QOP"), trust(world, "R0D", "QVV", settings=[CareSetting.COMMUNITY])
    mine = assessment(world, r0a)
    answer(mine, well_led, 2)
    answer(assessment(world, r0d, CareSetting.COMMUNITY), well_led, 4)
    earlier = CycleFactory(year=2025)
    answer(assessment({**world, "cycle": earlier}, r0a), well_led, 5)
    tables.rebuild()
    AreaStat.objects.update(n=99)

    def national_rewritten():
        rewritten = AreaStat.objects.exclude(n=99).filter(area_type__in=summary_sql.NATIONAL_AREA_TYPES)
        return set(rewritten.values_list("cycle_year", "area_type", "area_code"))

    tables.refresh_areas(2026)
    assert national_rewritten() == set()  # nothing moved since the rebuild
    mine.answers.update(level=3)
    tables.refresh_assessment(mine.pk)
    tables.refresh_areas(2026)
    # R0A's England, region and peer group; not the community peer group of R0D, nor 2025's areas.
    assert national_rewritten() == {
        (2026, "england", "E"),
        (2026, "region", world["region"].code),
        (2026, "peer", "acute|acute"),
    }
    assert AreaStat.objects.get(area_type="england", cycle_year=2026, metric_code="well_led").mean == 3.5
    AreaStat.objects.update(n=99)
    tables.refresh_areas(2026)
    assert national_rewritten() == set()


def _large_areas():
    """The ICS and national figures, and the counts by value they are read from (those at 0 copies skipped)."""
    stats = AreaStat.objects.exclude(area_type="trust").values_list(
        "area_type", "area_code", "metric_code", "n", "mean", "median", "q1", "q3", "deciles", "share_met",
        "measured_median",
    )  # fmt: skip
    counts = AreaValueCount.objects.filter(copies__gt=0).values_list(
        "area_type", "area_code", "metric_code", "value", "measured", "copies", "met_sum", "met_n", "fresh"
    )
    return sorted(stats, key=repr), sorted(counts, key=repr)


def test_the_counts_by_value_move_by_each_refreshs_difference(world):  # noqa: F811
    """A submission's refresh moves the counts of its ICS and the national areas by its own difference (its old rows
    out, its new in): a value others already have (copies added), a value it leaves (copies taken away), a return
    that stops counting (all its counts out). After each, the figures and counts are what a rebuild writes."""
    well_led = domain(world, themes=["epr"])
    for theme, kind, value, description, code in TARGETS[:2]:
        target(world, theme, kind, value, description, code)
    returns = {}
    for code, status in [("R0A", Status.SUBMITTED), ("R0B", Status.SUBMITTED), ("R0D", Status.DRAFT)]:
        returns[code] = assessment(world, trust(world, code), status=status)
        answer(returns[code], well_led, 3)
        IndicatorValue.objects.create(assessment=returns[code], indicator_code="unsupported_devices_pct", number=4)
    tables.rebuild()

    def refreshed_as_rebuilt(changed):
        tables.refresh_assessment(returns[changed].pk)
        tables.refresh_areas(2026)
        refreshed = _large_areas()
        tables.rebuild()
        assert refreshed == _large_areas()
        return refreshed

    Assessment.objects.filter(pk=returns["R0D"].pk).update(status=Status.SUBMITTED)
    _, counts = refreshed_as_rebuilt("R0D")  # the same values as R0A's and R0B's
    assert ("england", "E", "well_led", 3.0, None, 3, 0.0, 0, False) in counts
    assert ("ics", "QOP", "legacy_it:at-most-5-unsupported", 0.0, 4.0, 3, 3.0, 3, False) in counts
    returns["R0A"].answers.update(level=1)
    IndicatorValue.objects.filter(assessment=returns["R0A"]).update(number=9)
    refreshed_as_rebuilt("R0A")  # leaves those values for others
    Assessment.objects.filter(pk=returns["R0B"].pk).update(status=Status.DRAFT)
    _, counts = refreshed_as_rebuilt("R0B")  # stops counting
    assert ("ics", "QOP", "legacy_it:at-most-5-unsupported", 0.0, 4.0, 1, 1.0, 1, False) in counts
    assert not AreaValueCount.objects.filter(fresh=True).exists()


def test_a_cycles_rebuild_leaves_the_other_cycles(world):  # noqa: F811
    well_led = domain(world)
    answer(assessment(world, trust(world, "R0A")), well_led, 2)
    later = CycleFactory(year=2027, trust_framework=world["cycle"].trust_framework)
    answer(assessment({**world, "cycle": later}, trust(world, "R0D")), well_led, 4)
    tables.rebuild()
    PillarScore.objects.filter(cycle_year=2027).update(score=0)
    tables.rebuild([2026])
    assert set(PillarScore.objects.filter(cycle_year=2027).values_list("score", flat=True)) == {0}
    tables.rebuild([2027])
    assert set(PillarScore.objects.filter(cycle_year=2027).values_list("score", flat=True)) == {4.0}


def test_progress_of_a_cycle_without_counted_returns_is_the_same_in_every_kind_of_write(world):  # noqa: F811
    assessment(world, trust(world, "R0A", settings=[CareSetting.ACUTE, CareSetting.COMMUNITY]), status=Status.DRAFT)

    def progress():
        return sorted(ProgressStat.objects.values_list("area_type", "area_code", "expected", "not_started", "draft"))

    tables.rebuild()
    everything = progress()
    tables.rebuild([2026])
    assert progress() == everything
    tables.refresh_areas(2026)
    assert progress() == everything
    assert ("ics", "QOP", 2, 1, 1) in everything


def test_a_regions_and_englands_progress_add_up_to_their_icss(world):  # noqa: F811
    """Progress is counted per ICS (returns recorded in it, returns due from its host trusts); a region's and
    England's are the sums of their ICSs', in the rebuild and in the batched refresh alike."""
    settings = [CareSetting.ACUTE, CareSetting.COMMUNITY]
    assessment(world, trust(world, "R0A", "QOP", settings=settings), status=Status.SUBMITTED)
    assessment(world, trust(world, "R0D", "QVV", settings=settings), status=Status.DRAFT)
    assessment(world, trust(world, "RBV", "QVV"), status=Status.APPROVED)
    columns = ["expected", "not_started", "draft", "submitted", "approved"]

    def progress(area_type, code=None):
        rows = ProgressStat.objects.filter(area_type=area_type, **({"area_code": code} if code else {}))
        return [sum(row[i] for row in rows.values_list(*columns)) for i in range(len(columns))]

    tables.rebuild()
    by_ics = progress("ics")
    assert by_ics == [5, 2, 1, 1, 1]
    assert progress("england", "E") == by_ics == progress("region", world["region"].code)
    ProgressStat.objects.filter(area_type__in=["england", "region"]).delete()
    tables.refresh_areas(2026)
    assert progress("england", "E") == by_ics == progress("region", world["region"].code)


@pytest.mark.parametrize(
    "allowed, true, false",
    [([True], True, False), ([1], True, False), (["False"], False, True), ([0.0], False, True), (["x"], False, False)],
)
def test_yes_no_against_one_of_lists(allowed, true, false):
    assert (summary_sql._is_in(True, allowed), summary_sql._is_in(False, allowed)) == (true, false)


def test_numbers_one_of_a_list_include_the_texts_they_print_as():
    assert summary_sql._number_matches([5, "5.0", "5", "1e-05", True, "Epic"]) == {5.0, 1e-05, 1.0}


def test_an_empty_list_of_years_selects_nothing():
    assert summary_sql.Filter.any_of("c.year", []).sql == "1 = 0"
    assert summary_sql.Filter.any_of("c.year", [2025, 2026]).params == [2025, 2026]


@pytest.mark.parametrize("method", sorted(summary_sql.STATS_METHODS))
def test_the_counts_by_value_give_what_every_way_of_computing_quantiles_gives(world, method):  # noqa: F811
    """The rebuild writes the ICS and national figures from the counts by value, the trusts' from their rows
    (PostgreSQL by percentile_cont, SQLite by the portable windows): every area must have the figures either way of
    computing from the rows gives, ties and gaps included."""
    from django.db import connection

    if method == "percentile_cont" and connection.vendor != "postgresql":
        pytest.skip("percentile_cont needs PostgreSQL; SQLite runs the windows in every other test")
    well_led, safe = domain(world, themes=["epr"]), domain(world, "safe_practice")
    for theme, kind, value, description, code in TARGETS:
        target(world, theme, kind, value, description, code)
    for index, level in enumerate([1, 2, 2, 3, 5, 4, 4, 2, 5, 1, 3]):
        org = trust(world, f"R{index:02d}", "QOP" if index % 2 else "QVV")
        mine = assessment(world, org)
        answer(mine, well_led, level, evidence="Board minutes", verified=index % 4 == 0)
        answer(mine, safe, 6 - level if index % 3 else level)
        for code, number in [("unsupported_devices_pct", 2.5 * (index % 5)), ("digital_spend_pct", 3.0 + index % 4)]:
            IndicatorValue.objects.create(assessment=mine, indicator_code=code, number=number)
    tables.rebuild()

    def stats():
        rows = AreaStat.objects.values_list(
            "area_type", "area_code", "metric_code", "n", "mean", "median", "q1", "q3", "share_met", "measured_median"
        )
        deciles = AreaStat.objects.values_list("area_type", "area_code", "metric_code", "deciles")
        return sorted(tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows), sorted(deciles)

    rebuilt = stats()
    metric_types = set(AreaStat.objects.values_list("metric_type", flat=True))
    assert metric_types == {"pillar", "gap", "indicator", "evidence"}
    assert AreaStat.objects.filter(metric_type="gap", measured_median__isnull=False).exists()
    assert set(AreaStat.objects.values_list("area_type", flat=True)) == set(summary_sql.AREA_TYPES)
    AreaStat.objects.all().delete()
    rows = summary_sql.Filter()
    metrics = summary_sql.gap_target_rows(None).metrics
    tables._insert(AreaStat, summary_sql.area_stats(rows, rows, summary_sql.AREA_TYPES, metrics, method))
    assert stats() == rebuilt


def _indexes_and_keys():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename LIKE 'reports_%%' ORDER BY 1")
        indexes = cursor.fetchall()
        cursor.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE conrelid::regclass::text LIKE 'reports_%%' ORDER BY 1, 2"""
        )
        return indexes, cursor.fetchall()


def test_a_full_rebuild_leaves_every_index_and_key_as_it_was_even_when_it_fails(world, monkeypatch):  # noqa: F811
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the indexes are dropped and built again only on PostgreSQL")
    before = _indexes_and_keys()
    tables.rebuild()
    assert _indexes_and_keys() == before

    def fail(model, statement):
        raise RuntimeError("worker killed")

    monkeypatch.setattr(tables, "_insert", fail)
    with pytest.raises(RuntimeError):
        tables.rebuild()
    assert _indexes_and_keys() == before
