"""Evidence that reviewers verify: the action's rules (who, when, only evidence that exists), the lead's later
change clearing it, and the review page saving the boxes with the decision, in its transaction."""

import pytest
from django.core.exceptions import PermissionDenied

from maturity import actions
from maturity.actions import Comment, Conflict, Invalid
from maturity.models import AuditEvent, DomainAnswer, RefreshMark, Status
from maturity.pages import assessment_url
from tests.maturity.test_actions import in_state, world  # noqa: F401


def answer(assessment, code):
    return DomainAnswer.objects.select_related("evidence_verified_by").get(assessment=assessment, domain__code=code)


def verify(assessment, by, *codes):
    assessment.refresh_from_db()
    return actions.verify_evidence(
        by=by, assessment=assessment, expected_version=assessment.version, domain_codes=list(codes)
    )


def test_the_reviewer_verifies_evidence_with_an_audit_event_and_a_refresh(world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    version = assessment.version
    reviewer = world.users["reviewer"]
    verify(assessment, reviewer, "WL01")
    wl01 = answer(assessment, "WL01")
    assert wl01.evidence_verified_by == reviewer and wl01.evidence_verified_at is not None
    assessment.refresh_from_db()
    assert assessment.version == version + 1 and assessment.status == Status.SUBMITTED
    event = AuditEvent.objects.filter(assessment=assessment).latest("pk")
    assert (event.action, event.before, event.after) == (
        "verify_evidence",
        {"WL01": {"evidence_verified": False}},
        {"WL01": {"evidence_verified": True}},
    )
    assert RefreshMark.objects.filter(assessment=assessment, reason="verify_evidence").exists()


def test_an_answer_without_evidence_cannot_be_verified_and_the_message_names_it(world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    with pytest.raises(Invalid, match="SF01 has no evidence note or link"):
        verify(assessment, world.users["reviewer"], "WL01", "SF01")
    assert answer(assessment, "WL01").evidence_verified_at is None  # nothing half-done


def test_an_unknown_domain_is_refused(world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    with pytest.raises(Invalid, match="Unknown domain XX99"):
        verify(assessment, world.users["reviewer"], "XX99")


@pytest.mark.parametrize("role", ["lead", "neighbour lead", "other reviewer", "analyst"])
def test_only_the_assessments_reviewers_verify(world, role):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    with pytest.raises(PermissionDenied):
        verify(assessment, world.users[role], "WL01")


def test_a_stale_verification_is_refused(world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    with pytest.raises(Conflict):
        actions.verify_evidence(
            by=world.users["reviewer"],
            assessment=assessment,
            expected_version=assessment.version - 1,
            domain_codes=["WL01"],
        )


def test_verifying_again_changes_nothing_and_unverifying_takes_it_back(world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    reviewer = world.users["reviewer"]
    verify(assessment, reviewer, "WL01")
    first = answer(assessment, "WL01").evidence_verified_at
    version = verify(assessment, reviewer, "WL01").version
    assert answer(assessment, "WL01").evidence_verified_at == first
    assessment.refresh_from_db()
    assert assessment.version == version
    actions.unverify_evidence(by=reviewer, assessment=assessment, expected_version=version, domain_codes=["WL01"])
    wl01 = answer(assessment, "WL01")
    assert (wl01.evidence_verified_by, wl01.evidence_verified_at) == (None, None)


def test_the_leads_change_after_a_return_clears_the_verification_of_that_answer_only(world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    reviewer, lead = world.users["reviewer"], world.users["lead"]
    verify(assessment, reviewer, "WL01")
    assessment.refresh_from_db()
    actions.return_assessment(
        by=reviewer, assessment=assessment, expected_version=assessment.version, comments=[Comment("Check SF01")]
    )
    assessment.refresh_from_db()
    # An answer saved unchanged keeps its verification.
    actions.save_answers(
        by=lead,
        assessment=assessment,
        expected_version=assessment.version,
        answers={
            "WL01": {"level": "3", "evidence_note": "Board paper May", "evidence_link": "https://example.nhs.uk/paper"}
        },
    )
    assert answer(assessment, "WL01").evidence_verified_at is not None
    actions.save_answers(
        by=lead,
        assessment=assessment,
        expected_version=assessment.version,
        answers={"WL01": {"level": "3", "evidence_note": "Board paper June", "evidence_link": ""}},
    )
    wl01 = answer(assessment, "WL01")
    assert (wl01.evidence_verified_by, wl01.evidence_verified_at) == (None, None)
    event = AuditEvent.objects.filter(assessment=assessment, action="save").latest("pk")
    assert event.before["WL01"]["evidence_verified"] is True
    assert event.after["WL01"] == {
        "level": 3,
        "evidence_note": "Board paper June",
        "evidence_link": "",
        "evidence_verified": False,
    }


# --- The review page ---------------------------------------------------------------------------------------------


def test_the_review_page_offers_the_box_only_beside_evidence(client, world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    client.force_login(world.users["reviewer"])
    page = client.get(assessment_url(assessment, "review")).content.decode()
    assert 'name="verified-WL01"' in page
    assert 'name="verified-SF01"' not in page


def test_the_boxes_are_saved_with_the_approval_and_shown_read_only_after(client, world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    reviewer = world.users["reviewer"]
    reviewer.first_name, reviewer.last_name = "Ria", "Patel"
    reviewer.save()
    client.force_login(reviewer)
    response = client.post(
        assessment_url(assessment, "review"),
        {"version": assessment.version, "decision": "approve", "verified-WL01": "yes"},
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Status.APPROVED
    assert answer(assessment, "WL01").evidence_verified_by == reviewer
    page = client.get(assessment_url(assessment, "pillar", pillar_code="well_led")).content.decode()
    assert "Evidence verified</strong> by Ria Patel on" in page


def test_a_refused_decision_saves_no_verification_and_keeps_the_box_ticked(client, world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    client.force_login(world.users["reviewer"])
    # Approval with a comment on a domain is refused (comments on domains go back with a return only).
    response = client.post(
        assessment_url(assessment, "review"),
        {"version": assessment.version, "decision": "approve", "verified-WL01": "yes", "comment-WL01": "Fine"},
    )
    assert response.status_code == 400
    assert answer(assessment, "WL01").evidence_verified_at is None
    assessment.refresh_from_db()
    assert assessment.status == Status.SUBMITTED
    assert 'id="verified-WL01" name="verified-WL01" type="checkbox" value="yes" checked' in response.content.decode()


def test_unticking_a_verified_box_takes_the_verification_back_with_the_return(client, world):  # noqa: F811
    assessment = in_state(world, Status.SUBMITTED)
    verify(assessment, world.users["reviewer"], "WL01")
    assessment.refresh_from_db()
    client.force_login(world.users["reviewer"])
    response = client.post(
        assessment_url(assessment, "review"),
        {"version": assessment.version, "decision": "return", "comment": "Please check SF01"},
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == Status.RETURNED
    assert answer(assessment, "WL01").evidence_verified_at is None
