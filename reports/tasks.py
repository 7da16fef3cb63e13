"""Celery tasks: thin wrappers around reports.summaries.refresh, each run recorded there."""

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone

from reports.models import WorkerHeartbeat
from reports.summaries import refresh

# Region and England summaries wait this long after a submission, so that a burst of submissions costs one run.
AREAS_DELAY_SECONDS = 3


@shared_task(name="reports.heartbeat", bind=True)
def heartbeat(self) -> str:
    """Record that a worker is alive. Beat sends it every minute; the health page reads it."""
    hostname = "eager (web process)" if self.request.is_eager else self.request.hostname
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})
    return hostname


def schedule_areas(year: int) -> None:
    """At most one pending region/England refresh per cycle: later submissions ride on the one already waiting."""
    if cache.add(f"areas-pending:{year}", True, timeout=AREAS_DELAY_SECONDS * 20):
        refresh_areas.apply_async(args=[year], countdown=AREAS_DELAY_SECONDS)


@shared_task(name="reports.refresh_mark", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def refresh_mark(mark_id: int) -> bool:
    """Enqueued by maturity after each write commits."""
    return refresh.process_mark(mark_id, schedule_areas=schedule_areas)


@shared_task(name="reports.refresh_areas", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def refresh_areas(year: int) -> int:
    cache.delete(f"areas-pending:{year}")
    return refresh.refresh_areas(year)


@shared_task(name="reports.rebuild_summaries", acks_late=True)
def rebuild_summaries() -> int:
    """Nightly from beat, and on demand (manage.py rebuild_summaries, the analysts' button)."""
    return refresh.rebuild()


@shared_task(name="reports.sweep_refresh_marks")
def sweep_refresh_marks() -> int:
    """Beat runs it every minute: whatever the broker missed is refreshed here."""
    return refresh.sweep()


@shared_task(name="reports.prune_refresh_records")
def prune_refresh_records() -> int:
    """Beat runs it nightly."""
    return refresh.prune()
