"""A write never loses its refresh: enqueued after commit when the broker is up, swept later when it is down."""

import pytest
from celery.canvas import Signature
from django.conf import settings
from django.utils import timezone
from kombu.exceptions import OperationalError

from maturity import actions, refresh
from maturity.models import RefreshMark, Status
from reports.models import SummaryVersion
from reports.summaries import refresh as reports_refresh
from reports.summaries import versions
from tests.factories import AssessmentFactory, TrustFactory, lead_of, reviewer_of


@pytest.fixture
def reviewer_and_assessment(db):
    """A submitted assessment and its ICS's reviewer: approving it changes counted figures, so it marks a refresh
    (a draft save changes none and marks nothing)."""
    trust = TrustFactory(code="R0A")
    return reviewer_of(trust.ics), AssessmentFactory(trust=trust, status=Status.SUBMITTED)


def approve(reviewer, assessment):
    return actions.approve_assessment(by=reviewer, assessment=assessment, expected_version=assessment.version)


def test_with_the_broker_down_the_write_succeeds_and_the_sweep_refreshes_it_later(
    reviewer_and_assessment, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Signature, "apply_async", broker_down)
    reviewer, assessment = reviewer_and_assessment
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        approve(reviewer, assessment)
    assert len(callbacks) == 1
    mark = RefreshMark.objects.get()
    assert mark.enqueued_at is None and mark.done_at is None
    assert list(reports_refresh.pending_marks()) == [mark]

    assert reports_refresh.sweep() == 1
    mark.refresh_from_db()
    assert mark.done_at is not None
    assert reports_refresh.sweep() == 0


@pytest.mark.skipif(bool(settings.REDIS_URL), reason="Celery runs eagerly only without REDIS_URL")
def test_without_redis_the_refresh_runs_eagerly_after_commit(
    reviewer_and_assessment, django_capture_on_commit_callbacks
):
    reviewer, assessment = reviewer_and_assessment
    with django_capture_on_commit_callbacks(execute=True):
        approve(reviewer, assessment)
    mark = RefreshMark.objects.get()
    assert mark.done_at is not None and mark.enqueued_at is not None


def test_nothing_is_enqueued_when_the_transaction_rolls_back(db, django_capture_on_commit_callbacks):
    trust = TrustFactory(code="R0A")
    lead, assessment = lead_of(trust), AssessmentFactory(trust=trust)
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(actions.Invalid):
        actions.save_answers(by=lead, assessment=assessment, expected_version=1, answers={"WL01": {"level": "9"}})
    assert callbacks == []
    assert not RefreshMark.objects.exists()


def test_a_mark_enqueued_long_ago_and_never_done_is_swept(reviewer_and_assessment):
    reviewer, assessment = reviewer_and_assessment
    approve(reviewer, assessment)
    mark = RefreshMark.objects.get()
    RefreshMark.objects.filter(pk=mark.pk).update(enqueued_at=timezone.now() - timezone.timedelta(minutes=10))
    assert reports_refresh.sweep() == 1


def test_a_recently_enqueued_mark_is_left_to_its_worker(reviewer_and_assessment):
    reviewer, assessment = reviewer_and_assessment
    approve(reviewer, assessment)
    RefreshMark.objects.update(enqueued_at=timezone.now())
    assert reports_refresh.sweep() == 0


def test_a_duplicate_delivery_does_nothing(reviewer_and_assessment):
    reviewer, assessment = reviewer_and_assessment
    approve(reviewer, assessment)
    mark = RefreshMark.objects.get()
    assert reports_refresh.process_mark(mark.pk) is True
    assert reports_refresh.process_mark(mark.pk) is False


def test_a_refresh_moves_exactly_the_versions_of_what_it_rewrote(reviewer_and_assessment):
    reviewer, assessment = reviewer_and_assessment
    approve(reviewer, assessment)
    parts = [versions.trust(assessment.trust.code), versions.ics(assessment.ics.code)]
    # The national areas (region, England, peer groups) move with the batched follow-up only.
    elsewhere = [versions.ics("QXX"), versions.areas(assessment.cycle.year)]
    before = {key: versions.stamp([key]) for key in parts + elsewhere}

    reports_refresh.refresh_assessment(assessment.pk)

    assert all(versions.stamp([key]) != before[key] for key in parts)
    assert all(versions.stamp([key]) == before[key] for key in elsewhere)
    reports_refresh.refresh_areas(assessment.cycle.year)
    assert versions.stamp([versions.areas(assessment.cycle.year)]) != before[versions.areas(assessment.cycle.year)]


def test_a_version_never_comes_back_to_an_earlier_value(db):
    seen = set()
    for _ in range(50):
        versions.move([versions.ics("QOP")])
        seen.add(versions.stamp([versions.ics("QOP")]))
    assert len(seen) == 50
    SummaryVersion.objects.all().delete()  # even a database that lost every token starts on new ones
    assert versions.stamp([versions.ics("QOP")]) not in seen


