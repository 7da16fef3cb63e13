"""The e-mails each change sends, delivered through a real SMTP server (tests/conftest.py smtp_server)."""

import pytest
from django.conf import settings

from maturity import actions
from maturity.actions import Comment
from maturity.models import Status
from notifications.models import Kind, OutboxEmail, Preference
from tests.notifications.conftest import fill, submit_kwargs


def submit(act, assessment, by):
    fill(assessment, by)
    act(actions.submit_assessment, **submit_kwargs(assessment, by))
    assessment.refresh_from_db()
    return assessment


def test_a_submission_emails_the_reviewers_of_the_ics_it_is_recorded_in(world, act, smtp_server):
    submit(act, world.assessment, world.users["lead"])

    to = {message["X-Envelope-To"] for message in smtp_server.messages}
    assert to == {"reviewer@qop.example.nhs.uk", "second@qop.example.nhs.uk"}
    [message] = smtp_server.to("reviewer@qop.example.nhs.uk")
    assert message["Subject"] == "Ready for review: Manchester University NHS Foundation Trust, Acute, 2026"
    assert message["From"] == settings.DEFAULT_FROM_EMAIL
    body = message.get_content()
    assert "signed off by Jo Bloggs (Chief Executive)" in body
    assert f"{settings.SITE_URL}/trusts/R0A/assessments/2026/acute/review/" in body


def test_a_submission_emails_nobody_of_another_ics(world, act, smtp_server):
    submit(act, world.assessment, world.users["lead"])

    assert smtp_server.to("reviewer@qvv.example.nhs.uk") == []
    assert not OutboxEmail.objects.filter(recipient=world.users["other reviewer"]).exists()


def test_a_reviewer_who_switched_submissions_off_gets_no_email_and_no_outbox_row(world, act, smtp_server):
    Preference.objects.create(user=world.users["second reviewer"], kind=Kind.SUBMITTED, enabled=False)

    submit(act, world.assessment, world.users["lead"])

    assert smtp_server.to("second@qop.example.nhs.uk") == []
    assert not OutboxEmail.objects.filter(recipient=world.users["second reviewer"]).exists()
    assert len(smtp_server.to("reviewer@qop.example.nhs.uk")) == 1


def test_switching_another_kind_off_does_not_stop_submissions(world, act, smtp_server):
    Preference.objects.create(user=world.users["second reviewer"], kind=Kind.RETURNED, enabled=False)

    submit(act, world.assessment, world.users["lead"])

    assert len(smtp_server.to("second@qop.example.nhs.uk")) == 1


def test_a_reviewer_without_an_email_address_gets_no_outbox_row(world, act, smtp_server):
    submit(act, world.assessment, world.users["lead"])

    assert not OutboxEmail.objects.filter(recipient=world.users["reviewer without e-mail"]).exists()


def test_a_return_emails_the_leads_the_comments_each_domain_by_name(world, act, smtp_server):
    assessment = submit(act, world.assessment, world.users["lead"])
    smtp_server.messages.clear()

    act(
        actions.return_assessment,
        by=world.users["reviewer"],
        assessment=assessment,
        expected_version=assessment.version,
        comments=[
            Comment("Add the board paper that approved the strategy."),
            Comment("Level 3 needs the network survey as evidence.", "SF01"),
        ],
    )

    assert [message["X-Envelope-To"] for message in smtp_server.messages] == ["lead@r0a.example.nhs.uk"]
    [message] = smtp_server.messages
    assert message["Subject"] == "Returned for changes: Manchester University NHS Foundation Trust, Acute, 2026"
    body = message.get_content()
    assert "- Add the board paper that approved the strategy." in body
    assert "- SF01 Infrastructure: Level 3 needs the network survey as evidence." in body
    assert f"{settings.SITE_URL}/trusts/R0A/assessments/2026/acute/" in body


def test_an_approval_emails_the_leads_with_the_reviewers_comment(world, act, smtp_server):
    assessment = submit(act, world.assessment, world.users["lead"])
    smtp_server.messages.clear()

    act(
        actions.approve_assessment,
        by=world.users["reviewer"],
        assessment=assessment,
        expected_version=assessment.version,
        comment="Good progress on the EPR.",
    )

    [message] = smtp_server.messages
    assert message["X-Envelope-To"] == "lead@r0a.example.nhs.uk"
    assert message["Subject"] == "Approved: Manchester University NHS Foundation Trust, Acute, 2026"
    assert "Their comment: Good progress on the EPR." in message.get_content()


def test_an_icb_submission_emails_the_analysts_not_the_icb_reviewers(world, act, smtp_server):
    submit(act, world.ics_assessment, world.users["reviewer"])

    assert [message["X-Envelope-To"] for message in smtp_server.messages] == ["analyst@england.example.nhs.uk"]
    [message] = smtp_server.messages
    assert message["Subject"] == "Ready for review: NHS Greater Manchester Integrated Care Board, 2026"
    assert f"{settings.SITE_URL}/ics/QOP/assessments/2026/review/" in message.get_content()
    assert OutboxEmail.objects.get().kind == Kind.ICB_SUBMITTED


def test_a_returned_icb_assessment_emails_its_ics_reviewers(world, act, smtp_server):
    assessment = submit(act, world.ics_assessment, world.users["reviewer"])
    smtp_server.messages.clear()

    act(
        actions.return_assessment,
        by=world.users["analyst"],
        assessment=assessment,
        expected_version=assessment.version,
        comments=[Comment("Say which board approved it.", "WL01")],
    )

    assert {message["X-Envelope-To"] for message in smtp_server.messages} == {
        "reviewer@qop.example.nhs.uk",
        "second@qop.example.nhs.uk",
    }
    assert "- WL01 Board leadership: Say which board approved it." in smtp_server.messages[0].get_content()


def test_a_resubmission_emails_the_reviewers_again(world, act, smtp_server):
    assessment = submit(act, world.assessment, world.users["lead"])
    act(
        actions.return_assessment,
        by=world.users["reviewer"],
        assessment=assessment,
        expected_version=assessment.version,
        comments=[Comment("More evidence, please.")],
    )
    assessment.refresh_from_db()
    assert assessment.status == Status.RETURNED

    act(actions.submit_assessment, **submit_kwargs(assessment, world.users["lead"]))

    assert len(smtp_server.to("reviewer@qop.example.nhs.uk")) == 2


def test_a_refused_action_writes_no_email(world, act, smtp_server):
    fill(world.assessment, world.users["lead"])
    with pytest.raises(actions.Invalid):
        act(actions.submit_assessment, **{**submit_kwargs(world.assessment, world.users["lead"]), "declared": False})

    assert not OutboxEmail.objects.exists()
    assert smtp_server.messages == []
