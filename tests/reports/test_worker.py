"""A task makes the round trip through Redis and a real Celery worker process, against the test database."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app
from reports.models import WorkerHeartbeat
from reports.tasks import heartbeat

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: no broker, so Celery runs eagerly here"),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="needs DATABASE_URL (PostgreSQL): a worker process cannot share SQLite's in-memory test database",
    ),
]


def database_url_of_the_test_database():
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def worker(transactional_db):
    """A real worker in its own process, pointed at this run's test database (data must be committed)."""
    app.control.purge()
    env = {**os.environ, "DATABASE_URL": database_url_of_the_test_database(), "REDIS_URL": settings.REDIS_URL}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
            "--hostname=test-worker@%h",
        ],
        cwd=ROOT,
        env=env,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def test_a_task_round_trips_through_redis_and_a_real_worker(worker):
    hostname = heartbeat.delay().get(timeout=60)
    assert hostname.startswith("test-worker@")
    assert WorkerHeartbeat.objects.filter(hostname=hostname).exists()
