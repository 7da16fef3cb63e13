import pytest

from maturity import actions
from maturity.models import AuditEvent, Cycle, CycleState, GapTarget, RefreshMark
from tests.factories import (
    CycleFactory,
    FrameworkFactory,
    ICSFactory,
    TrustFactory,
    analyst,
    lead_of,
    reviewer_of,
    small_framework,
)


@pytest.fixture
def people(db):
    ics = ICSFactory(code="QOP")
    return {"analyst": analyst(), "reviewer": reviewer_of(ics), "lead": lead_of(TrustFactory(code="R0A", ics=ics))}


def frameworks():
    return FrameworkFactory(kind="trust"), FrameworkFactory(kind="ics")


def test_an_analyst_creates_a_cycle_and_it_is_audited(people):
    trust_framework, ics_framework = frameworks()
    cycle = actions.create_cycle(
        by=people["analyst"], year=2027, trust_framework=trust_framework, ics_framework=ics_framework
    )
    assert cycle.state == CycleState.UPCOMING and cycle.kind == "collected"
    assert AuditEvent.objects.get(action="create_cycle").cycle == cycle


@pytest.mark.parametrize("role", ["reviewer", "lead"])
def test_only_analysts_manage_cycles(people, role):
    trust_framework, ics_framework = frameworks()
    with pytest.raises(actions.PermissionDenied):
        actions.create_cycle(by=people[role], year=2027, trust_framework=trust_framework, ics_framework=ics_framework)


def test_a_cycle_needs_both_frameworks_of_the_right_kind_and_a_free_year(people):
    CycleFactory(year=2026)
    trust_framework, _ = frameworks()
    with pytest.raises(actions.Invalid) as raised:
        actions.create_cycle(by=people["analyst"], year=2026, trust_framework=None, ics_framework=trust_framework)
    assert set(raised.value.errors) == {"year", "trust_framework", "ics_framework"}


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        (CycleState.UPCOMING, CycleState.OPEN, True),
        (CycleState.OPEN, CycleState.CLOSED, True),
        (CycleState.CLOSED, CycleState.OPEN, True),
        (CycleState.CLOSED, CycleState.PUBLISHED, True),
        (CycleState.UPCOMING, CycleState.PUBLISHED, False),
        (CycleState.OPEN, CycleState.UPCOMING, False),
        (CycleState.PUBLISHED, CycleState.OPEN, False),
    ],
)
def test_cycle_states_move_only_forward_or_reopen_from_closed(people, start, to, allowed):
    cycle = CycleFactory(state=start)
    if allowed:
        actions.update_cycle(by=people["analyst"], cycle=cycle, state=to)
        cycle.refresh_from_db()
        assert cycle.state == to
        assert RefreshMark.objects.filter(cycle=cycle, reason="cycle").exists()
    else:
        with pytest.raises(actions.Invalid):
            actions.update_cycle(by=people["analyst"], cycle=cycle, state=to)


def test_published_history_is_read_only(people):
    cycle = Cycle.objects.create(year=2025, kind="published_history", state=CycleState.PUBLISHED)
    with pytest.raises(actions.ActionError, match="read-only"):
        actions.update_cycle(by=people["analyst"], cycle=cycle, state=CycleState.PUBLISHED)


def test_the_deadline_must_follow_the_opening(people):
    import datetime

    cycle = CycleFactory()
    with pytest.raises(actions.Invalid, match="deadline"):
        actions.update_cycle(
            by=people["analyst"],
            cycle=cycle,
            state=cycle.state,
            opens_on=datetime.date(2026, 9, 1),
            closes_on=datetime.date(2026, 8, 1),
        )


def test_gap_targets_are_replaced_and_audited(people):
    cycle = CycleFactory()
    targets = [
        {"theme": "epr", "kind": "domain_level", "value": 3, "description": "Level 3 on EPR domains"},
        {
            "theme": "cyber",
            "kind": "indicator_in",
            "indicator_code": "epr_supplier",
            "value": ["Epic", "Oracle Health (Cerner)"],
            "description": "A supplier with a national framework",
        },
    ]
    actions.set_gap_targets(by=people["analyst"], cycle=cycle, targets=targets)
    actions.set_gap_targets(by=people["analyst"], cycle=cycle, targets=targets[:1])
    assert list(GapTarget.objects.values_list("theme", flat=True)) == ["epr"]
    event = AuditEvent.objects.filter(action="set_targets").last()
    assert len(event.before["targets"]) == 2 and len(event.after["targets"]) == 1


@pytest.mark.parametrize(
    ("target", "field"),
    [
        ({"theme": "magic", "kind": "domain_level", "value": 3}, "target-1-theme"),
        ({"theme": "epr", "kind": "guess", "value": 3}, "target-1-kind"),
        ({"theme": "epr", "kind": "domain_level", "value": 7}, "target-1-value"),
        ({"theme": "epr", "kind": "indicator_at_most", "value": 5}, "target-1-indicator_code"),
        (
            {"theme": "epr", "kind": "indicator_at_most", "indicator_code": "no_such", "value": 5},
            "target-1-indicator_code",
        ),
        # What a typo in the cycle page's value field reaches the action as: a string, NaN, a bound broken.
        *(
            (
                {"theme": "legacy_it", "kind": kind, "indicator_code": "unsupported_devices_pct", "value": value},
                "target-1-value",
            )
            for kind in ("indicator_at_most", "indicator_at_least")
            for value in ("5%", "abc", -1, float("nan"), float("inf"), 101, True)
        ),
        *(
            ({"theme": "epr", "kind": "domain_level", "value": value}, "target-1-value")
            for value in ("3", float("nan"), 0, True)
        ),
        ({"theme": "epr", "kind": "indicator_in", "indicator_code": "epr_supplier", "value": []}, "target-1-value"),
        (
            {"theme": "epr", "kind": "indicator_in", "indicator_code": "epr_supplier", "value": ["Epicc"]},
            "target-1-value",
        ),
    ],
)
def test_bad_targets_are_named_and_nothing_changes(people, target, field):
    cycle = CycleFactory()
    with pytest.raises(actions.Invalid) as raised:
        actions.set_gap_targets(by=people["analyst"], cycle=cycle, targets=[{**target, "description": "x"}])
    assert field in raised.value.errors
    assert not GapTarget.objects.exists()


