from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied

from maturity import actions
from maturity.actions import Comment, Conflict, Incomplete, Invalid, WrongState
from maturity.models import Assessment, AuditEvent, CycleState, DomainAnswer, IndicatorValue, RefreshMark, Status
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    ICSFactory,
    TrustFactory,
    analyst,
    lead_of,
    reviewer_of,
)
from trusts.models import CareSetting

FULL_ANSWERS = {
    "WL01": {"level": "3", "evidence_note": "Board paper May", "evidence_link": "https://example.nhs.uk/paper"},
    "SF01": {"level": "2"},
    "SF02": {"level": "4"},
}


@pytest.fixture
def world(db):
    ics = ICSFactory(code="QOP")
    other_ics = ICSFactory(code="QVV")
    trust = TrustFactory(code="R0A", ics=ics)
    neighbour = TrustFactory(code="RBV", ics=ics)
    cycle = CycleFactory()
    users = {
        "lead": lead_of(trust),
        "neighbour lead": lead_of(neighbour),
        "reviewer": reviewer_of(ics),
        "other reviewer": reviewer_of(other_ics),
        "analyst": analyst(),
        "admin": get_user_model().objects.create_superuser("admin", password="x"),
    }
    assessment = AssessmentFactory(cycle=cycle, trust=trust)
    ics_assessment = Assessment.objects.create(cycle=cycle, ics=ics, region=ics.region, framework=cycle.ics_framework)
    return SimpleNamespace(
        ics=ics, trust=trust, cycle=cycle, users=users, assessment=assessment, ics_assessment=ics_assessment
    )


def fill(assessment, by):
    actions.save_answers(
        by=by,
        assessment=assessment,
        expected_version=assessment.version,
        answers={code: answer for code, answer in FULL_ANSWERS.items() if code != "SF02" or assessment.trust_id},
        indicators={"unsupported_devices_pct": "4.5"},
    )
    assessment.refresh_from_db()
    return assessment


def submit(assessment, by):
    actions.submit_assessment(
        by=by,
        assessment=assessment,
        expected_version=assessment.version,
        sign_off_name="Jo Bloggs",
        sign_off_role="Chief Executive",
        declared=True,
    )
    assessment.refresh_from_db()
    return assessment


def submitted(world, assessment=None, editor="lead"):
    assessment = assessment or world.assessment
    return submit(fill(assessment, world.users[editor]), world.users[editor])


def do(action, assessment, by):
    """Run one action as a user, with whatever else it needs, on the current version."""
    version = assessment.version
    if action == "save":
        return actions.save_answers(
            by=by, assessment=assessment, expected_version=version, answers={"WL01": {"level": "2"}}
        )
    if action == "submit":
        return actions.submit_assessment(
            by=by, assessment=assessment, expected_version=version, sign_off_name="A", sign_off_role="B", declared=True
        )
    if action == "return":
        return actions.return_assessment(
            by=by, assessment=assessment, expected_version=version, comments=[Comment("Check WL01", "WL01")]
        )
    if action == "approve":
        return actions.approve_assessment(by=by, assessment=assessment, expected_version=version)
    if action == "reopen":
        return actions.reopen_assessment(by=by, assessment=assessment, expected_version=version, reason="Error found")
    if action in ("verify", "unverify"):
        verify = actions.verify_evidence if action == "verify" else actions.unverify_evidence
        return verify(by=by, assessment=assessment, expected_version=version, domain_codes=["WL01"])
    raise AssertionError(action)


def in_state(world, status, assessment=None, editor="lead"):
    """An assessment brought to a status through the real actions."""
    assessment = assessment or world.assessment
    if status == Status.DRAFT:
        return assessment
    submitted(world, assessment, editor)
    if status == Status.SUBMITTED:
        return assessment
    reviewer = "reviewer" if assessment.trust_id else "analyst"
    if status == Status.RETURNED:
        do("return", assessment, world.users[reviewer])
    else:
        do("approve", assessment, world.users[reviewer])
    assessment.refresh_from_db()
    return assessment


# --- Permissions of every action for every role ---------------------------------------------------------------

