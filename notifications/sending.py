"""Sending what the outbox holds, through Django's e-mail backend (SMTP in production, files in var/mail/ in
development). One attempt per call; a failure is written on the row (attempts, last error, the time of the next
try) and the sweep tries again later each time, so a mail server that is down delays e-mails but loses none."""

import logging
import smtplib
from datetime import timedelta

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from notifications.models import OutboxEmail

logger = logging.getLogger(__name__)

# After this many failures an e-mail is left unsent, with its last error, for an operator to look at: with the
# back-off below, about 16 hours of trying, long enough to outlast a mail server's night-time outage.
MAX_ATTEMPTS = 20
MAX_BACKOFF = timedelta(hours=1)
# The sweep's share per run: beat runs it every minute, so a backlog drains over a few runs.
SWEEP_BATCH = 200


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 … minutes after the 1st, 2nd, 3rd … failure, at most an hour."""
    return min(timedelta(minutes=2 ** (attempts - 1)), MAX_BACKOFF)


def deliver(email_id: int) -> bool:
    """Send one e-mail unless it has gone already; returns whether it went now. The row stays locked while it is
    sent, so the send task and the sweep never both send it (PostgreSQL; SQLite runs one writer at a time)."""
    with transaction.atomic():
        email = OutboxEmail.objects.select_for_update(skip_locked=True).unsent().filter(pk=email_id).first()
        if email is None:
            return False
        email.attempts += 1
        try:
            EmailMessage(subject=email.subject, body=email.body, to=[email.to]).send()
        except (smtplib.SMTPException, OSError) as error:
            email.last_error = f"{type(error).__name__}: {error}"
            email.retry_at = timezone.now() + backoff(email.attempts)
            email.save(update_fields=["attempts", "last_error", "retry_at"])
            logger.warning("E-mail %s to %s not sent (attempt %s): %s", email.pk, email.to, email.attempts, error)
            return False
        email.sent_at, email.last_error, email.retry_at = timezone.now(), "", None
        email.save(update_fields=["attempts", "sent_at", "last_error", "retry_at"])
        return True


def sweep(now=None) -> int:
    """Send every unsent e-mail whose time has come (those the broker never took, those that failed); returns how
    many went."""
    due = OutboxEmail.objects.due(now or timezone.now(), MAX_ATTEMPTS).values_list("pk", flat=True)[:SWEEP_BATCH]
    sent = sum(deliver(email_id) for email_id in list(due))
    if sent:
        logger.info("Swept %s e-mails", sent)
    return sent
