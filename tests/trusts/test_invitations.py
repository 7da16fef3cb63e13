"""Invitations: sent from /account/invitations/ by analysts and ICS reviewers, accepted once, in time, from the
link in the e-mail."""

import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.utils import timezone

from trusts import actions, invitations, tasks
from trusts.models import Invitation, Membership, Role, RoleAction, RoleEvent

PAGE = "/account/invitations/"
PASSWORD = "a-long-unusual-passphrase-42"


@pytest.fixture
def send(client, django_capture_on_commit_callbacks, eager_celery):
    """Post the invitation form as `by`, running what waits for the commit (the e-mail) as a real commit would."""

    def post(by, **data):
        client.force_login(by)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(PAGE, data)

    return post


def link_in(message) -> str:
    """The path of the invitation link in an e-mail."""
    return re.search(r"https?://[^/\s]+(/account/invitation/[^/\s]+/)", message.body).group(1)


def test_an_analyst_invites_an_ics_reviewer_by_email(world, send):
    response = send(world.users["analyst"], email="Sam@Example.nhs.uk", role=Role.ICS_REVIEWER, organisation="QVV")
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["sam@example.nhs.uk"]
    assert "ICS reviewer (NHS Dorset Integrated Care Board)" in message.body
    assert link_in(message).startswith("/account/invitation/")
    invitation = Invitation.objects.get()
    assert (invitation.role, invitation.ics, invitation.invited_by) == (
        Role.ICS_REVIEWER,
        world.ics_b,
        world.users["analyst"],
    )
    event = RoleEvent.objects.get()
    assert (event.action, event.actor, event.email, event.invitation) == (
        RoleAction.INVITE,
        world.users["analyst"],
        "sam@example.nhs.uk",
        invitation,
    )


def test_only_the_hash_of_the_token_is_stored(world, send):
    send(world.users["analyst"], email="sam@example.nhs.uk", role=Role.ANALYST, organisation="")
    token = link_in(mail.outbox[0]).split("/")[-2]
    stored = Invitation.objects.get().token_hash
    assert token not in stored
    assert stored == invitations.hash_token(token)


def test_a_reviewer_is_offered_only_trust_leads_of_its_own_trusts(world, client):
    client.force_login(world.users["reviewer"])
    page = client.get(PAGE).content.decode()
    assert re.findall(r'name="role" type="radio" value="([^"]+)"', page) == [Role.TRUST_LEAD]
    offered = set(re.findall(r'<option value="([^"]*)"', page))
    assert offered == {"R0A", "RBV"}


def test_an_analyst_is_offered_every_role_and_organisation(world, client):
    client.force_login(world.users["analyst"])
    page = client.get(PAGE).content.decode()
    assert set(re.findall(r'name="role" type="radio" value="([^"]+)"', page)) == set(Role.values)
    assert set(re.findall(r'<option value="([^"]*)"', page)) == {"", "QOP", "QVV", "R0A", "RBV", "R0D"}


def test_a_reviewer_invites_a_lead_of_its_own_trust(world, send):
    response = send(world.users["reviewer"], email="lee@example.nhs.uk", role=Role.TRUST_LEAD, organisation="RBV")
    assert response.status_code == 302
    assert Invitation.objects.get().trust == world.trust_a2
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    ("role", "organisation", "error"),
    [
        (Role.TRUST_LEAD, "R0D", "Choose one of the organisations listed"),
        (Role.ANALYST, "", "Choose one of the roles listed"),
        (Role.ICS_REVIEWER, "QOP", "Choose one of the roles listed"),
    ],
    ids=["another ICS's trust", "an analyst", "an ICS reviewer"],
)
def test_a_reviewer_cannot_invite(world, send, role, organisation, error):
    response = send(world.users["reviewer"], email="x@example.nhs.uk", role=role, organisation=organisation)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not Invitation.objects.exists()
    assert not mail.outbox


@pytest.mark.parametrize(("role", "organisation"), [(Role.TRUST_LEAD, "trust_b1"), (Role.ANALYST, None)])
def test_the_invite_action_refuses_a_reviewer_what_the_form_does_not_offer(world, role, organisation):
    with pytest.raises(PermissionDenied):
        actions.invite(
            by=world.users["reviewer"],
            email="x@example.nhs.uk",
            role=role,
            organisation=getattr(world, organisation) if organisation else None,
            site_url="https://dma.example.nhs.uk/",
        )