TRUST_ACTIONS = {
    # action: (the status it starts from, the roles allowed)
    "save": (Status.DRAFT, {"lead", "admin"}),
    "submit": (Status.DRAFT, {"lead", "admin"}),
    "return": (Status.SUBMITTED, {"reviewer", "admin"}),
    "approve": (Status.SUBMITTED, {"reviewer", "admin"}),
    "reopen": (Status.APPROVED, {"analyst", "admin"}),
    "verify": (Status.SUBMITTED, {"reviewer", "admin"}),
    "unverify": (Status.SUBMITTED, {"reviewer", "admin"}),
}
ICS_ACTIONS = {
    "save": (Status.DRAFT, {"reviewer", "admin"}),
    "submit": (Status.DRAFT, {"reviewer", "admin"}),
    "return": (Status.SUBMITTED, {"analyst", "admin"}),
    "approve": (Status.SUBMITTED, {"analyst", "admin"}),
    "reopen": (Status.APPROVED, {"analyst", "admin"}),
    "verify": (Status.SUBMITTED, {"analyst", "admin"}),
    "unverify": (Status.SUBMITTED, {"analyst", "admin"}),
}
ROLES = ["lead", "neighbour lead", "reviewer", "other reviewer", "analyst", "admin"]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", TRUST_ACTIONS)
def test_who_may_act_on_a_trust_assessment(world, action, role):
    status, allowed = TRUST_ACTIONS[action]
    assessment = in_state(world, status)
    if action == "submit":
        fill(assessment, world.users["lead"])
    if role in allowed:
        do(action, assessment, world.users[role])
    else:
        with pytest.raises(PermissionDenied):
            do(action, assessment, world.users[role])
        assessment.refresh_from_db()
        assert assessment.status == status


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", ICS_ACTIONS)
def test_who_may_act_on_an_ics_assessment(world, action, role):
    status, allowed = ICS_ACTIONS[action]
    assessment = in_state(world, status, world.ics_assessment, editor="reviewer")
    if action == "submit":
        fill(assessment, world.users["reviewer"])
    if role in allowed:
        do(action, assessment, world.users[role])
    else:
        with pytest.raises(PermissionDenied):
            do(action, assessment, world.users[role])


# --- The state machine -------------------------------------------------------------------------------------------

ALLOWED_FROM = {
    "save": {Status.DRAFT, Status.RETURNED},
    "submit": {Status.DRAFT, Status.RETURNED},
    "return": {Status.SUBMITTED},
    "approve": {Status.SUBMITTED},
    "reopen": {Status.APPROVED},
    "verify": {Status.SUBMITTED},
    "unverify": {Status.SUBMITTED},
}
ACTOR = {
    "save": "lead",
    "submit": "lead",
    "return": "reviewer",
    "approve": "reviewer",
    "reopen": "analyst",
    "verify": "reviewer",
    "unverify": "reviewer",
}
AFTER = {
    "save": None,
    "submit": Status.SUBMITTED,
    "return": Status.RETURNED,
    "approve": Status.APPROVED,
    "reopen": Status.DRAFT,
    "verify": None,
    "unverify": None,
}


@pytest.mark.parametrize("status", [Status.DRAFT, Status.SUBMITTED, Status.RETURNED, Status.APPROVED])
@pytest.mark.parametrize("action", ALLOWED_FROM)
def test_each_action_runs_only_from_its_states(world, action, status):
    assessment = in_state(world, status)
    if action == "submit" and status == Status.DRAFT:
        fill(assessment, world.users["lead"])
    if status in ALLOWED_FROM[action]:
        do(action, assessment, world.users[ACTOR[action]])
        assessment.refresh_from_db()
        assert assessment.status == (AFTER[action] or status)
    else:
        with pytest.raises(WrongState):
            do(action, assessment, world.users[ACTOR[action]])


def test_the_full_journey_returns_amends_and_approves(world):
    lead, reviewer = world.users["lead"], world.users["reviewer"]
    assessment = submitted(world)
    do("return", assessment, reviewer)
    assessment.refresh_from_db()
    actions.save_answers(
        by=lead, assessment=assessment, expected_version=assessment.version, answers={"WL01": {"level": "4"}}
    )
    assessment.refresh_from_db()
    submit(assessment, lead)
    do("approve", assessment, reviewer)
    assessment.refresh_from_db()
    assert assessment.status == Status.APPROVED
    assert [e.action for e in assessment.audit_events.order_by("pk")] == [
        "save",
        "submit",
        "return",
        "save",
        "submit",
        "approve",
    ]
    with pytest.raises(WrongState):
        do("save", assessment, lead)


