"""Carrying out the refresh marks that maturity's actions write. The summaries themselves come with the reports
issue; today a refresh invalidates the cached pages (the cache version goes up) and marks the work done."""

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from maturity.models import RefreshMark

logger = logging.getLogger(__name__)

CACHE_VERSION_KEY = "summaries-version"
# A mark enqueued this long ago and still not done is taken to be lost (broker restarted, worker killed).
LOST_AFTER = timedelta(minutes=5)


def bump_cache_version() -> None:
    """Pages and charts are cached under this version: a new version makes every cached copy stale at once."""
    if cache.add(CACHE_VERSION_KEY, 1, timeout=None):
        return
    cache.incr(CACHE_VERSION_KEY)


def process_mark(mark_id: int) -> bool:
    """Refresh what one mark names. Returns False if it was already done (a duplicate delivery)."""
    with transaction.atomic():
        mark = RefreshMark.objects.select_for_update().filter(pk=mark_id, done_at__isnull=True).first()
        if mark is None:
            return False
        mark.done_at = timezone.now()
        mark.save(update_fields=["done_at"])
    bump_cache_version()
    return True


def pending_marks(now=None):
    """Marks never enqueued (the broker was down) or enqueued long ago and never done."""
    now = now or timezone.now()
    return RefreshMark.objects.filter(done_at__isnull=True).exclude(enqueued_at__gt=now - LOST_AFTER)


def sweep() -> int:
    """Process every pending mark; returns how many were done."""
    done = 0
    for mark_id in pending_marks().values_list("pk", flat=True):
        done += process_mark(mark_id)
    if done:
        logger.info("Swept %s refresh marks the broker had missed", done)
    return done
