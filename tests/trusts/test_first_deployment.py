"""A deployment from nothing: the operator makes the first analyst with grant_role; every other account comes by
invitation, through the real pages, with the links read from the e-mails sent."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client

from trusts.models import Membership, RoleEvent

PASSWORDS = {
    "ana@england.nhs.uk": "analyst-passphrase-for-tests-1",
    "rev@gm.nhs.uk": "reviewer-passphrase-for-tests-2",
    "lee@mft.nhs.uk": "lead-passphrase-for-tests-3",
}


@pytest.fixture
def send_mail_on_commit(django_capture_on_commit_callbacks, eager_celery):
    """Run what a request leaves for after its commit (the invitation e-mail), as a real commit would."""

    def request(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return request


def invitation_link(email: str) -> str:
    [message] = [m for m in mail.outbox if m.to == [email]]
    return re.search(r"https?://[^/\s]+(/account/invitation/[^/\s]+/)", message.body).group(1)


def accept(link: str, email: str) -> Client:
    browser = Client()
    page = browser.get(link)
    assert page.status_code == 200
    password = PASSWORDS[email]
    response = browser.post(link, {"new_password1": password, "new_password2": password})
    assert response.status_code == 302
    return browser


def log_in(email: str) -> Client:
    browser = Client()
    response = browser.post("/accounts/login/", {"username": email, "password": PASSWORDS[email]})
    assert response.status_code == 302, "the log-in was refused"
    return browser


@pytest.mark.django_db
def test_an_operator_an_analyst_a_reviewer_and_a_lead(send_mail_on_commit):
    call_command("load_organisations", stdout=io.StringIO())
    call_command("load_frameworks", stdout=io.StringIO())
    assert not get_user_model().objects.exists()
    assert not Membership.objects.exists()

    # The operator makes the first analyst, who sets a password from the printed link.
    out = io.StringIO()
    call_command("grant_role", "ana@england.nhs.uk", "analyst", site_url="https://dma.example", stdout=out)
    set_password = re.search(r"https://dma\.example(/account/set-password/\S+/)", out.getvalue()).group(1)
    analyst = Client()
    form_url = analyst.get(set_password, follow=True).redirect_chain[-1][0]
    password = PASSWORDS["ana@england.nhs.uk"]
    assert analyst.post(form_url, {"new_password1": password, "new_password2": password}).status_code == 302

    # The analyst opens a cycle and invites Greater Manchester's ICS reviewer.
    trust_framework, ics_framework = (
        re.search(rf'id="{name}".*?<option value="(\d+)"', analyst.get("/cycles/").content.decode(), re.S).group(1)
        for name in ("trust_framework", "ics_framework")
    )
    analyst.post("/cycles/", {"year": "2026", "trust_framework": trust_framework, "ics_framework": ics_framework})
    assert analyst.post("/cycles/2026/", {"state": "open"}).status_code == 302
    response = send_mail_on_commit(
        analyst.post,
        "/account/invitations/",
        {"email": "rev@gm.nhs.uk", "role": "ics-reviewer", "organisation": "QOP"},
    )
    assert response.status_code == 302

    # The reviewer accepts, and invites a lead for Manchester University NHS Foundation Trust.
    reviewer = accept(invitation_link("rev@gm.nhs.uk"), "rev@gm.nhs.uk")
    assert reviewer.get("/").url == "/ics/QOP/"
    response = send_mail_on_commit(
        reviewer.post,
        "/account/invitations/",
        {"email": "lee@mft.nhs.uk", "role": "trust-lead", "organisation": "R0A"},
    )
    assert response.status_code == 302

    # The lead accepts, logs in later, and sees their trust and no other's entered data.
    accept(invitation_link("lee@mft.nhs.uk"), "lee@mft.nhs.uk")
    lead = log_in("lee@mft.nhs.uk")
    assert lead.get("/").url == "/trusts/R0A/"
    assert lead.get("/trusts/R0A/").status_code == 200
    assert lead.post("/trusts/R0A/assessments/2026/acute/start/").status_code == 302
    assert lead.get("/trusts/R0A/assessments/2026/acute/").status_code == 200
    assert lead.get("/trusts/RBV/").status_code == 403
    assert lead.get("/trusts/RBV/assessments/2026/acute/").status_code == 403
    assert lead.get("/account/invitations/").status_code == 403

    # And the history says who gave whom what.
    history = [
        (event.actor.email if event.actor else "operator", event.action, event.email)
        for event in RoleEvent.objects.select_related("actor")
    ]
    assert history == [
        ("operator", "grant", "ana@england.nhs.uk"),
        ("ana@england.nhs.uk", "invite", "rev@gm.nhs.uk"),
        ("rev@gm.nhs.uk", "accept", "rev@gm.nhs.uk"),
        ("rev@gm.nhs.uk", "invite", "lee@mft.nhs.uk"),
        ("lee@mft.nhs.uk", "accept", "lee@mft.nhs.uk"),
    ]
