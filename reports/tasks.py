from celery import shared_task
from django.utils import timezone

from reports.models import WorkerHeartbeat


@shared_task(name="reports.heartbeat", bind=True)
def heartbeat(self) -> str:
    """Record that a worker is alive. Beat sends it every minute; the health page reads it."""
    hostname = "eager (web process)" if self.request.is_eager else self.request.hostname
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})
    return hostname
