"""Writing the summary tables: a full rebuild (or some cycles), one assessment with the areas right above it, and the
national areas of a cycle (regions, England, peer groups). The statements are in reports.summaries.sql: every row is
computed and written by the database (INSERT … SELECT), none passes through Python.

Every write here runs in one transaction, so a reader sees the old summaries or the new ones, never half; a worker
killed mid-rebuild leaves the previous summaries in place.

A stored value a write cannot use (a gap target that is not a number, a NaN) does not stop it: that one figure is
left out and the write carries on; what was left out, and why, is added to the `problems` list the caller passes
(reports.summaries.problems)."""

import operator
from functools import reduce

from django.db import OperationalError, connection, transaction
from django.db.models import Q

from maturity.models import Assessment, Cycle
from reports.models import (
    AreaStat,
    AreaValueCount,
    DomainScore,
    GapScore,
    IndicatorScore,
    PillarScore,
    ProgressStat,
)
from reports.summaries import problems as unusable
from reports.summaries import sql

ASSESSMENT_MODELS = (PillarScore, GapScore, IndicatorScore, DomainScore)


def _insert(model, statement) -> int:
    """Run one INSERT … SELECT into `model`'s table; returns the rows written."""
    text, params = statement
    with connection.cursor() as cursor:
        cursor.execute(text, params)
        return max(cursor.rowcount, 0)


def _lock(years=None) -> None:
    """Summary writes of a cycle take turns: each locks the cycle's row for its transaction, so two refreshes in one
    ICS never both rewrite its area rows, and a refresh waits for a rebuild rather than interleaving with it."""
    cycles = Cycle.objects.select_for_update().order_by("pk")
    if years is not None:
        cycles = cycles.filter(year__in=list(years))
    list(cycles.values_list("pk", flat=True))


# How long a full rebuild waits for readers (a long export) to let it empty the tables, before it deletes instead.
TRUNCATE_LOCK_TIMEOUT = "2s"


def _clear(models, row_filter: Q) -> list[str]:
    """Remove the rows a rebuild replaces. Every row, on PostgreSQL: TRUNCATE, a tenth of DELETE's time, and the
    tables' primary keys and secondary indexes dropped first (into empty tables held for this transaction, building
    each index once after the load costs less than keeping it up to date row by row, and TRUNCATE then has no index
    to empty). Partial indexes stay: they hold only rows a rebuild never writes (a refresh's differences), so
    building them again would cost a build each for nothing. It holds the tables until the rebuild commits, so
    readers that miss the cache wait for the new summaries rather than read the old (still never half); cached
    dashboards read none of these tables. If a reader (a long export) holds a table, TRUNCATE would make every
    reader queue behind it: after a short wait it gives up and DELETE does it. Returns the statements that put the
    primary keys and indexes back (none after DELETE); the rollback of a failed rebuild puts them back as they
    were."""
    if not row_filter and connection.vendor == "postgresql":
        tables_ = [model._meta.db_table for model in models]
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{TRUNCATE_LOCK_TIMEOUT}'")
                cursor.execute(
                    """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
                       WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary AND NOT i.indisunique
                         AND i.indpred IS NULL""",
                    [tables_],
                )
                indexes = cursor.fetchall()
                cursor.execute(
                    """SELECT k.conrelid::regclass::text, quote_ident(k.conname), pg_get_constraintdef(k.oid)
                       FROM pg_constraint k WHERE k.conrelid = ANY(%s::regclass[]) AND k.contype = 'p'""",
                    [tables_],
                )
                keys = cursor.fetchall()
                for table, name, _ in keys:
                    cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
                if indexes:
                    cursor.execute(f"DROP INDEX {', '.join(name for name, _ in indexes)}")
                cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(name) for name in tables_)}")
                cursor.execute("SET LOCAL lock_timeout = DEFAULT")
            return [f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}" for table, name, definition in keys] + [
                definition for _, definition in indexes
            ]
        except OperationalError:
            pass  # the savepoint is rolled back: the tables, their keys and their indexes are untouched
    for model in models:
        model.objects.filter(row_filter).delete()
    return []


def _note(problems: list | None, found) -> None:
    if problems is not None:
        problems.extend(found)


def _unusable_numbers(where: sql.Filter) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(*sql.unusable_numbers(where))
        return [unusable.number_problem(*row) for row in cursor.fetchall()]


def _assessment_rows(where: sql.Filter, targets: sql.Targets, problems: list | None) -> int:
    """Pillar, gap, indicator and domain rows of the counted assessments `where` selects, against their cycles'
    targets; the targets and numbers that could not be used are noted in `problems`."""
    _note(problems, targets.problems)
    _note(problems, _unusable_numbers(where))
    written = _insert(PillarScore, sql.pillar_scores(where))
    written += _insert(GapScore, sql.gap_scores(where, targets))
    written += _insert(IndicatorScore, sql.indicator_scores(where))
    return written + _insert(DomainScore, sql.domain_scores(where))


