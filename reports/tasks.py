from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from reports import refresh
from reports.models import WorkerHeartbeat


@shared_task(name="reports.heartbeat", bind=True)
def heartbeat(self) -> str:
    """Record that a worker is alive. Beat sends it every minute; the health page reads it."""
    hostname = "eager (web process)" if self.request.is_eager else self.request.hostname
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})
    return hostname


@shared_task(name="reports.refresh_mark", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def refresh_mark(mark_id: int) -> bool:
    """Enqueued by maturity after each write commits."""
    return refresh.process_mark(mark_id)


@shared_task(name="reports.sweep_refresh_marks")
def sweep_refresh_marks() -> int:
    """Beat runs it every minute: whatever the broker missed is refreshed here."""
    return refresh.sweep()