@pytest.mark.parametrize("user", ["lead", "no-role"])
def test_only_analysts_and_reviewers_open_the_invitations_page(world, client, user):
    client.force_login(world.users[user])
    assert client.get(PAGE).status_code == 403


def test_errors_are_summarised_and_linked_to_their_fields(world, send):
    response = send(world.users["analyst"], email="", role=Role.ICS_REVIEWER, organisation="R0A")
    page = response.content.decode()
    assert "<title>Error: Invite people" in page
    assert "There is a problem" in page
    assert '<a href="#id_email">Enter the e-mail address of the person to invite</a>' in page


def test_a_role_and_organisation_that_do_not_match_are_an_error_on_the_organisation(world, send):
    response = send(world.users["analyst"], email="x@example.nhs.uk", role=Role.ICS_REVIEWER, organisation="R0A")
    assert '<a href="#id_organisation">An ICS reviewer belongs to an ICS' in response.content.decode()
    assert not Invitation.objects.exists()


def test_the_list_shows_a_reviewer_only_its_own_trusts_invitations(world, send):
    send(world.users["analyst"], email="dorset@example.nhs.uk", role=Role.TRUST_LEAD, organisation="R0D")
    send(world.users["analyst"], email="christie@example.nhs.uk", role=Role.TRUST_LEAD, organisation="RBV")
    reviewer = Client()  # not the analyst's, whose "sent" messages are still waiting to be shown
    reviewer.force_login(world.users["reviewer"])
    page = reviewer.get(PAGE).content.decode()
    assert "christie@example.nhs.uk" in page
    assert "dorset@example.nhs.uk" not in page


@override_settings(INVITATION_VALID_DAYS=2)
def test_an_invitation_lasts_the_days_in_the_settings(world, send):
    send(world.users["analyst"], email="x@example.nhs.uk", role=Role.ANALYST, organisation="")
    lasts = Invitation.objects.get().expires_at - timezone.now()
    assert timedelta(days=1, hours=23) < lasts <= timedelta(days=2)


def test_a_broker_that_is_down_is_logged_and_the_invitation_stands(world, send, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_invitation_email, "apply_async", down)
    with caplog.at_level(logging.WARNING, logger="trusts.invitations"):
        response = send(world.users["analyst"], email="x@example.nhs.uk", role=Role.ANALYST, organisation="")
    assert response.status_code == 302
    assert Invitation.objects.exists()
    assert "Could not send the e-mail for invitation" in caplog.text
    assert "/account/invitation/" not in caplog.text


def test_an_invitation_the_broker_never_took_is_sent_by_the_sweep_with_a_new_working_link(
    world, send, monkeypatch, client
):
    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.send_invitation_email, "apply_async", down)
    send(world.users["reviewer"], email="lee@example.nhs.uk", role=Role.TRUST_LEAD, organisation="RBV")
    invitation = Invitation.objects.get()
    assert invitation.email_sent_at is None and not mail.outbox

    assert invitations.resend_unsent() == 0  # its own send task may still deliver it
    later = timezone.now() + invitations.RESEND_AFTER + timedelta(seconds=1)
    assert invitations.resend_unsent(later) == 1
    assert invitations.resend_unsent(later) == 0  # once only

    [message] = mail.outbox
    assert message.to == ["lee@example.nhs.uk"]
    invitation.refresh_from_db()
    assert invitation.email_sent_at is not None
    client.logout()
    assert accept(client, link_in(message)).status_code == 302
    assert Membership.objects.filter(user__email="lee@example.nhs.uk", trust__code="RBV").exists()


def test_a_mail_server_that_refuses_leaves_the_invitation_for_the_next_sweep(world, send, monkeypatch):
    import smtplib

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("refused")

    monkeypatch.setattr(tasks.send_invitation_email, "apply_async", lambda *a, **k: None)  # queued, never run
    send(world.users["analyst"], email="sam@example.nhs.uk", role=Role.ANALYST, organisation="")
    later = timezone.now() + invitations.RESEND_AFTER + timedelta(seconds=1)
    monkeypatch.setattr(invitations, "send_mail", refuse)
    assert invitations.resend_unsent(later) == 0
    assert Invitation.objects.get().email_sent_at is None
    monkeypatch.undo()
    assert invitations.resend_unsent(later) == 1
    assert [message.to for message in mail.outbox] == [["sam@example.nhs.uk"]]


