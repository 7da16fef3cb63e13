"""The admin: accounts with their memberships, every role change through trusts.actions (so audited), cycles and
frameworks read-only."""

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from maturity.models import FrameworkKind
from reports.models import ApiToken
from tests.factories import CycleFactory, api_token, small_framework
from trusts.models import Membership, Role, RoleAction, RoleEvent


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.users["admin"])
    return client


def user_form(user, **changes):
    """The user change form's fields as the page posts them, with the memberships inline as they stand."""
    memberships = list(Membership.objects.filter(user=user).order_by("pk"))
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "memberships-TOTAL_FORMS": str(len(memberships)),
        "memberships-INITIAL_FORMS": str(len(memberships)),
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    for i, membership in enumerate(memberships):
        data |= {
            f"memberships-{i}-id": str(membership.pk),
            f"memberships-{i}-user": str(user.pk),
            f"memberships-{i}-starts_on": membership.starts_on.isoformat(),
            # A field with a callable default carries its first value in a hidden input, to tell if it changed.
            f"initial-memberships-{i}-starts_on": membership.starts_on.isoformat(),
            f"memberships-{i}-ends_on": membership.ends_on.isoformat() if membership.ends_on else "",
        }
    return {key: value for key, value in (data | changes).items() if value != ""}


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/auth/user/",
        "/admin/trusts/membership/",
        "/admin/trusts/invitation/",
        "/admin/trusts/roleevent/",
        "/admin/trusts/trust/",
        "/admin/maturity/cycle/",
        "/admin/maturity/framework/",
        "/admin/auth/user/add/",
        "/admin/trusts/membership/add/",
    ],
)
def test_the_admin_pages_load_for_a_superuser(admin_client, url):
    assert admin_client.get(url).status_code == 200


def test_a_users_page_shows_their_memberships(admin_client, world):
    lead = world.users["lead"]
    page = admin_client.get(f"/admin/auth/user/{lead.pk}/change/").content.decode()
    assert "Memberships" in page
    assert "Manchester University NHS Foundation Trust" in page
    assert 'name="memberships-0-ends_on"' in page


def test_the_membership_list_shows_role_organisation_and_dates(admin_client, world):
    page = admin_client.get("/admin/trusts/membership/").content.decode()
    assert "The Christie NHS Foundation Trust" not in page  # nobody leads it
    for text in ("lead-r0a", "Trust lead", "Manchester University NHS Foundation Trust", "ICS reviewer", "Analyst"):
        assert text in page