@pytest.mark.parametrize(("role", "status"), [("analyst", 200), ("reviewer", 403), ("lead", 403)])
def test_the_cycle_pages_are_for_analysts(client, people, role, status):
    CycleFactory(year=2026)
    client.force_login(people[role])
    assert client.get("/cycles/").status_code == status
    assert client.get("/cycles/2026/").status_code == status


def test_an_analyst_opens_a_cycle_and_sets_a_target_through_the_pages(client, people):
    trust_framework, ics_framework = small_framework(), small_framework(kind="ics")
    client.force_login(people["analyst"])
    response = client.post(
        "/cycles/",
        {
            "year": "2027",
            "trust_framework": trust_framework.pk,
            "ics_framework": ics_framework.pk,
            "closes_on": "2027-12-01",
        },
    )
    assert response.status_code == 302
    client.post("/cycles/2027/", {"state": "open", "opens_on": "2027-09-01", "closes_on": "2027-12-01"})
    client.post(
        "/cycles/2027/",
        {
            "targets": "1",
            "target_rows": "1",
            "target-1-description": "At most 5% unsupported devices",
            "target-1-theme": "legacy_it",
            "target-1-kind": "indicator_at_most",
            "target-1-indicator_code": "unsupported_devices_pct",
            "target-1-value": "5",
        },
    )
    cycle = Cycle.objects.get(year=2027)
    assert cycle.state == CycleState.OPEN
    assert cycle.targets.get().value == 5.0


@pytest.mark.parametrize("typed", ["5%", "abc", "-1", "nan"])
def test_a_mistyped_target_is_refused_on_the_page_with_what_to_type(client, people, typed):
    CycleFactory(year=2026)
    client.force_login(people["analyst"])
    response = client.post(
        "/cycles/2026/",
        {
            "targets": "1",
            "target_rows": "1",
            "target-1-description": "At most 5% unsupported devices",
            "target-1-theme": "legacy_it",
            "target-1-kind": "indicator_at_most",
            "target-1-indicator_code": "unsupported_devices_pct",
            "target-1-value": typed,
        },
    )
    assert response.status_code == 400
    assert "without a % sign, like 5" in response.content.decode()
    assert not GapTarget.objects.exists()


@pytest.mark.parametrize("rows", ["many", "10000000000", "-1", "", None])
def test_a_forged_row_count_is_a_bad_request_that_says_so_and_keeps_the_targets(client, people, rows):
    cycle = CycleFactory(year=2026)
    GapTarget.objects.create(cycle=cycle, theme="epr", kind="domain_level", value=3, description="Level 3")
    client.force_login(people["analyst"])
    response = client.post("/cycles/2026/", {"targets": "1", **({} if rows is None else {"target_rows": rows})})
    assert response.status_code == 400
    assert "did not say how many target rows it sent, as a number from 0 to 100" in response.content.decode()
    assert GapTarget.objects.count() == 1


def test_a_bad_date_is_named_on_the_page(client, people):
    CycleFactory(year=2026)
    client.force_login(people["analyst"])
    response = client.post("/cycles/2026/", {"state": "open", "closes_on": "31/12/2026"})
    assert response.status_code == 400
    assert b'href="#closes_on"' in response.content


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("/cycles/", {"year": "2027", "trust_framework": "abc"}, "That trust framework is not one of those listed"),
        ("/cycles/2026/", {"state": "finished"}, "A cycle&#x27;s state is one of upcoming, open, closed, published"),
        (
            "/cycles/2026/",
            {"target_rows": "1", "target-1-description": "x", "target-1-theme": "epr", "target-1-kind": "guess"},
            "Target 1: what it measures must be one of",
        ),
    ],
)
def test_a_value_the_cycle_pages_cannot_send_is_a_bad_request_that_says_so(client, people, url, data, message):
    cycle = CycleFactory(year=2026)
    client.force_login(people["analyst"])
    response = client.post(url, data)
    assert response.status_code == 400
    content = response.content.decode()
    assert "The form could not be used" in content and message in content
    assert Cycle.objects.get() == cycle and not GapTarget.objects.exists()
    assert not AuditEvent.objects.exists()


def test_a_year_typed_wrong_is_named_on_the_page(client, people):
    client.force_login(people["analyst"])
    response = client.post("/cycles/", {"year": "27", "opens_on": "2027-09-01"})
    assert response.status_code == 400
    content = response.content.decode()
    assert 'href="#year"' in content and "Enter the year as four digits, like 2027" in content
    assert 'value="27"' in content and 'value="2027-09-01"' in content
