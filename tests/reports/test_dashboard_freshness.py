"""A dashboard never serves figures older than the summaries: its cache key carries versions kept in the database,
so no expiry in the cache can bring a key back to an earlier value. Checked on the database cache and on Redis."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from maturity.models import DomainAnswer
from reports.summaries import refresh
from tests.factories import analyst
from tests.reports.test_dashboards import build_world, chart_csv

DATABASE_CACHE = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}}
REDIS_CACHE = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": settings.REDIS_URL}}


def let_the_default_timeout_pass(monkeypatch):
    """Expire what the cache's default timeout (300 s) would have expired, and only that: entries stored for longer,
    such as the cached dashboards (an hour), stay."""
    default = cache.default_timeout
    if "redis" in cache.__class__.__module__:
        client = cache._cache.get_client(write=True)
        for key in client.scan_iter("*"):
            if 0 <= client.ttl(key) <= default:
                client.delete(key)
    else:
        later = timezone.now() + timedelta(seconds=default + 1)
        monkeypatch.setattr("django.core.cache.backends.db.tz_now", lambda: later)


def heatmap_score(client, world, trust_label="Trust 00 – Acute"):
    rows = chart_csv(client, world, "analyst", "/ics/QOP/", "heatmap")
    return float(next(row for row in rows if row[0] == trust_label)[1])


def set_level_and_refresh(level):
    answer = DomainAnswer.objects.get(assessment__trust__code="R00", domain__code="WL01")
    answer.level = level
    answer.save()
    refresh.refresh_assessment(answer.assessment_id)


@pytest.mark.parametrize(
    "caches",
    [
        pytest.param(DATABASE_CACHE, id="database-cache"),
        pytest.param(
            REDIS_CACHE,
            id="redis",
            marks=pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL)"),
        ),
    ],
)
def test_a_dashboard_never_serves_figures_older_than_the_summaries(client, db, monkeypatch, caches):
    with override_settings(CACHES=caches):
        call_command("createcachetable", verbosity=0)  # with Redis configured, the suite made none
        cache.clear()
        world = build_world(3)
        world.users = {"analyst": analyst()}
        first = heatmap_score(client, world)
        set_level_and_refresh(5)
        assert heatmap_score(client, world) == 5
        set_level_and_refresh(4)
        assert heatmap_score(client, world) == 4

        let_the_default_timeout_pass(monkeypatch)

        assert heatmap_score(client, world) == 4 != first
        cache.clear()
