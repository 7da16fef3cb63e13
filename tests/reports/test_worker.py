"""A task makes the round trip through Redis and a real Celery worker process, against the test database."""

import pytest
from django.conf import settings

from reports.models import WorkerHeartbeat
from reports.tasks import heartbeat

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: no broker, so Celery runs eagerly here"),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs DATABASE_URL (PostgreSQL): a worker process cannot share SQLite's in-memory test database",
    ),
]


def test_a_task_round_trips_through_redis_and_a_real_worker(celery_worker_process):
    hostname = heartbeat.delay().get(timeout=60)
    assert hostname.startswith("test-worker@")
    assert WorkerHeartbeat.objects.filter(hostname=hostname).exists()
