"""A worker killed in the middle of a full rebuild of the summaries (out of memory, a deploy): readers keep the
previous summaries throughout, the run it left "running" is recorded as lost, and the sweep's next run completes."""

from datetime import timedelta

import psycopg2
import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from maturity import actions
from maturity import refresh as marks
from maturity.models import Assessment, RefreshMark, Status
from reports.models import PillarScore, RefreshRun
from reports.summaries import refresh
from reports.tasks import heartbeat
from tests.conftest import _test_database_url
from tests.factories import AssessmentFactory, CycleFactory, ICSFactory, TrustFactory, analyst, lead_of
from tests.faults.conftest import FAULT_MARKS, WAIT_SECONDS, wait_until

pytestmark = FAULT_MARKS

ANSWERS = {"WL01": {"level": "3"}, "SF01": {"level": "2"}, "SF02": {"level": "4"}}


def filled(trust, cycle) -> Assessment:
    assessment = AssessmentFactory(cycle=cycle, trust=trust)
    actions.save_answers(
        by=lead_of(trust),
        assessment=assessment,
        expected_version=1,
        answers=ANSWERS,
        indicators={"unsupported_devices_pct": "4.5"},
    )
    assessment.refresh_from_db()
    return assessment


@pytest.fixture
def summaries_of_one_trust(transactional_db, monkeypatch):
    """R0A's submitted assessment, in the summaries; RBV's filled in and then marked submitted by a bulk import,
    whose full rebuild has not run. Committed, for the worker's connection."""
    cycle = CycleFactory()
    ics = ICSFactory(code="QOP")
    first, second = filled(TrustFactory(code="R0A", ics=ics), cycle), filled(TrustFactory(code="RBV", ics=ics), cycle)
    with monkeypatch.context() as patch:
        patch.setattr(marks, "enqueue", lambda mark_id: False)  # the sweep below refreshes it, not a worker
        actions.submit_assessment(
            by=lead_of(first.trust),
            assessment=first,
            expected_version=first.version,
            sign_off_name="Jo Bloggs",
            sign_off_role="Chief Executive",
            declared=True,
        )
        assert refresh.sweep() == 1
    Assessment.objects.filter(pk=second.pk).update(status=Status.SUBMITTED)
    return first, second


def summary_rows() -> list[tuple]:
    return sorted(PillarScore.objects.values_list("id", "org_code", "pillar_code", "score"))


def database(sql: str, params=()):
    """A statement on a connection of its own (not Django's, which the test may hold in a transaction)."""
    with psycopg2.connect(_test_database_url()) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def waiting_on_the_progress_table() -> int | None:
    """The backend of the rebuild once it waits for the lock on the progress summaries: the process id."""
    rows = database(
        """SELECT pid FROM pg_stat_activity
           WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM "reports_progressstat"%%'"""
    )
    return rows[0][0] if rows else None


def test_a_worker_killed_mid_rebuild_leaves_the_previous_summaries_and_the_next_run_completes(
    summaries_of_one_trust, celery_worker_process
):
    first, second = summaries_of_one_trust
    before = summary_rows()
    assert {org for _, org, _, _ in before} == {"R0A"}
    heartbeat.delay().get(timeout=WAIT_SECONDS)  # the worker is up and taking tasks

    # Hold the rebuild mid-way: a lock on the progress summaries makes its TRUNCATE give up (after its 2 s lock
    # timeout) for a DELETE of each table, which deletes the other summaries in its transaction and then waits here.
    holder = psycopg2.connect(_test_database_url())
    try:
        holder.cursor().execute("LOCK TABLE reports_progressstat IN SHARE MODE")
        with transaction.atomic():
            mark = marks.mark(reason="import")  # what the bulk import writes; sent to the worker on commit
        rebuilding = wait_until(waiting_on_the_progress_table, "the worker's rebuild to reach the progress table")

        run = RefreshRun.objects.get(kind="full", status=RefreshRun.Status.RUNNING)
        assert summary_rows() == before, "readers see the previous summaries while the rebuild runs"
        reader = Client()
        reader.force_login(analyst())
        assert reader.get("/trusts/R0A/").status_code == 200

        celery_worker_process.kill()
        celery_worker_process.wait(timeout=WAIT_SECONDS)
    finally:
        holder.close()  # releases the lock: the rebuild's backend finds its client gone and rolls back

    wait_until(
        lambda: not database("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [rebuilding]),
        "the killed worker's database backend to end",
    )
    assert summary_rows() == before, "nothing of the killed rebuild was kept"
    run.refresh_from_db()
    mark.refresh_from_db()
    assert run.status == RefreshRun.Status.RUNNING and run.finished_at is None
    assert mark.enqueued_at is not None and mark.done_at is None

    # Beat's sweep, once the mark and the run are LOST_AFTER old.
    assert refresh.sweep(now=timezone.now() + refresh.LOST_AFTER + timedelta(seconds=1)) == 1

    run.refresh_from_db()
    mark.refresh_from_db()
    assert (run.status, run.error) == (RefreshRun.Status.FAILED, refresh.LOST_RUN_ERROR)
    assert mark.done_at is not None
    assert RefreshRun.objects.filter(kind="full", status=RefreshRun.Status.OK, started_at__gt=run.started_at).exists()
    assert {org for _, org, _, _ in summary_rows()} == {"R0A", "RBV"}
    assert RefreshMark.objects.filter(done_at__isnull=True).count() == 0
