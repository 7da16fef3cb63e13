from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the beat's heartbeat task: the health page's proof that the
    broker, beat and a worker all work end to end."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self):
        return f"{self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