def test_a_page_reads_its_versions_once_and_the_next_request_sees_them_move(db, django_assert_num_queries):
    versions.move([versions.EVERYTHING, versions.CYCLES, versions.ics("QOP"), versions.areas(2026)])
    outside = versions.stamp([versions.ics("QOP"), versions.areas(2026)])
    with django_assert_num_queries(1), versions.read_once([versions.ics("QOP")]):
        # Foreseen parts, every cycle's areas, and a part never moved (read as '-'): from the one query.
        assert versions.stamp([versions.ics("QOP"), versions.areas(2026)]) == outside
        assert versions.stamp([versions.CYCLES, versions.areas(2031)]).endswith(".-")
    with versions.read_once([versions.ics("QOP")]):
        with django_assert_num_queries(1):  # a part the page did not foresee is read when asked, once
            versions.stamp([versions.trust("R0A")])
            versions.stamp([versions.trust("R0A")])
        versions.move([versions.ics("QOP")])
        # Within the page, the version read at its start stands for the whole page...
        assert versions.stamp([versions.ics("QOP"), versions.areas(2026)]) == outside
    # ...and the next request reads the moved one.
    assert versions.stamp([versions.ics("QOP"), versions.areas(2026)]) != outside


def test_marking_nothing_in_particular_means_everything(db, django_capture_on_commit_callbacks):
    mark = refresh.mark(reason="import")
    assert mark.assessment_id is None and mark.cycle_id is None


def test_pruning_keeps_recent_and_unfinished_records_and_deletes_old_ones(db, settings):
    from reports.models import RefreshRun

    settings.REFRESH_RECORDS_KEEP_DAYS = 30
    now = timezone.now()
    old, recent = now - timezone.timedelta(days=31), now - timezone.timedelta(days=29)
    assessment = AssessmentFactory()
    old_run = RefreshRun.objects.create(kind="full", started_at=old, finished_at=old, status="ok")
    recent_run = RefreshRun.objects.create(kind="full", started_at=recent, finished_at=recent, status="ok")
    running = RefreshRun.objects.create(kind="full", started_at=old)
    old_mark = RefreshMark.objects.create(assessment=assessment, reason="save", done_at=old)
    pending = RefreshMark.objects.create(assessment=assessment, reason="save")
    RefreshMark.objects.filter(pk=pending.pk).update(created_at=old)

    assert reports_refresh.prune(now) == 2

    assert set(RefreshRun.objects.values_list("pk", flat=True)) == {recent_run.pk, running.pk}
    assert list(RefreshMark.objects.values_list("pk", flat=True)) == [pending.pk]
    assert not RefreshRun.objects.filter(pk=old_run.pk).exists()
    assert not RefreshMark.objects.filter(pk=old_mark.pk).exists()


def test_a_run_its_worker_never_finished_is_recorded_as_lost_and_a_slow_one_that_ends_is_ok(db):
    from reports.models import RefreshRun

    now = timezone.now()
    lost = RefreshRun.objects.create(kind="full", started_at=now - reports_refresh.LOST_AFTER * 2)
    recent = RefreshRun.objects.create(kind="full", started_at=now - reports_refresh.LOST_AFTER / 2)

    assert reports_refresh.sweep(now) == 0

    lost.refresh_from_db()
    assert (lost.status, lost.error, lost.finished_at) == ("failed", reports_refresh.LOST_RUN_ERROR, now)
    assert RefreshRun.objects.get(pk=recent.pk).status == "running"

    with reports_refresh.recorded("full") as slow:  # a run taken for lost that was only slow ends ok
        RefreshRun.objects.filter(pk=slow.pk).update(status="failed", error=reports_refresh.LOST_RUN_ERROR)
    slow.refresh_from_db()
    assert (slow.status, slow.error) == ("ok", "")


def test_a_cycles_national_areas_refresh_at_once_after_a_quiet_spell_and_once_a_window_in_a_burst(db, monkeypatch):
    from django.core.cache import cache

    from reports import tasks

    sent = []
    monkeypatch.setattr(tasks.refresh_areas, "apply_async", lambda args, countdown: sent.append((args, countdown)))
    monkeypatch.setattr(tasks.refresh, "refresh_areas", lambda year: 0)
    cache.delete_many(["areas-pending:2026", "areas-started:2026"])

    tasks.schedule_areas(2026, now=1000.0)
    assert sent == [([2026], 0)]  # quiet: at once
    tasks.schedule_areas(2026, now=1000.5)
    assert len(sent) == 1  # one waits already: this submission rides on it

    tasks.refresh_areas(2026)  # starts, reading every row written so far
    started = cache.get("areas-started:2026")
    tasks.schedule_areas(2026, now=started + 1.0)
    assert sent[-1] == ([2026], tasks.AREAS_WINDOW_SECONDS - 1.0)  # in the burst: at the window's end
    tasks.schedule_areas(2026, now=started + 1.5)
    assert len(sent) == 2
    cache.delete("areas-pending:2026")
    tasks.schedule_areas(2026, now=started + tasks.AREAS_WINDOW_SECONDS + 1)
    assert sent[-1] == ([2026], 0)  # quiet again
