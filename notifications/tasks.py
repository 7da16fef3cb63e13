"""Celery tasks: thin wrappers. The outbox rows are their record (sent_at, attempts, last_error)."""

from celery import shared_task
from django.db import OperationalError

from notifications import reminders, sending


@shared_task(name="notifications.send_email", acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True)
def send_email(email_id: int) -> bool:
    """Enqueued for each outbox row once the change that wrote it commits. A mail server failure is written on the
    row, not raised: the sweep retries it on its own back-off."""
    return sending.deliver(email_id)


@shared_task(name="notifications.sweep_outbox")
def sweep_outbox() -> int:
    """Beat runs it every minute: whatever the broker missed or the mail server refused is sent here."""
    return sending.sweep()


@shared_task(name="notifications.send_reminders")
def send_reminders() -> int:
    """Beat runs it every morning; it writes each reminder once, however often it runs."""
    return reminders.send_reminders()
