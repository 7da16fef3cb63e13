"""Invitation tokens and the invitation e-mail.

A token is 32 random bytes, URL-safe; only its SHA-256 is stored, so a copy of the database cannot accept anyone's
invitation. The e-mail is sent by send_invitation_email, one function, run by a thin Celery task that is enqueued
once the inviting transaction commits: whatever replaces the task later (an outbox) needs only that function."""

import hashlib
import logging
import secrets
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from trusts.models import Invitation

logger = logging.getLogger(__name__)

# An invitation's own send task has this long to deliver before the sweep sends it with a new link.
RESEND_AFTER = timedelta(minutes=5)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """A token for the link, and the hash to store."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)


def send_invitation_email(invitation_id: int, link: str) -> None:
    invitation = Invitation.objects.select_related("trust", "ics", "invited_by").get(pk=invitation_id)
    context = {
        "invitation": invitation,
        "inviter": invitation.invited_by.get_full_name() or invitation.invited_by.username,
        "link": link,
        "expires_at": timezone.localtime(invitation.expires_at),
    }
    send_mail(
        subject=render_to_string("trusts/email/invitation_subject.txt", context).strip(),
        message=render_to_string("trusts/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    Invitation.objects.filter(pk=invitation_id).update(email_sent_at=timezone.now())


def resend_unsent(now: datetime | None = None) -> int:
    """Send the invitations whose e-mail never went (the broker was down, the mail server refused), each with a new
    token: the first one's link was never stored, only its hash, so it cannot be sent again. A link from an earlier
    attempt that went after all stops working; the newest works. Beat runs this every few minutes; it leaves the
    newest invitations to the send task queued for them. Returns how many went."""
    now = now or timezone.now()
    waiting = Invitation.objects.pending().filter(email_sent_at__isnull=True, created_at__lt=now - RESEND_AFTER)
    sent = 0
    for invitation in waiting:
        token, invitation.token_hash = new_token()
        invitation.save(update_fields=["token_hash"])
        try:
            send_invitation_email(invitation.pk, settings.SITE_URL + reverse("accept_invitation", args=[token]))
        except (smtplib.SMTPException, OSError):
            logger.warning("Could not send the e-mail for invitation %s; trying again later", invitation.pk)
            continue
        sent += 1
    return sent


def send_after_commit(invitation: Invitation, link: str) -> None:
    """Call inside the inviting transaction: the e-mail is queued only if the invitation is saved."""
    transaction.on_commit(lambda: _enqueue(invitation.pk, link))


def _enqueue(invitation_id: int, link: str) -> bool:
    """Best effort: a broker that is down (or, when eager, a mail server that refuses) is logged, not raised; the
    invitation stands and can be sent again by inviting again. Runs eagerly when Celery is eager (no REDIS_URL)."""
    from trusts.tasks import send_invitation_email as task  # the task module imports this one

    try:
        task.apply_async(args=[invitation_id, link])
    except Exception:  # noqa: BLE001 - any broker or mail failure; the inviter sees the invitation as waiting
        # Not the link: it holds the token.
        logger.warning("Could not send the e-mail for invitation %s", invitation_id, exc_info=True)
        return False
    return True
