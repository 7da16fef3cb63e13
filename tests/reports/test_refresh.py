"""A write never loses its refresh: enqueued after commit when the broker is up, swept later when it is down."""

import pytest
from celery.canvas import Signature
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from maturity import actions, refresh
from maturity.models import RefreshMark
from reports import refresh as reports_refresh
from tests.factories import AssessmentFactory, TrustFactory, lead_of


@pytest.fixture
def lead_and_assessment(db):
    trust = TrustFactory(code="R0A")
    return lead_of(trust), AssessmentFactory(trust=trust)


def save(lead, assessment):
    return actions.save_answers(
        by=lead, assessment=assessment, expected_version=assessment.version, answers={"WL01": {"level": "3"}}
    )


def test_with_the_broker_down_the_write_succeeds_and_the_sweep_refreshes_it_later(
    lead_and_assessment, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Signature, "apply_async", broker_down)
    lead, assessment = lead_and_assessment
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        save(lead, assessment)
    assert len(callbacks) == 1
    mark = RefreshMark.objects.get()
    assert mark.enqueued_at is None and mark.done_at is None
    assert list(reports_refresh.pending_marks()) == [mark]

    assert reports_refresh.sweep() == 1
    mark.refresh_from_db()
    assert mark.done_at is not None
    assert reports_refresh.sweep() == 0


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="Celery runs eagerly only without REDIS_URL")
def test_without_redis_the_refresh_runs_eagerly_after_commit(lead_and_assessment, django_capture_on_commit_callbacks):
    lead, assessment = lead_and_assessment
    with django_capture_on_commit_callbacks(execute=True):
        save(lead, assessment)
    mark = RefreshMark.objects.get()
    assert mark.done_at is not None and mark.enqueued_at is not None


def test_nothing_is_enqueued_when_the_transaction_rolls_back(lead_and_assessment, django_capture_on_commit_callbacks):
    lead, assessment = lead_and_assessment
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(actions.Invalid):
        actions.save_answers(by=lead, assessment=assessment, expected_version=1, answers={"WL01": {"level": "9"}})
    assert callbacks == []
    assert not RefreshMark.objects.exists()


def test_a_mark_enqueued_long_ago_and_never_done_is_swept(lead_and_assessment):
    lead, assessment = lead_and_assessment
    save(lead, assessment)
    mark = RefreshMark.objects.get()
    RefreshMark.objects.filter(pk=mark.pk).update(enqueued_at=timezone.now() - timezone.timedelta(minutes=10))
    assert reports_refresh.sweep() == 1


def test_a_recently_enqueued_mark_is_left_to_its_worker(lead_and_assessment):
    lead, assessment = lead_and_assessment
    save(lead, assessment)
    RefreshMark.objects.update(enqueued_at=timezone.now())
    assert reports_refresh.sweep() == 0


def test_a_duplicate_delivery_does_nothing(lead_and_assessment):
    lead, assessment = lead_and_assessment
    save(lead, assessment)
    mark = RefreshMark.objects.get()
    assert reports_refresh.process_mark(mark.pk) is True
    assert reports_refresh.process_mark(mark.pk) is False


def test_a_refresh_moves_the_cache_version_on(lead_and_assessment):
    from django.core.cache import cache

    lead, assessment = lead_and_assessment
    save(lead, assessment)
    before = cache.get(reports_refresh.CACHE_VERSION_KEY, 0)
    reports_refresh.process_mark(RefreshMark.objects.get().pk)
    assert cache.get(reports_refresh.CACHE_VERSION_KEY) > before


def test_marking_nothing_in_particular_means_everything(db, django_capture_on_commit_callbacks):
    mark = refresh.mark(reason="import")
    assert mark.assessment_id is None and mark.cycle_id is None
