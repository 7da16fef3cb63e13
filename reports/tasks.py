"""Celery tasks: thin wrappers around reports.summaries.refresh, each run recorded there."""

import time

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError
from django.utils import timezone

from reports.models import WorkerHeartbeat
from reports.summaries import refresh

# A cycle's national areas (region, England, peer groups) are refreshed at most once in this many seconds: after
# a quiet spell at once, in a burst of submissions once when the window ends, for every area the burst moved.
AREAS_WINDOW_SECONDS = 3


@shared_task(name="reports.heartbeat", bind=True)
def heartbeat(self) -> str:
    """Record that a worker is alive. Beat sends it every minute; the health page reads it."""
    hostname = "eager (web process)" if self.request.is_eager else self.request.hostname
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})
    return hostname


def schedule_areas(year: int, now: float | None = None) -> None:
    """Refresh the cycle's national areas after a submission's own refresh: at once if none has started within the
    window, else when the window ends. At most one waits per cycle: later submissions ride on it (it reads their
    rows when it starts)."""
    if not cache.add(f"areas-pending:{year}", True, timeout=AREAS_WINDOW_SECONDS * 20):
        return
    now = time.time() if now is None else now
    started = cache.get(f"areas-started:{year}")
    countdown = 0 if started is None else max(0.0, started + AREAS_WINDOW_SECONDS - now)
    refresh_areas.apply_async(args=[year], countdown=countdown)


@shared_task(name="reports.refresh_mark", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def refresh_mark(mark_id: int) -> bool:
    """Enqueued by maturity after each write commits."""
    return refresh.process_mark(mark_id, schedule_areas=schedule_areas)


@shared_task(name="reports.refresh_areas", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def refresh_areas(year: int) -> int:
    # Started before no longer pending: a submission scheduling in between then waits for the window's end.
    cache.set(f"areas-started:{year}", time.time(), timeout=AREAS_WINDOW_SECONDS * 20)
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
