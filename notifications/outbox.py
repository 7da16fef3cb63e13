"""Writing the e-mails a change calls for, as outbox rows in the change's own transaction: the maturity actions call
one function each, so an e-mail is written if and only if the change commits. Once it commits each row is handed to
Celery; if the broker is down the change still stands and beat's sweep sends what is waiting (see sending.py).
Nothing here sends, and nothing here can make the change fail for want of a mail server.

Each e-mail is rendered now, once for all its recipients, so it says what was true when the change happened."""

import logging
from collections.abc import Callable, Iterable

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse

from maturity.models import Assessment
from maturity.pages import assessment_url
from notifications import recipients
from notifications.models import Kind, OutboxEmail, Preference

logger = logging.getLogger(__name__)

SEND_TASK = "notifications.send_email"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _about(assessment: Assessment) -> dict:
    """What every e-mail about an assessment names: whose, which care setting, which cycle."""
    return {
        "organisation": assessment.organisation_name,
        "setting": "" if assessment.is_ics_assessment else assessment.care_setting.name,
        "year": assessment.cycle.year,
        "deadline": assessment.cycle.closes_on,
    }


def _title(about: dict) -> str:
    """'Manchester University NHS Foundation Trust, Acute, 2026': a subject line's way of naming a return."""
    return ", ".join(str(part) for part in (about["organisation"], about["setting"], about["year"]) if part)


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else "the reviewer"


def assessment_submitted(assessment: Assessment) -> list[int]:
    """Tell whoever reviews it: the reviewers of the ICS a trust's return is recorded in, or, for an ICB's own return,
    the analysts."""
    about = _about(assessment)
    return write(
        Kind.ICB_SUBMITTED if assessment.is_ics_assessment else Kind.SUBMITTED,
        recipients.reviewers_of_assessment(assessment),
        subject=f"Ready for review: {_title(about)}",
        template="notifications/email/submitted.txt",
        context={
            **about,
            "submitted_by": _person(assessment.submitted_by),
            "sign_off_name": assessment.sign_off_name,
            "sign_off_role": assessment.sign_off_role,
            "link": absolute(assessment_url(assessment, "review")),
        },
        assessment=assessment,
    )


def assessment_returned(assessment: Assessment, comments: Iterable, queries: Iterable = ()) -> list[int]:
    """Tell its makers, with the reviewer's comments (each with `text` and `domain_code`, empty for a comment on the
    whole), the ones on a domain under the domain's code and name, and the queries sent with the return
    (maturity.models.ReviewQuery), apart: each must be answered before the return can be submitted again."""
    domains = {domain.code: domain for domain in assessment.applicable_domains()}
    comments = [comment for comment in comments if comment.text.strip()]
    about = _about(assessment)
    return write(
        Kind.RETURNED,
        recipients.makers_of(assessment),
        subject=f"Returned for changes: {_title(about)}",
        template="notifications/email/returned.txt",
        context={
            **about,
            "reviewer": _person(assessment.reviewed_by),
            "general_comments": [comment.text.strip() for comment in comments if not comment.domain_code],
            "domain_comments": [
                (domains[comment.domain_code], comment.text.strip()) for comment in comments if comment.domain_code
            ],
            "queries": [query.message for query in queries],
            "link": absolute(assessment_url(assessment)),
        },
        assessment=assessment,
    )


def assessment_approved(assessment: Assessment, comment: str = "") -> list[int]:
    about = _about(assessment)
    return write(
        Kind.APPROVED,
        recipients.makers_of(assessment),
        subject=f"Approved: {_title(about)}",
        template="notifications/email/approved.txt",
        context={
            **about,
            "reviewer": _person(assessment.reviewed_by),
            "comment": comment.strip(),
            "link": absolute(assessment_url(assessment)),
        },
        assessment=assessment,
    )


def write(
    kind: str,
    users: QuerySet,
    *,
    subject: str,
    template: str,
    context: dict,
    assessment: Assessment | None = None,
    dedupe_key: Callable[[object], str] | None = None,
) -> list[int]:
    """One outbox row per recipient who has not switched this kind off, and, when `dedupe_key` names each one's
    e-mail, who has not had it already. Returns the new rows' ids; they are handed to Celery once the caller's
    transaction commits. Call it inside that transaction."""
    users = list(users.exclude(pk__in=Preference.objects.switched_off(kind).values("user_id")))
    keys = {user.pk: dedupe_key(user) for user in users} if dedupe_key else {}
    if keys:
        already = set(OutboxEmail.objects.filter(dedupe_key__in=keys.values()).values_list("dedupe_key", flat=True))
        users = [user for user in users if keys[user.pk] not in already]
    if not users:
        return []
    preferences_link = absolute(reverse("notification_preferences"))
    body = render_to_string(template, {**context, "preferences_link": preferences_link}).strip() + "\n"
    rows = [
        OutboxEmail(
            kind=kind,
            recipient=user,
            to=user.email,
            subject=subject,
            body=body,
            assessment=assessment,
            dedupe_key=keys.get(user.pk, ""),
        )
        for user in users
    ]
    if keys:
        # A second run racing this one writes nothing twice: the key is unique, the loser's rows are dropped.
        OutboxEmail.objects.bulk_create(rows, ignore_conflicts=True)
        ids = list(
            OutboxEmail.objects.filter(dedupe_key__in=[row.dedupe_key for row in rows]).values_list("pk", flat=True)
        )
    else:
        ids = [row.pk for row in OutboxEmail.objects.bulk_create(rows)]
    transaction.on_commit(lambda: enqueue(ids))
    return ids


def enqueue(ids: list[int]) -> int:
    """Best effort: a broker that is down is logged, not raised, and the sweep sends the rest. Returns how many were
    handed over. By name, through a signature: with eager Celery (no REDIS_URL) the send runs here and now."""
    for sent, email_id in enumerate(ids):
        try:
            current_app.signature(SEND_TASK, args=[email_id]).apply_async()
        except Exception:  # noqa: BLE001 - any broker failure; the sweep catches up
            logger.warning(
                "Could not enqueue e-mail %s and %s more; the sweep will send them",
                email_id,
                len(ids) - sent - 1,
                exc_info=True,
            )
            return sent
    return len(ids)
