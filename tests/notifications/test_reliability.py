"""Sending never blocks or fails a save: the outbox row is written with the change and goes when it can."""

import time
from datetime import timedelta

import pytest
from celery.canvas import Signature
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from maturity import actions
from maturity.models import Status
from notifications import sending
from notifications.models import OutboxEmail
from tests.conftest import real_services
from tests.notifications.conftest import fill, submit_kwargs


def submit_and_commit(world, django_capture_on_commit_callbacks):
    """Submit R0A's assessment, commit and run the on-commit hooks (no sweep)."""
    lead = world.users["lead"]
    fill(world.assessment, lead)
    with django_capture_on_commit_callbacks(execute=True):
        actions.submit_assessment(**submit_kwargs(world.assessment, lead))
    world.assessment.refresh_from_db()


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="Celery runs eagerly only without REDIS_URL")
def test_without_redis_the_emails_go_as_soon_as_the_change_commits(
    world, smtp_server, django_capture_on_commit_callbacks
):
    submit_and_commit(world, django_capture_on_commit_callbacks)

    assert len(smtp_server.messages) == 2
    assert not OutboxEmail.objects.unsent().exists()
    assert set(OutboxEmail.objects.values_list("attempts", flat=True)) == {1}


def test_with_the_mail_server_down_the_submission_stands_and_the_sweep_sends_once_it_is_up(
    world, smtp_server, django_capture_on_commit_callbacks
):
    smtp_server.stop()

    submit_and_commit(world, django_capture_on_commit_callbacks)
    sending.sweep()

    assert world.assessment.status == Status.SUBMITTED
    rows = list(OutboxEmail.objects.all())
    assert len(rows) == 2
    for row in rows:
        assert row.sent_at is None
        assert row.attempts == 1  # on commit (eager Celery) or in the sweep (Redis, no worker here)
        assert "Connection refused" in row.last_error
        assert row.retry_at > timezone.now()

    smtp_server.start()
    assert sending.sweep() == 0, "the back-off holds the next attempt back"
    assert sending.sweep(now=timezone.now() + timedelta(minutes=5)) == 2
    assert {message["X-Envelope-To"] for message in smtp_server.messages} == {
        "reviewer@qop.example.nhs.uk",
        "second@qop.example.nhs.uk",
    }
    assert not OutboxEmail.objects.unsent().exists()
    assert OutboxEmail.objects.filter(last_error="").count() == 2
    assert sending.sweep(now=timezone.now() + timedelta(hours=2)) == 0, "an e-mail goes once"


def test_with_the_broker_down_the_submission_stands_and_the_sweep_sends_the_emails(
    world, smtp_server, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Signature, "apply_async", broker_down)

    submit_and_commit(world, django_capture_on_commit_callbacks)

    assert world.assessment.status == Status.SUBMITTED
    assert OutboxEmail.objects.unsent().count() == 2
    assert set(OutboxEmail.objects.values_list("attempts", flat=True)) == {0}
    assert smtp_server.messages == []

    assert sending.sweep() == 2
    assert len(smtp_server.messages) == 2
    assert sending.sweep() == 0


def test_each_failure_puts_the_next_attempt_further_off_up_to_an_hour():
    assert [sending.backoff(n) for n in (1, 2, 3, 7, 8, 20)] == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=60),
        timedelta(minutes=60),
        timedelta(minutes=60),
    ]


def test_the_sweep_gives_up_after_the_last_attempt(world, smtp_server):
    email = OutboxEmail.objects.create(
        kind="submitted",
        recipient=world.users["reviewer"],
        to="reviewer@qop.example.nhs.uk",
        subject="Ready for review",
        body="…",
        attempts=sending.MAX_ATTEMPTS,
        last_error="SMTPRecipientsRefused",
    )

    assert sending.sweep(now=timezone.now() + timedelta(days=1)) == 0
    email.refresh_from_db()
    assert email.sent_at is None and smtp_server.messages == []


@pytest.fixture
def mail_worker(request, smtp_server, monkeypatch):
    """A real Celery worker process (tests/conftest.py) whose settings send to this test's SMTP server."""
    monkeypatch.delenv("EMAIL_URL", raising=False)
    monkeypatch.setenv("EMAIL_HOST", smtp_server.host)
    monkeypatch.setenv("EMAIL_PORT", str(smtp_server.port))
    return request.getfixturevalue("celery_worker_process")


@pytest.mark.services
@pytest.mark.skipif(not real_services(), reason="needs REDIS_URL and DATABASE_URL (PostgreSQL) for a real worker")
def test_with_redis_a_real_worker_sends_the_emails_once_the_submission_commits(
    transactional_world, mail_worker, smtp_server
):
    lead = transactional_world.users["lead"]
    fill(transactional_world.assessment, lead)
    actions.submit_assessment(**submit_kwargs(transactional_world.assessment, lead))

    # Wait for the worker (it starts in a few seconds), not for a time: no sweep runs here. The server holds a
    # message a moment before the worker records it sent, so wait for both.
    for _ in range(600):
        if len(smtp_server.messages) == 2 and not OutboxEmail.objects.unsent().exists():
            break
        time.sleep(0.1)
    assert {message["X-Envelope-To"] for message in smtp_server.messages} == {
        "reviewer@qop.example.nhs.uk",
        "second@qop.example.nhs.uk",
    }
    assert not OutboxEmail.objects.unsent().exists()