def test_nothing_can_change_once_the_cycle_closes(world):
    world.cycle.state = CycleState.CLOSED
    world.cycle.save()
    with pytest.raises(WrongState):
        do("save", world.assessment, world.users["lead"])


def test_reviewers_may_still_review_after_the_cycle_closes(world):
    assessment = submitted(world)
    world.cycle.state = CycleState.CLOSED
    world.cycle.save()
    do("approve", assessment, world.users["reviewer"])


def test_published_assessments_are_read_only(world):
    world.assessment.status, world.assessment.source = Status.PUBLISHED, "published"
    world.assessment.save()
    with pytest.raises(WrongState):
        do("save", world.assessment, world.users["lead"])


# --- Validation --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "indicators", "field", "message"),
    [
        ({"WL01": {"level": "6"}}, {}, "WL01-level", "whole number from 1 to 5"),
        ({"WL01": {"level": "two"}}, {}, "WL01-level", "whole number from 1 to 5"),
        ({"WL01": {"level": "2.5"}}, {}, "WL01-level", "whole number from 1 to 5"),
        ({"WL01": {"level": "2", "evidence_link": "not a link"}}, {}, "WL01-evidence_link", "web address"),
        ({"WL01": {"level": "2", "evidence_link": "javascript:alert(1)"}}, {}, "WL01-evidence_link", "web address"),
        ({"XX99": {"level": "2"}}, {}, "XX99-level", "not a domain"),
        ({}, {"unsupported_devices_pct": "101"}, "indicator-unsupported_devices_pct", "between 0 and 100"),
        ({}, {"unsupported_devices_pct": "lots"}, "indicator-unsupported_devices_pct", "must be a number"),
        ({}, {"epr_supplier": "Acme"}, "indicator-epr_supplier", "must be one of"),
        ({}, {"made_up": "1"}, "indicator-made_up", "not an indicator"),
    ],
)
def test_invalid_input_names_the_field_and_saves_nothing(world, answers, indicators, field, message):
    good = {"SF01": {"level": "3"}}
    with pytest.raises(Invalid) as raised:
        actions.save_answers(
            by=world.users["lead"],
            assessment=world.assessment,
            expected_version=world.assessment.version,
            answers={**good, **answers},
            indicators=indicators,
        )
    assert message in raised.value.errors[field]
    assert not DomainAnswer.objects.exists()
    assert not IndicatorValue.objects.exists()
    world.assessment.refresh_from_db()
    assert world.assessment.version == 1


def test_a_domain_for_another_care_setting_is_not_part_of_the_assessment(world):
    community = AssessmentFactory(cycle=world.cycle, trust=world.trust, care_setting_id=CareSetting.COMMUNITY)
    with pytest.raises(Invalid, match="not a domain"):
        do_save = {"SF02": {"level": "2"}}
        actions.save_answers(by=world.users["lead"], assessment=community, expected_version=1, answers=do_save)


def test_submit_refuses_until_everything_is_answered(world):
    actions.save_answers(
        by=world.users["lead"], assessment=world.assessment, expected_version=1, answers={"WL01": {"level": "3"}}
    )
    world.assessment.refresh_from_db()
    with pytest.raises(Incomplete) as raised:
        do("submit", world.assessment, world.users["lead"])
    assert raised.value.missing == ["SF01", "SF02", "unsupported_devices_pct"]


def test_submit_needs_the_sign_off_and_declaration(world):
    assessment = fill(world.assessment, world.users["lead"])
    with pytest.raises(Invalid) as raised:
        actions.submit_assessment(
            by=world.users["lead"],
            assessment=assessment,
            expected_version=assessment.version,
            sign_off_name=" ",
            sign_off_role="",
            declared=False,
        )
    assert set(raised.value.errors) == {"sign_off_name", "sign_off_role", "declared"}


def test_return_needs_a_comment(world):
    assessment = submitted(world)
    with pytest.raises(Invalid, match="Say what needs changing"):
        actions.return_assessment(
            by=world.users["reviewer"],
            assessment=assessment,
            expected_version=assessment.version,
            comments=[Comment("  ")],
        )


# --- Concurrent edits --------------------------------------------------------------------------------------------