def rebuild(years=None, problems: list | None = None) -> int:
    """Recompute every summary (or those of some cycles) from scratch and swap them in atomically."""
    if years is None:
        assessments = rows = counted = cycles = progress = sql.Filter()
        row_filter = Q()
    else:
        years = sorted(set(years))
        assessments = sql.Filter.any_of("c.year", years)
        rows = sql.Filter.any_of("s.cycle_year", years)
        counted = sql.Filter.any_of("v.cycle_year", years)
        progress = sql.Filter.any_of("p.cycle_year", years)
        cycles = assessments
        row_filter = Q(cycle_year__in=years)
    with transaction.atomic():
        _lock(years)
        sql.prepare()
        models = (*ASSESSMENT_MODELS, AreaStat, AreaValueCount, ProgressStat)
        rebuilt = _clear(models, row_filter)
        targets = sql.gap_target_rows(years)
        written = _assessment_rows(assessments, targets, problems)
        # The counts behind the ICS and national figures; not summary rows anyone reads, so not in `written`.
        _insert(AreaValueCount, sql.value_counts(rows, sql.COUNTED_AREA_TYPES, targets.metrics))
        written += _insert(AreaStat, sql.area_stats(rows, sql.Filter(), ("trust",), targets.metrics))
        written += _insert(AreaStat, sql.area_stats_from_counts(counted))
        written += _insert(ProgressStat, sql.ics_progress(cycles))
        written += _insert(ProgressStat, sql.area_progress(progress))
        with connection.cursor() as cursor:
            for statement in rebuilt:
                cursor.execute(statement)
    return written


def refresh_assessment(assessment_id: int, problems: list | None = None) -> int:
    """Rewrite one assessment's rows and the summaries of the areas right above it (its trust and ICS); region,
    England and the peer groups follow in refresh_areas. Returns the rows written."""
    assessment = Assessment.objects.select_related("cycle", "ics", "trust").filter(pk=assessment_id).first()
    if assessment is None:
        return 0
    year = assessment.cycle.year
    with transaction.atomic():
        _lock([year])
        sql.prepare()
        targets = sql.gap_target_rows([year])
        # The counts by value of its ICS and the national areas move by the difference: its old rows' out, its new
        # rows' in.
        _count_if_uncounted(year, targets.metrics)
        own = sql.Filter("s.assessment_id = %s", [assessment_id])
        _insert(AreaValueCount, sql.value_counts(own, sql.COUNTED_AREA_TYPES, targets.metrics, sign=-1, fresh=True))
        for model in ASSESSMENT_MODELS:
            model.objects.filter(assessment_id=assessment_id).delete()
        written = _assessment_rows(sql.Filter("a.id = %s", [assessment_id]), targets, problems)
        _insert(AreaValueCount, sql.value_counts(own, sql.COUNTED_AREA_TYPES, targets.metrics, sign=1, fresh=True))
        with connection.cursor() as cursor:
            for text, params in sql.merge_value_counts(year):
                cursor.execute(text, params)
        if assessment.trust_id is None:
            return written
        written += _refresh_areas_above(assessment, year, targets.metrics)
    return written


def _count_if_uncounted(year: int, metrics) -> None:
    """A cycle with no counts by value yet (its summaries were written before the counts existed: an upgrade, until
    the next rebuild) has them counted from its rows first, once, so that a refresh moves real counts. A cycle
    without counted returns finds no rows to count."""
    if not AreaValueCount.objects.filter(cycle_year=year).exists():
        rows = sql.Filter("s.cycle_year = %s", [year])
        _insert(AreaValueCount, sql.value_counts(rows, sql.COUNTED_AREA_TYPES, metrics))


def _refresh_areas_above(assessment: Assessment, year: int, metrics) -> int:
    """The trust's and ICS's statistics, from the rows of those two areas only, and the ICS's progress."""
    ics_code, trust_code = assessment.ics.code, assessment.trust.code
    AreaStat.objects.filter(
        Q(cycle_year=year) & (Q(area_type="ics", area_code=ics_code) | Q(area_type="trust", area_code=trust_code))
    ).delete()
    # A trust's from its own few rows; an ICS's (up to thousands of returns) from its counts by value.
    own = sql.Filter("s.cycle_year = %s AND s.org_code = %s", [year, trust_code])
    written = _insert(AreaStat, sql.area_stats(own, sql.Filter(), ("trust",), metrics))
    written += _insert(AreaStat, sql.area_stats_from_counts(sql.Filter.areas_of(year, [("ics", ics_code)])))
    ProgressStat.objects.filter(cycle_year=year, area_type="ics", area_code=ics_code).delete()
    progress = sql.ics_progress(sql.Filter("c.year = %s", [year]), ics_id=assessment.ics_id)
    return written + _insert(ProgressStat, progress)


def refresh_areas(year: int, problems: list | None = None) -> int:
    """The national areas of a cycle (region, England and the peer groups: similar trusts across England) whose
    counts by value the cycle's refreshes moved since the last run, from those counts; and the regions' and
    England's progress. The batched follow-up of refresh_assessment (reports.tasks.schedule_areas), once for the
    submissions of a burst: what it reads grows with the distinct values of the areas a burst touched, not with the
    number of returns. A target the counts were written without (a gap figure they lack) is noted in `problems`, as
    every write of the cycle notes it."""
    with transaction.atomic():
        _lock([year])
        sql.prepare()
        _note(problems, sql.gap_target_rows([year]).problems)
        moved_counts = AreaValueCount.objects.filter(cycle_year=year, moved=True)
        national = moved_counts.filter(area_type__in=sql.NATIONAL_AREA_TYPES)
        moved = sorted(set(national.values_list("area_type", "area_code")))
        written = 0
        if moved:
            AreaStat.objects.filter(cycle_year=year).filter(
                reduce(operator.or_, (Q(area_type=area_type, area_code=code) for area_type, code in moved))
            ).delete()
            written = _insert(AreaStat, sql.area_stats_from_counts(sql.Filter.areas_of(year, moved)))
        moved_counts.update(moved=False)
        ProgressStat.objects.filter(cycle_year=year, area_type__in=("england", "region")).delete()
        progress = sql.area_progress(sql.Filter("p.cycle_year = %s", [year]))
        return written + _insert(ProgressStat, progress)
