import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from reports import health
from reports.models import WorkerHeartbeat
from reports.tasks import heartbeat
from tests.factories import TrustFactory, analyst, lead_of


def test_health_page_is_open_and_reports_each_service(client, db):
    response = client.get("/health/")
    assert response.status_code == 200
    for service in [b"Database", b"Cache", b"Broker", b"Worker"]:
        assert service in response.content


def test_health_page_is_unavailable_when_the_database_is(client, db, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "Database", lambda: (False, "unreachable: OperationalError"))
    assert client.get("/health/").status_code == 503


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_an_unreachable_broker_is_reported_failing():
    ok, detail = health.check_broker()
    assert not ok
    assert "Redis unreachable" in detail


@override_settings(REDIS_URL="redis://127.0.0.1:6379/0")
def test_a_worker_that_has_not_reported_recently_is_failing(db):
    WorkerHeartbeat.objects.create(hostname="old@host", seen_at=timezone.now() - timezone.timedelta(minutes=10))
    ok, detail = health.check_worker()
    assert not ok
    assert "old@host seen 600 seconds ago" in detail


@override_settings(REDIS_URL="redis://127.0.0.1:6379/0")
def test_a_recent_heartbeat_is_healthy(db):
    WorkerHeartbeat.objects.create(hostname="w@host", seen_at=timezone.now())
    assert health.check_worker()[0]


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="Celery runs eagerly only without REDIS_URL")
def test_the_heartbeat_task_records_its_worker_when_run_eagerly(db):
    assert heartbeat.delay().get() == "eager (web process)"
    assert WorkerHeartbeat.objects.get().hostname == "eager (web process)"


@override_settings(REDIS_URL="redis://127.0.0.1:6379/0")
def test_only_analysts_see_the_details_of_each_service(client, db):
    WorkerHeartbeat.objects.create(hostname="worker-7@internal-host", seen_at=timezone.now())
    public = client.get("/health/").content.decode()
    assert "internal-host" not in public and "Worker" in public
    client.force_login(lead_of(TrustFactory()))
    assert "internal-host" not in client.get("/health/").content.decode()
    client.force_login(analyst())
    assert "worker-7@internal-host seen" in client.get("/health/").content.decode()


def test_a_failing_service_shows_no_error_class_to_the_public(client, db, monkeypatch):
    monkeypatch.setitem(health.CHECKS, "Cache", lambda: (False, "unreachable: ConnectionRefusedError"))
    page = client.get("/health/").content.decode()
    assert "Failing" in page and "ConnectionRefusedError" not in page
