import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from tests.factories import ICSFactory, TrustFactory
from trusts.demo import create_demo_accounts
from trusts.models import Membership, Role


@pytest.fixture
def organisations(db):
    ics = ICSFactory(code="QOP")
    TrustFactory(code="R0A", ics=ics)
    TrustFactory(code="RBV", ics=ics)
    TrustFactory(code="RA4", ics=ics, closed_on="2023-03-31")


@override_settings(DEBUG=True)
def test_creates_an_account_for_the_analyst_every_ics_and_every_open_trust(organisations, capsys):
    call_command("create_demo_accounts")
    usernames = set(get_user_model().objects.values_list("username", flat=True))
    assert usernames == {"analyst", "ics-qop", "lead-r0a", "lead-rbv"}
    assert "4 created" in capsys.readouterr().out
    roles = {
        (m.user.username, m.role, m.trust_id and m.trust.code, m.ics_id and m.ics.code)
        for m in Membership.objects.all()
    }
    assert roles == {
        ("analyst", Role.ANALYST, None, None),
        ("ics-qop", Role.ICS_REVIEWER, None, "QOP"),
        ("lead-r0a", Role.TRUST_LEAD, "R0A", None),
        ("lead-rbv", Role.TRUST_LEAD, "RBV", None),
    }


@override_settings(DEBUG=True)
def test_every_demo_account_logs_in_with_demo(organisations):
    call_command("create_demo_accounts")
    for username in ["analyst", "ics-qop", "lead-r0a"]:
        assert authenticate(username=username, password="demo") is not None


@override_settings(DEBUG=True)
def test_rerunning_creates_nothing_new_and_restores_the_password(organisations, capsys):
    call_command("create_demo_accounts")
    user = get_user_model().objects.get(username="lead-r0a")
    user.set_password("changed")
    user.save()
    call_command("create_demo_accounts")
    assert "0 created, 4 already there" in capsys.readouterr().out
    assert Membership.objects.count() == 4
    assert authenticate(username="lead-r0a", password="demo") is not None


@override_settings(DEBUG=False)
def test_refuses_when_debug_is_off(organisations):
    with pytest.raises(CommandError, match="only created when DEBUG is on"):
        call_command("create_demo_accounts")
    assert not get_user_model().objects.exists()


@override_settings(DEBUG=True)
def test_hashes_the_password_once(organisations, monkeypatch):
    import trusts.demo

    calls = []
    real = trusts.demo.make_password
    monkeypatch.setattr(trusts.demo, "make_password", lambda password: calls.append(password) or real(password))
    call_command("create_demo_accounts")
    assert calls == ["demo"]


@override_settings(DEBUG=True)
def test_demo_accounts_have_addresses_that_cannot_reach_a_real_mailbox(organisations):
    User = get_user_model()
    User.objects.create(username="lead-r0a")  # made before demo accounts had addresses
    User.objects.create(username="ics-qop", email="someone@nhs.net")
    create_demo_accounts()
    assert User.objects.get(username="analyst").email == "analyst@dma-demo.example"
    assert User.objects.get(username="lead-r0a").email == "lead-r0a@dma-demo.example"
    assert User.objects.get(username="ics-qop").email == "someone@nhs.net"
