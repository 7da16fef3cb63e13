"""The e-mails the service sends: each one a row written in the transaction of the change it reports (the outbox),
sent after commit and swept by beat until it goes; and each person's choice of the kinds they want."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from maturity.models import Assessment


class Kind(models.TextChoices):
    """What an e-mail is about. Each person can switch each kind off (Preference)."""

    SUBMITTED = "submitted", "A member trust submits an assessment for your review"
    ICB_SUBMITTED = "icb_submitted", "An ICB submits its own assessment for review"
    RETURNED = "returned", "An assessment of yours is returned for changes, with the reviewer's comments"
    APPROVED = "approved", "An assessment of yours is approved"
    REMINDER = "reminder", "An assessment of yours is not submitted yet, 14 and 3 days before the deadline"


class PreferenceQuerySet(models.QuerySet):
    def switched_off(self, kind: str):
        return self.filter(kind=kind, enabled=False)


class Preference(models.Model):
    """One person's choice for one kind. No row means the kind is on: everyone is told until they say otherwise."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    enabled = models.BooleanField(default=True)

    objects = PreferenceQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_preference_per_user_and_kind")]

    def __str__(self):
        return f"{self.user} – {self.kind}: {'on' if self.enabled else 'off'}"


class OutboxEmailQuerySet(models.QuerySet):
    def unsent(self):
        return self.filter(sent_at__isnull=True)

    def due(self, now, max_attempts: int):
        """Unsent e-mails whose next attempt has come, short of those given up on."""
        return self.unsent().filter(attempts__lt=max_attempts).filter(Q(retry_at__isnull=True) | Q(retry_at__lte=now))


class OutboxEmail(models.Model):
    """One e-mail to one person, rendered when the change happened (so it says what was true then). Sent after the
    change commits; the sweep retries what failed, later each time, and `last_error` says why it has not gone."""

    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    to = models.EmailField(help_text="The recipient's address when the e-mail was written")
    subject = models.CharField(max_length=300)
    body = models.TextField()
    assessment = models.ForeignKey(
        Assessment, on_delete=models.SET_NULL, null=True, blank=True, related_name="notification_emails"
    )
    dedupe_key = models.CharField(
        max_length=200, blank=True, help_text="Set on e-mails that must go once only (reminders); unique when set"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True, help_text="No attempt before this time (back-off)")
    last_error = models.TextField(blank=True)

    objects = OutboxEmailQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "outbox e-mail"
        constraints = [
            models.UniqueConstraint(fields=["dedupe_key"], condition=~Q(dedupe_key=""), name="one_email_per_dedupe_key")
        ]

    def __str__(self):
        return f"{self.subject} → {self.to}"
