"""Shared test set-up. The suite runs on whatever the environment names: PostgreSQL and Redis when DATABASE_URL and
REDIS_URL are set (CI), SQLite and eager Celery otherwise; tests that need the real services skip with a reason."""

import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
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


# Browsers, servers started and stopped, and property-based batteries: `pytest -m "not slow"` is the quick loop
# (about a third of the time); `make test` and CI run everything.
SLOW_PATHS = ("tests/e2e/", "tests/faults/", "tests/notifications/test_browser.py")


def pytest_collection_modifyitems(items):
    for item in items:
        if any(part in str(item.path) for part in SLOW_PATHS):
            item.add_marker(pytest.mark.slow)


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


def child_environment(**overrides) -> dict[str, str]:
    """The environment for a process a test starts (worker, server, settings check): this one's, less pytest-xdist's
    worker name, which would make the child's settings move REDIS_URL to another database a second time."""
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_XDIST_")}
    return {**inherited, **overrides}


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
    env = child_environment(DATABASE_URL=_test_database_url(), REDIS_URL=settings.REDIS_URL)
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


@dataclass
class SMTPServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread of the test process). `messages` holds what it
    received, in order, each parsed; stop() and start() take it down and bring it back on the same port."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[EmailMessage] = field(default_factory=list)
    _controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's handler hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        if not self.port:
            with socket.socket() as probe:
                probe.bind((self.host, 0))
                self.port = probe.getsockname()[1]
        # A stopped controller's event loop is closed: each start needs a new one.
        self._controller = Controller(self, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[EmailMessage]:
        """The messages delivered to this address."""
        return [message for message in self.messages if address in message["X-Envelope-To"].split(", ")]


@pytest.fixture
def smtp_server(settings):
    """Django sends through a real SMTP server for the test: its messages are the e-mails that went out."""
    server = SMTPServer()
    server.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = server.host, server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield server
    server.stop()
