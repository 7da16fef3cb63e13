"""Marking summaries for refresh. maturity knows nothing of reports: it writes a RefreshMark in the caller's
transaction and, once that commits, asks Celery by task name to refresh it. If the broker is down the request
still succeeds; the reports app's beat sweep picks up every mark not done."""

import logging

from celery import current_app
from django.db import transaction
from django.utils import timezone

from maturity.models import COUNTED_STATUSES, Assessment, Cycle, RefreshMark

logger = logging.getLogger(__name__)

REFRESH_TASK = "reports.refresh_mark"


def mark(*, reason: str, assessment: Assessment | None = None, cycle: Cycle | None = None) -> RefreshMark:
    """Record what needs refreshing and enqueue it after commit: one assessment, a whole cycle, or (neither)
    everything. Call it inside the action's transaction."""
    if assessment is not None:
        cycle = assessment.cycle
    refresh_mark = RefreshMark.objects.create(assessment=assessment, cycle=cycle, reason=reason)
    transaction.on_commit(lambda: enqueue(refresh_mark.pk))
    return refresh_mark


def mark_if_counted(*, reason: str, assessment: Assessment) -> RefreshMark | None:
    """Mark an assessment whose status did not change, if the summaries count it. Summaries, dashboards, exports and
    the API count submitted, approved and published assessments only (Assessment.objects.counted()); submission
    progress counts statuses. So a change to the answers of a draft or returned assessment cannot change any counted
    figure, and refreshing for it would only queue work: it shows once the assessment is submitted, which marks it.
    Actions that change a status (start, submit, return, approve, re-open) call mark() whatever the status."""
    if assessment.status not in COUNTED_STATUSES:
        return None
    return mark(reason=reason, assessment=assessment)


def enqueue(mark_id: int) -> bool:
    """Best effort: a broker that is down is logged, not raised. Returns whether the task was sent.
    By name, through a signature: the registered task runs eagerly when Celery is eager (no REDIS_URL)."""
    try:
        current_app.signature(REFRESH_TASK, args=[mark_id]).apply_async()
    except Exception:  # noqa: BLE001 - any broker failure; the sweep catches up
        logger.warning("Could not enqueue refresh mark %s; the sweep will pick it up", mark_id, exc_info=True)
        return False
    RefreshMark.objects.filter(pk=mark_id, enqueued_at__isnull=True).update(enqueued_at=timezone.now())
    return True
