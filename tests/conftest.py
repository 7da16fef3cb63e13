"""Shared test set-up. The suite runs on whatever the environment names: PostgreSQL and Redis when DATABASE_URL and
REDIS_URL are set (CI), SQLite and eager Celery otherwise; tests that need the real services skip with a reason."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command

# Hashing with PBKDF2 costs ~100 ms a user; tests create many.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests render pages without running collectstatic first.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


def pytest_report_header(config):
    database = "PostgreSQL" if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else "SQLite"
    broker = "Redis with a real Celery worker" if settings.REDIS_URL else "none (eager Celery, database cache)"
    return [f"database: {database}", f"broker and cache: {broker}"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("createcachetable", verbosity=0)


@pytest.fixture(autouse=True)
def fresh_cache(django_db_setup, django_db_blocker):
    """Log-in throttle counts and cached pages must not leak from one test to the next."""
    with django_db_blocker.unblock():
        cache.clear()


def _test_database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    """A real Celery worker in its own process, on Redis, pointed at this run's test database (so the data it reads
    must be committed: transactional tests only). Needs REDIS_URL and PostgreSQL; the caller skips otherwise."""
    from config.celery import app

    app.control.purge()
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "REDIS_URL": settings.REDIS_URL}
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
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
    )
    yield process
    process.terminate()
    process.wait(timeout=30)


def real_services() -> bool:
    return bool(settings.REDIS_URL) and settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