def test_a_stale_save_is_refused_with_what_changed(world):
    lead = world.users["lead"]
    colleague = lead_of(world.trust, user__username="colleague")
    opened_at = world.assessment.version
    actions.save_answers(
        by=colleague, assessment=world.assessment, expected_version=opened_at, answers={"WL01": {"level": "4"}}
    )
    with pytest.raises(Conflict) as raised:
        actions.save_answers(
            by=lead, assessment=world.assessment, expected_version=opened_at, answers={"WL01": {"level": "2"}}
        )
    assert [event.actor.username for event in raised.value.changes] == ["colleague"]
    assert "colleague – Changed WL01" in str(raised.value)
    assert DomainAnswer.objects.get(domain__code="WL01").level == 4


def test_saving_nothing_new_changes_nothing(world):
    fill(world.assessment, world.users["lead"])
    version = world.assessment.version
    actions.save_answers(
        by=world.users["lead"], assessment=world.assessment, expected_version=version, answers={"SF01": {"level": "2"}}
    )
    world.assessment.refresh_from_db()
    assert world.assessment.version == version
    assert AuditEvent.objects.filter(action="save").count() == 1


# --- Audit and refresh -------------------------------------------------------------------------------------------


def test_every_change_is_audited_with_before_and_after(world):
    lead = world.users["lead"]
    actions.save_answers(by=lead, assessment=world.assessment, expected_version=1, answers={"WL01": {"level": "2"}})
    actions.save_answers(
        by=lead,
        assessment=world.assessment,
        expected_version=2,
        answers={"WL01": {"level": "3"}},
        indicators={"unsupported_devices_pct": "7"},
    )
    event = AuditEvent.objects.order_by("pk").last()
    assert event.actor == lead
    assert event.version == 3
    assert event.before == {
        "WL01": {"level": 2, "evidence_note": "", "evidence_link": ""},
        "indicator:unsupported_devices_pct": None,
    }
    assert event.after == {
        "WL01": {"level": 3, "evidence_note": "", "evidence_link": ""},
        "indicator:unsupported_devices_pct": {"number": 7.0},
    }


def test_each_action_that_changes_the_status_marks_its_assessment_for_refresh(world):
    """Saves do not: only draft and returned assessments can be saved, and dashboards count neither, so a save
    cannot change a counted figure (see refresh.mark_if_counted)."""
    lead, reviewer = world.users["lead"], world.users["reviewer"]
    assessment = submitted(world)
    do("return", assessment, reviewer)
    assessment.refresh_from_db()
    do("save", assessment, lead)
    assessment.refresh_from_db()
    submit(assessment, lead)
    do("approve", assessment, reviewer)
    assessment.refresh_from_db()
    do("reopen", assessment, world.users["analyst"])
    assessment.refresh_from_db()
    actions.save_answers(
        by=lead, assessment=assessment, expected_version=assessment.version, answers={"WL01": {"level": "5"}}
    )
    marks = RefreshMark.objects.filter(assessment=world.assessment)
    assert [mark.reason for mark in marks] == ["submit", "return", "submit", "approve", "reopen"]
    assert [e.action for e in assessment.audit_events.order_by("pk")].count("save") == 3


def test_starting_an_assessment_marks_it_for_refresh(world):
    """Starting changes submission progress (not started → draft), which the dashboards count; starting again
    returns the same draft and changes nothing."""
    trust = TrustFactory(code="RXX", ics=world.ics)
    lead = lead_of(trust)
    acute = CareSetting.objects.get(pk=CareSetting.ACUTE)
    assessment = actions.start_assessment(by=lead, cycle=world.cycle, trust=trust, care_setting=acute)
    assert actions.start_assessment(by=lead, cycle=world.cycle, trust=trust, care_setting=acute) == assessment
    assert [(mark.assessment, mark.reason) for mark in RefreshMark.objects.all()] == [(assessment, "start")]


def test_return_comments_are_kept_per_domain_and_round(world):
    assessment = submitted(world)
    actions.return_assessment(
        by=world.users["reviewer"],
        assessment=assessment,
        expected_version=assessment.version,
        comments=[Comment("Evidence is thin", "WL01"), Comment("Please check the EPR answers")],
    )
    comments = {(c.domain.code if c.domain else "", c.text, c.round) for c in assessment.comments.all()}
    assert comments == {("WL01", "Evidence is thin", 1), ("", "Please check the EPR answers", 1)}
