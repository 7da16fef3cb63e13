"""manage.py grant_role: the operator's way to give a role, and to make a deployment's first analyst."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from tests.factories import TrustFactory, UserFactory
from trusts import permissions
from trusts.models import Membership, Role, RoleAction, RoleEvent


def grant(*args, **options) -> str:
    out = io.StringIO()
    call_command("grant_role", *args, stdout=out, **options)
    return out.getvalue()


def test_gives_an_existing_user_a_role_by_username(world):
    person = UserFactory(username="pat")
    output = grant("pat", "trust-lead", "rbv")
    assert "Found pat: Trust lead, The Christie NHS Foundation Trust, from" in output
    assert permissions.can(get_user_model().objects.get(pk=person.pk), permissions.EDIT, world.trust_a2)


def test_finds_a_user_by_email(world):
    UserFactory(username="pat", email="pat@example.nhs.uk")
    grant("PAT@example.nhs.uk", "ics-reviewer", "QVV")
    assert Membership.objects.get(user__username="pat").ics == world.ics_b


def test_is_recorded_as_the_operator(world):
    UserFactory(username="pat")
    grant("pat", "analyst")
    event = RoleEvent.objects.get()
    assert (event.actor, event.action, event.role, event.subject.username) == (
        None,
        RoleAction.GRANT,
        Role.ANALYST,
        "pat",
    )
    assert str(event).endswith("operator granted pat")


def test_creates_a_user_with_no_password_and_prints_a_one_time_link(world, client):
    output = grant("first.analyst", "analyst", email="First.Analyst@example.nhs.uk", site_url="https://dma.example/")
    user = get_user_model().objects.get(username="first.analyst")
    assert user.email == "first.analyst@example.nhs.uk"
    assert not user.has_usable_password()
    assert Membership.objects.current().get(user=user).role == Role.ANALYST
    link = re.search(r"https://dma\.example(/account/set-password/\S+/)", output).group(1)
    # Django's set-password view moves the token into the session, then shows the form.
    form_page = client.get(link, follow=True)
    assert "Set your password" in form_page.content.decode()
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-long-unusual-passphrase-42", "new_password2": "a-long-unusual-passphrase-42"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a-long-unusual-passphrase-42")
    client.logout()
    assert "This link cannot be used" in client.get(link, follow=True).content.decode()


def test_an_address_as_the_user_creates_the_user_named_by_it(world):
    grant("new@example.nhs.uk", "trust-lead", "R0A")
    assert get_user_model().objects.get(username="new@example.nhs.uk").email == "new@example.nhs.uk"


def test_a_user_with_a_password_gets_no_link(world):
    output = grant("lead-r0a", "trust-lead", "RBV")
    assert "set-password" not in output


def test_granting_a_role_twice_changes_nothing(world):
    grant("lead-r0a", "trust-lead", "R0A")
    assert Membership.objects.filter(user__username="lead-r0a").count() == 1
    assert not RoleEvent.objects.exists()


@pytest.mark.parametrize(
    ("args", "options", "message"),
    [
        (["lead-r0a", "trust-lead", "XYZ"], {}, "No trust or ICS has the ODS code 'XYZ'"),
        (["lead-r0a", "trust-lead", "QOP"], {}, "A trust lead belongs to a trust"),
        (["lead-r0a", "ics-reviewer", "R0A"], {}, "An ICS reviewer belongs to an ICS"),
        (["lead-r0a", "ics-reviewer"], {}, "An ICS reviewer belongs to an ICS"),
        (["lead-r0a", "analyst", "R0A"], {}, "Analysts belong to NHS England"),
        (["nobody-here", "analyst"], {}, "There is no user 'nobody-here'. To create one, give their e-mail"),
        (["new-person", "analyst"], {"email": "not-an-address"}, "Enter a valid email address."),
    ],
)
def test_refuses_with_a_clear_error(world, args, options, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        grant(*args, **options)
    assert not RoleEvent.objects.exists()
    assert not get_user_model().objects.filter(username="new-person").exists()


def test_an_unknown_role_is_refused_by_its_choices(world):
    with pytest.raises(CommandError, match="invalid choice: 'admin'"):
        grant("lead-r0a", "admin")


def test_a_closed_trust_is_refused(world):
    TrustFactory(code="RA4", ics=world.ics_a, closed_on="2023-03-31")
    with pytest.raises(CommandError, match="closed on 31 March 2023"):
        grant("lead-r0a", "trust-lead", "RA4")