def test_accepted_and_expired_invitations_are_not_sent_again(world, send):
    send(world.users["analyst"], email="sam@example.nhs.uk", role=Role.ANALYST, organisation="")
    assert Invitation.objects.get().email_sent_at is not None
    Invitation.objects.update(email_sent_at=None, expires_at=timezone.now())
    assert invitations.resend_unsent(timezone.now() + timedelta(days=30)) == 0


# --- Accepting ---------------------------------------------------------------------------------------------------


@pytest.fixture
def invited(world, send):
    """The link of an invitation to a new address to lead The Christie, sent by the ICS's reviewer."""
    send(world.users["reviewer"], email="lee@example.nhs.uk", role=Role.TRUST_LEAD, organisation="RBV")
    return link_in(mail.outbox[-1])


def accept(client, link, password=PASSWORD, again=None):
    return client.post(link, {"new_password1": password, "new_password2": again or password})


def test_accepting_creates_the_account_and_the_membership_and_logs_in(world, client, invited):
    client.logout()
    page = client.get(invited)
    assert page.status_code == 200
    assert "Your username is <strong>lee@example.nhs.uk</strong>" in page.content.decode()
    response = accept(client, invited)
    assert response.status_code == 302
    assert response.url == "/"
    lee = get_user_model().objects.get(username="lee@example.nhs.uk")
    assert lee.email == "lee@example.nhs.uk"
    assert lee.check_password(PASSWORD)
    assert int(client.session["_auth_user_id"]) == lee.pk
    assert Membership.objects.current().get(user=lee).trust == world.trust_a2
    event = RoleEvent.objects.get(action=RoleAction.ACCEPT)
    assert (event.actor, event.subject, event.trust) == (lee, lee, world.trust_a2)
    assert Invitation.objects.get().accepted_by == lee


def test_the_password_must_pass_djangos_validators(world, client, invited):
    client.logout()
    response = accept(client, invited, password="password")
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not get_user_model().objects.filter(username="lee@example.nhs.uk").exists()


def test_the_two_passwords_must_match(world, client, invited):
    client.logout()
    response = accept(client, invited, again="something-else-entirely-7")
    assert "The two password fields didn’t match." in response.content.decode()


def test_a_second_use_is_refused_with_a_clear_message(world, client, invited):
    client.logout()
    accept(client, invited)
    client.logout()
    for response in (client.get(invited), accept(client, invited, password="another-long-passphrase-9")):
        assert response.status_code == 410
        assert "This invitation has already been used" in response.content.decode()
    assert get_user_model().objects.get(username="lee@example.nhs.uk").check_password(PASSWORD)


def test_an_expired_invitation_is_refused_with_a_clear_message(world, client, invited):
    client.logout()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    for response in (client.get(invited), accept(client, invited)):
        assert response.status_code == 410
        assert "This invitation expired on" in response.content.decode()
    assert not get_user_model().objects.filter(username="lee@example.nhs.uk").exists()


def test_an_unknown_link_is_not_found(world, client):
    response = client.get("/account/invitation/not-a-real-token/")
    assert response.status_code == 404
    assert "This invitation link is not valid" in response.content.decode()


def test_an_invitation_is_refused_once_its_inviter_can_no_longer_give_it(world, client, invited):
    Membership.objects.filter(user=world.users["reviewer"]).update(ends_on=timezone.localdate())
    client.logout()
    response = client.get(invited)
    assert response.status_code == 410
    assert "can no longer give this role" in response.content.decode()


def test_an_existing_account_logs_in_and_confirms(world, client, send):
    lead = world.users["lead"]
    lead.email = "lead@example.nhs.uk"
    lead.save()
    send(world.users["reviewer"], email="lead@example.nhs.uk", role=Role.TRUST_LEAD, organisation="RBV")
    link = link_in(mail.outbox[-1])
    client.logout()
    page = client.get(link).content.decode()
    assert "You already have an account, <strong>lead-r0a</strong>" in page
    assert f'href="/accounts/login/?next={link}"' in page
    client.force_login(lead)
    assert ">Accept</button>" in client.get(link).content.decode()
    assert client.post(link).status_code == 302
    trusts = set(Membership.objects.current().filter(user=lead).values_list("trust__code", flat=True))
    assert trusts == {"R0A", "RBV"}
    assert lead.check_password("secret-password")


