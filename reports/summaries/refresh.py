"""Carrying out the refresh marks that maturity's actions write: one assessment's summaries at once, its region,
England and peer group a few seconds later in one batch, a whole cycle or everything for bulk imports. Each run is
recorded; each successful one moves the versions of the parts it rewrote (reports.summaries.versions), so exactly the
cached pages that read them are rebuilt from the new summaries."""

import logging
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from maturity.models import Assessment, RefreshMark
from reports.models import RefreshRun
from reports.summaries import problems, tables, versions

logger = logging.getLogger(__name__)

# A mark enqueued this long ago and still not done is taken to be lost (broker restarted, worker killed), and so is
# a run still running this long after it started.
LOST_AFTER = timedelta(minutes=5)
LOST_RUN_ERROR = (
    "Lost: its worker stopped before it finished (killed, or its machine went down). Nothing it wrote was kept; "
    "the sweep runs it again."
)
# A mark whose refresh fails this many times is parked: shown on /summaries/, no longer retried by the sweep.
PARK_AFTER = 3


def _error_text(error: Exception) -> str:
    return f"{error.__class__.__name__}: {error}"[:2000]


@contextmanager
def recorded(kind: str, target: str = "", parts=(versions.EVERYTHING,)):
    """Record a run (start, end, rows, status, error, problems); when it succeeds, move the versions of the summary
    parts it rewrote. The body sets run.rows and adds to run.problems the values it could not use, which makes the
    run one that finished with problems."""
    run = RefreshRun.objects.create(kind=kind, target=target, started_at=timezone.now())
    run.parts = list(parts)
    try:
        yield run
    except Exception as error:
        run.status, run.error = RefreshRun.Status.FAILED, _error_text(error)
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        raise
    run.problems = problems.listed(run.problems)
    run.status = RefreshRun.Status.PROBLEMS if run.problems else RefreshRun.Status.OK
    # The error clears a "lost" the sweep may have recorded meanwhile, if this run was only slow.
    run.error, run.finished_at = "", timezone.now()
    run.save(update_fields=["status", "error", "rows", "problems", "finished_at"])
    if run.problems:
        logger.warning("Refresh %s %s skipped what it could not use: %s", kind, target, "; ".join(run.problems))
    versions.move(run.parts)


def refresh_assessment(assessment_id: int) -> int:
    with recorded("assessment", str(assessment_id), parts=_parts_of(assessment_id)) as run:
        run.rows = tables.refresh_assessment(assessment_id, run.problems)
    return run.rows


def _parts_of(assessment_id: int) -> list[str]:
    """The summary parts an assessment's refresh rewrites: its trust and its ICS (recorded in its cycle); an ICB's
    own return only its ICS. Its peer group is a national area, rewritten with region and England."""
    assessment = Assessment.objects.filter(pk=assessment_id).select_related("trust", "ics").first()
    if assessment is None:
        return []
    if assessment.trust is None:
        return [versions.ics(assessment.ics.code)]
    return [versions.trust(assessment.trust.code), versions.ics(assessment.ics.code)]


def refresh_areas(year: int) -> int:
    with recorded("areas", str(year), parts=[versions.areas(year), versions.CYCLES]) as run:
        run.rows = tables.refresh_areas(year, run.problems)
    return run.rows


def rebuild(years=None) -> int:
    with recorded("full" if years is None else "cycle", ",".join(map(str, years or []))) as run:
        run.rows = tables.rebuild(years, run.problems)
    return run.rows


def process_mark(mark_id: int, *, schedule_areas=None) -> bool:
    """Refresh what one mark names, then mark it done. Returns False if it was already done (a duplicate delivery)
    or is parked. A failure is counted on the mark and raised; the PARK_AFTER-th parks it.
    `schedule_areas(year)` is called after an assessment's refresh, for the batched follow-up of the national areas."""
    mark = (
        RefreshMark.objects.filter(pk=mark_id, done_at__isnull=True, parked_at__isnull=True)
        .select_related("cycle")
        .first()
    )
    if mark is None:
        return False
    try:
        _refresh(mark, schedule_areas)
    except Exception as error:
        _count_failure(mark, error)
        raise
    RefreshMark.objects.filter(pk=mark_id).update(done_at=timezone.now())
    return True


def _refresh(mark: RefreshMark, schedule_areas) -> None:
    if mark.assessment_id:
        refresh_assessment(mark.assessment_id)
        if schedule_areas is not None:
            schedule_areas(mark.cycle.year)
        else:
            refresh_areas(mark.cycle.year)
    elif mark.cycle_id:
        rebuild([mark.cycle.year])
    else:
        rebuild()


def _count_failure(mark: RefreshMark, error: Exception) -> None:
    mark.attempts += 1
    mark.last_error = _error_text(error)
    if mark.attempts >= PARK_AFTER:
        mark.parked_at = timezone.now()
        logger.error("Refresh mark %s failed %s times and is parked: %s", mark.pk, mark.attempts, mark.last_error)
    mark.save(update_fields=["attempts", "last_error", "parked_at"])


def pending_marks(now=None):
    """Marks never enqueued (the broker was down) or enqueued long ago and never done; not the parked ones."""
    now = now or timezone.now()
    return RefreshMark.objects.filter(done_at__isnull=True, parked_at__isnull=True).exclude(
        enqueued_at__gt=now - LOST_AFTER
    )


def prune(now=None) -> int:
    """Delete refresh runs that ended, and marks that were done, more than REFRESH_RECORDS_KEEP_DAYS ago: every save
    writes one of each, so without pruning they grow for ever. Running runs and pending marks are never pruned."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.REFRESH_RECORDS_KEEP_DAYS)
    runs, _ = RefreshRun.objects.filter(finished_at__lt=cutoff).delete()
    marks, _ = RefreshMark.objects.filter(done_at__lt=cutoff).delete()
    return runs + marks


def record_lost_runs(now=None) -> int:
    """Runs left "running" by a worker that stopped mid-way are recorded as failed; returns how many. The summary
    writes are each one transaction, which PostgreSQL rolled back when the worker's connection went: the summaries
    are as they were before the run."""
    now = now or timezone.now()
    lost = RefreshRun.objects.filter(status=RefreshRun.Status.RUNNING, started_at__lt=now - LOST_AFTER)
    return lost.update(status=RefreshRun.Status.FAILED, error=LOST_RUN_ERROR, finished_at=now)


def sweep(now=None) -> int:
    """Record lost runs, then process every pending mark; returns how many marks were done. The national areas
    are refreshed at once here. A mark that fails is counted (and parked at last) and the sweep goes on to the next: one
    never holds up the others."""
    if lost := record_lost_runs(now):
        logger.warning("%s refresh runs were lost with their worker", lost)
    done = 0
    for mark_id in pending_marks(now).values_list("pk", flat=True):
        try:
            done += process_mark(mark_id)
        except Exception:  # noqa: BLE001 - any failure: counted on the mark, the other marks still refreshed
            logger.exception("Refresh mark %s failed", mark_id)
    if done:
        logger.info("Swept %s refresh marks the broker had missed", done)
    return done
