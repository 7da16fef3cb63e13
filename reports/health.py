"""Checks of the services the product stands on, for the health page. Each returns (ok, detail)."""

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

from reports.models import WorkerHeartbeat

STALE_AFTER_SECONDS = 180


def check_database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as error:  # noqa: BLE001 - any failure is what the check reports
        return False, f"unreachable: {error.__class__.__name__}"
    return True, connection.vendor


def check_cache():
    try:
        cache.set("health-check", "ok", timeout=10)
        ok = cache.get("health-check") == "ok"
    except Exception as error:  # noqa: BLE001
        return False, f"unreachable: {error.__class__.__name__}"
    # The Redis cache fails soft (config.cache): unreachable, it reads back nothing rather than raising.
    return (True, cache.__class__.__name__) if ok else (False, "unreachable: the value written was not read back")


def check_broker():
    if not settings.REDIS_URL:
        return True, "none: tasks run in the web process"
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
    except redis.RedisError as error:
        return False, f"Redis unreachable: {error.__class__.__name__}"
    return True, "Redis"


def check_worker():
    if not settings.REDIS_URL:
        return True, "none needed: tasks run in the web process"
    try:
        latest = WorkerHeartbeat.objects.order_by("-seen_at").first()
    except DatabaseError:
        return False, "unknown: the database is unreachable"
    if latest is None:
        return False, "no worker has reported yet"
    age = (timezone.now() - latest.seen_at).total_seconds()
    return age <= STALE_AFTER_SECONDS, f"{latest.hostname} seen {int(age)} seconds ago"


CHECKS = {"Database": check_database, "Cache": check_cache, "Broker": check_broker, "Worker": check_worker}