def test_an_existing_account_cannot_be_given_a_password_from_the_link(world, client, send):
    lead = world.users["lead"]
    lead.email = "lead@example.nhs.uk"
    lead.save()
    send(world.users["reviewer"], email="lead@example.nhs.uk", role=Role.TRUST_LEAD, organisation="RBV")
    link = link_in(mail.outbox[-1])
    client.logout()
    accept(client, link)
    lead.refresh_from_db()
    assert lead.check_password("secret-password")
    assert Invitation.objects.get().accepted_at is None


def test_someone_already_holding_the_role_is_not_invited(world, send):
    lead = world.users["lead"]
    lead.email = "lead@example.nhs.uk"
    lead.save()
    response = send(world.users["reviewer"], email="lead@example.nhs.uk", role=Role.TRUST_LEAD, organisation="R0A")
    assert "lead@example.nhs.uk already has this role" in response.content.decode()


@pytest.mark.parametrize(("who", "linked"), [("analyst", True), ("reviewer", True), ("lead", False)])
def test_the_header_links_the_invitations_page_for_those_who_may_invite(world, client, who, linked):
    client.force_login(world.users[who])
    page = client.get("/account/notifications/").content.decode()
    assert (f'href="{PAGE}"' in page) is linked


# --- Withdrawing -------------------------------------------------------------------------------------------------


def withdraw(client, by, invitation):
    client.force_login(by)
    return client.post(f"{PAGE}{invitation.pk}/withdraw/")


def test_the_inviter_withdraws_a_waiting_invitation_and_its_link_stops_working(world, client, invited):
    invitation = Invitation.objects.get()
    page = client.get(PAGE).content.decode()
    assert 'Withdraw<span class="nhsuk-u-visually-hidden"> the invitation to lee@example.nhs.uk</span>' in page
    response = withdraw(client, world.users["reviewer"], invitation)
    assert response.status_code == 302
    assert "was withdrawn" in client.get(PAGE).content.decode()
    invitation.refresh_from_db()
    assert (invitation.withdrawn_by, invitation.is_pending) == (world.users["reviewer"], False)
    event = RoleEvent.objects.get(action=RoleAction.WITHDRAW)
    assert (event.actor, event.email, event.invitation, event.trust) == (
        world.users["reviewer"],
        "lee@example.nhs.uk",
        invitation,
        world.trust_a2,
    )
    client.logout()
    for response in (client.get(invited), accept(client, invited)):
        assert response.status_code == 410
        assert "This invitation was withdrawn" in response.content.decode()
    assert not get_user_model().objects.filter(username="lee@example.nhs.uk").exists()


def test_a_withdrawn_invitation_is_never_sent_again_by_the_sweep(world, invited):
    invitation = Invitation.objects.get()
    actions.withdraw_invitation(by=world.users["analyst"], invitation=invitation)
    Invitation.objects.update(email_sent_at=None)
    assert invitations.resend_unsent(timezone.now() + timedelta(days=1)) == 0


def test_an_accepted_invitation_cannot_be_withdrawn(world, client, invited):
    client.logout()
    accept(client, invited)
    invitation = Invitation.objects.get()
    with pytest.raises(actions.Invalid, match="already accepted"):
        actions.withdraw_invitation(by=world.users["analyst"], invitation=invitation)
    response = withdraw(client, world.users["reviewer"], invitation)
    assert response.status_code == 302
    assert "was already accepted: nothing to withdraw" in client.get(PAGE).content.decode()
    assert not RoleEvent.objects.filter(action=RoleAction.WITHDRAW).exists()


def test_only_who_may_give_the_role_withdraws_it(world, client, send):
    send(world.users["analyst"], email="sam@example.nhs.uk", role=Role.ICS_REVIEWER, organisation="QVV")
    invitation = Invitation.objects.get()
    # The reviewer of another ICS does not see it on their list, and may not withdraw it by its number.
    assert withdraw(client, world.users["reviewer"], invitation).status_code == 404
    with pytest.raises(PermissionDenied):
        actions.withdraw_invitation(by=world.users["reviewer"], invitation=invitation)
    assert withdraw(client, world.users["lead"], invitation).status_code == 403
    invitation.refresh_from_db()
    assert invitation.is_pending