def test_a_membership_added_inline_is_granted_through_the_action(admin_client, world):
    lead = world.users["lead"]
    data = user_form(lead)
    data |= {
        "memberships-TOTAL_FORMS": "2",
        "memberships-1-role": Role.TRUST_LEAD,
        "memberships-1-trust": str(world.trust_a2.pk),
        "memberships-1-starts_on": timezone.localdate().isoformat(),
    }
    response = admin_client.post(f"/admin/auth/user/{lead.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()
    assert Membership.objects.filter(user=lead, trust=world.trust_a2).exists()
    event = RoleEvent.objects.get()
    assert (event.actor, event.action, event.trust) == (world.users["admin"], RoleAction.GRANT, world.trust_a2)


def test_ending_a_membership_inline_is_recorded(admin_client, world):
    lead = world.users["lead"]
    today = timezone.localdate().isoformat()
    response = admin_client.post(
        f"/admin/auth/user/{lead.pk}/change/", user_form(lead, **{"memberships-0-ends_on": today})
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=lead).ends_on.isoformat() == today
    assert RoleEvent.objects.get().action == RoleAction.CHANGE_DATES


def test_an_inline_membership_naming_the_wrong_organisation_is_refused_on_the_page(admin_client, world):
    lead = world.users["lead"]
    data = user_form(lead)
    data |= {
        "memberships-TOTAL_FORMS": "2",
        "memberships-1-role": Role.ICS_REVIEWER,
        "memberships-1-trust": str(world.trust_a2.pk),
        "memberships-1-starts_on": timezone.localdate().isoformat(),
    }
    response = admin_client.post(f"/admin/auth/user/{lead.pk}/change/", data)
    assert response.status_code == 200
    assert "An ICS reviewer belongs to an ICS" in response.content.decode()
    assert not RoleEvent.objects.exists()


def test_the_membership_list_action_ends_memberships_through_the_action(admin_client, world):
    membership = Membership.objects.get(user=world.users["lead"])
    admin_client.post("/admin/trusts/membership/", {"action": "end_today", "_selected_action": [str(membership.pk)]})
    membership.refresh_from_db()
    assert membership.ends_on == timezone.localdate()
    assert RoleEvent.objects.get().action == RoleAction.REVOKE


def test_unticking_active_deactivates_through_the_action_and_the_token_stops_working(admin_client, world, client):
    lead = world.users["lead"]
    api = {"HTTP_AUTHORIZATION": f"Token {api_token(lead)}"}
    assert client.get("/api/v1/trusts/", **api).status_code == 200
    response = admin_client.post(f"/admin/auth/user/{lead.pk}/change/", user_form(lead, is_active=""))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert not lead.is_active
    assert not ApiToken.objects.filter(user=lead).exists()
    assert not Membership.objects.current().filter(user=lead).exists()
    assert client.get("/api/v1/trusts/", **api).status_code == 401
    actions = list(RoleEvent.objects.filter(subject=lead).values_list("actor__username", "action"))
    assert actions == [("admin", RoleAction.REVOKE), ("admin", RoleAction.DEACTIVATE)]


def test_the_user_list_action_deactivates(admin_client, world):
    lead = world.users["lead"]
    admin_client.post("/admin/auth/user/", {"action": "deactivate", "_selected_action": [str(lead.pk)]})
    assert not get_user_model().objects.get(pk=lead.pk).is_active
    assert RoleEvent.objects.filter(action=RoleAction.DEACTIVATE, subject=lead).exists()


@pytest.fixture
def cycle(db):
    return CycleFactory(
        year=2026, trust_framework=small_framework(), ics_framework=small_framework(kind=FrameworkKind.ICS)
    )


@pytest.mark.parametrize("model", ["cycle", "framework"])
def test_cycles_and_frameworks_are_listed_and_viewed_only(admin_client, cycle, model):
    obj = cycle if model == "cycle" else cycle.trust_framework
    listing = admin_client.get(f"/admin/maturity/{model}/").content.decode()
    assert f"/admin/maturity/{model}/{obj.pk}/change/" in listing
    assert f"/admin/maturity/{model}/add/" not in listing
    assert admin_client.get(f"/admin/maturity/{model}/add/").status_code == 403
    view = admin_client.get(f"/admin/maturity/{model}/{obj.pk}/change/").content.decode()
    assert 'type="submit"' not in view.split('id="content-main"')[1]
    assert admin_client.post(f"/admin/maturity/{model}/{obj.pk}/change/", {}).status_code == 403
    assert admin_client.get(f"/admin/maturity/{model}/{obj.pk}/delete/").status_code == 403


def test_a_membership_added_on_its_own_page_is_granted_through_the_action(admin_client, world):
    person = world.users["no-role"]
    response = admin_client.post(
        "/admin/trusts/membership/add/",
        {
            "user": str(person.pk),
            "role": Role.ICS_REVIEWER,
            "ics": str(world.ics_b.pk),
            "starts_on": timezone.localdate().isoformat(),
        },
    )
    membership = Membership.objects.get(user=person)
    assert response.status_code == 302
    assert response.url == "/admin/trusts/membership/"
    assert membership.ics == world.ics_b
    event = RoleEvent.objects.get()
    assert (event.actor, event.action, event.subject) == (world.users["admin"], RoleAction.GRANT, person)
    assert admin_client.get(f"/admin/trusts/membership/{membership.pk}/change/").status_code == 200


def test_ticking_active_again_reactivates_through_the_action_and_roles_stay_ended(admin_client, world):
    lead = world.users["lead"]
    admin_client.post(f"/admin/auth/user/{lead.pk}/change/", user_form(lead, is_active=""))
    lead.refresh_from_db()
    response = admin_client.post(f"/admin/auth/user/{lead.pk}/change/", user_form(lead, is_active="on"), follow=True)
    assert "Its roles stay ended" in response.content.decode()
    lead.refresh_from_db()
    assert lead.is_active
    assert not Membership.objects.current().filter(user=lead).exists()
    actions = list(RoleEvent.objects.filter(subject=lead).values_list("actor__username", "action"))
    assert actions[-1] == ("admin", RoleAction.REACTIVATE)
