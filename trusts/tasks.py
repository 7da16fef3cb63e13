"""Celery tasks: thin wrappers around trusts.invitations."""

from smtplib import SMTPException

from celery import shared_task

from trusts import invitations


@shared_task(
    name="trusts.send_invitation_email",
    acks_late=True,
    autoretry_for=(SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def send_invitation_email(invitation_id: int, link: str) -> None:
    invitations.send_invitation_email(invitation_id, link)


@shared_task(name="trusts.resend_unsent_invitations")
def resend_unsent_invitations() -> int:
    """Beat runs it every five minutes."""
    return invitations.resend_unsent()
