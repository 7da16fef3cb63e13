"""Role actions: who may give which role, membership dates, deactivation, and the role events they record."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from reports.models import ApiToken
from tests.factories import MembershipFactory, TrustFactory, UserFactory, api_token
from trusts import actions, permissions
from trusts.models import Membership, Role, RoleAction, RoleEvent, Trust


def fresh(user):
    """The user re-read, without the roles cached on the object for the request."""
    return get_user_model().objects.get(pk=user.pk)


def events(**filters):
    return list(RoleEvent.objects.filter(**filters).values_list("action", "role", flat=False))


def test_an_analyst_may_grant_any_role(world):
    person = UserFactory()
    actions.grant_role(by=world.users["analyst"], user=person, role=Role.ICS_REVIEWER, organisation=world.ics_b)
    assert permissions.can(fresh(person), permissions.REVIEW, world.trust_b1)


def test_a_reviewer_may_grant_a_trust_lead_of_its_own_ics(world):
    person = UserFactory()
    actions.grant_role(by=world.users["reviewer"], user=person, role=Role.TRUST_LEAD, organisation=world.trust_a2)
    assert permissions.can(fresh(person), permissions.EDIT, world.trust_a2)


@pytest.mark.parametrize(
    ("role", "organisation"),
    [(Role.TRUST_LEAD, "trust_b1"), (Role.ANALYST, None), (Role.ICS_REVIEWER, "ics_a")],
    ids=["another ICS's trust", "an analyst", "a reviewer of its own ICS"],
)
def test_a_reviewer_may_not_grant(world, role, organisation):
    with pytest.raises(PermissionDenied):
        actions.grant_role(
            by=world.users["reviewer"],
            user=UserFactory(),
            role=role,
            organisation=getattr(world, organisation) if organisation else None,
        )
    assert not RoleEvent.objects.exists()


@pytest.mark.parametrize("granter", ["lead", "no-role"])
def test_trust_leads_and_people_without_a_role_may_grant_nothing(world, granter):
    with pytest.raises(PermissionDenied):
        actions.grant_role(
            by=world.users[granter], user=UserFactory(), role=Role.TRUST_LEAD, organisation=world.trust_a1
        )


@pytest.mark.parametrize(
    ("role", "organisation", "message"),
    [
        (Role.TRUST_LEAD, "ics_a", "A trust lead belongs to a trust"),
        (Role.ICS_REVIEWER, "trust_a1", "An ICS reviewer belongs to an ICS"),
        (Role.ANALYST, "trust_a1", "Analysts belong to NHS England"),
        ("admin", None, "Choose a role"),
    ],
)
def test_the_organisation_must_match_the_role(world, role, organisation, message):
    with pytest.raises(actions.Invalid, match=message):
        actions.grant_role(
            by=world.users["analyst"],
            user=UserFactory(),
            role=role,
            organisation=getattr(world, organisation) if organisation else None,
        )


def test_a_closed_trust_gets_no_lead(world):
    closed = TrustFactory(code="RA4", ics=world.ics_a, closed_on=date(2023, 3, 31))
    with pytest.raises(actions.Invalid, match="closed on 31 March 2023"):
        actions.grant_role(by=world.users["analyst"], user=UserFactory(), role=Role.TRUST_LEAD, organisation=closed)


def test_a_grant_is_recorded_with_its_actor_and_organisation(world):
    person = UserFactory(username="pat")
    actions.grant_role(by=world.users["reviewer"], user=person, role=Role.TRUST_LEAD, organisation=world.trust_a2)
    event = RoleEvent.objects.get()
    assert (event.actor, event.subject, event.action, event.role, event.trust) == (
        world.users["reviewer"],
        person,
        RoleAction.GRANT,
        Role.TRUST_LEAD,
        world.trust_a2,
    )
    assert event.note == f"from {timezone.localdate():%Y-%m-%d}"


def test_granting_a_role_held_already_records_nothing(world):
    lead = world.users["lead"]
    actions.grant_role(by=world.users["analyst"], user=lead, role=Role.TRUST_LEAD, organisation=world.trust_a1)
    assert not RoleEvent.objects.exists()
    assert Membership.objects.filter(user=lead).count() == 1


def test_a_deactivated_account_gets_no_role(world):
    person = UserFactory(is_active=False)
    with pytest.raises(actions.RoleError, match="deactivated"):
        actions.grant_role(by=world.users["analyst"], user=person, role=Role.ANALYST)


def test_a_membership_not_yet_started_gives_nothing(world):
    person = UserFactory()
    tomorrow = timezone.localdate() + timedelta(days=1)
    actions.grant_role(
        by=world.users["analyst"], user=person, role=Role.TRUST_LEAD, organisation=world.trust_a1, starts_on=tomorrow
    )
    assert not permissions.can(fresh(person), permissions.VIEW, world.trust_a1)


def test_a_membership_counts_until_the_day_before_it_ends(world):
    today = timezone.localdate()
    ending_tomorrow = MembershipFactory(trust=world.trust_a2, ends_on=today + timedelta(days=1)).user
    ended_today = MembershipFactory(trust=world.trust_a2, starts_on=today - timedelta(days=9), ends_on=today).user
    assert permissions.can(ending_tomorrow, permissions.EDIT, world.trust_a2)
    assert not permissions.can(ended_today, permissions.EDIT, world.trust_a2)
    assert not Trust.objects.visible_to(ended_today).exists()


def test_revoking_ends_the_membership_today_and_is_recorded(world):
    lead = world.users["lead"]
    membership = Membership.objects.get(user=lead)
    actions.revoke_role(by=world.users["reviewer"], membership=membership)
    membership.refresh_from_db()
    assert membership.ends_on == timezone.localdate()
    assert not permissions.can(fresh(lead), permissions.VIEW, world.trust_a1)
    assert events(subject=lead) == [(RoleAction.REVOKE, Role.TRUST_LEAD)]


def test_a_reviewer_may_not_revoke_another_reviewer(world):
    other = MembershipFactory(role=Role.ICS_REVIEWER, trust=None, ics=world.ics_a)
    with pytest.raises(PermissionDenied):
        actions.revoke_role(by=world.users["reviewer"], membership=other)


def test_granting_an_ended_role_again_reopens_the_same_membership(world):
    lead = world.users["lead"]
    membership = Membership.objects.get(user=lead)
    actions.revoke_role(by=world.users["analyst"], membership=membership)
    actions.grant_role(by=world.users["analyst"], user=lead, role=Role.TRUST_LEAD, organisation=world.trust_a1)
    assert Membership.objects.filter(user=lead).count() == 1
    assert permissions.can(fresh(lead), permissions.EDIT, world.trust_a1)
    assert events(subject=lead) == [(RoleAction.REVOKE, Role.TRUST_LEAD), (RoleAction.GRANT, Role.TRUST_LEAD)]


def test_changing_dates_records_before_and_after(world):
    membership = Membership.objects.get(user=world.users["lead"])
    ends_on = membership.starts_on + timedelta(days=30)
    actions.set_membership_dates(
        by=world.users["analyst"], membership=membership, starts_on=membership.starts_on, ends_on=ends_on
    )
    event = RoleEvent.objects.get()
    assert event.action == RoleAction.CHANGE_DATES
    assert (
        event.note
        == f"from {membership.starts_on:%Y-%m-%d} → from {membership.starts_on:%Y-%m-%d} until {ends_on:%Y-%m-%d}"
    )


def test_a_membership_cannot_end_before_it_starts(world):
    membership = Membership.objects.get(user=world.users["lead"])
    with pytest.raises(actions.Invalid, match="on or after the start"):
        actions.set_membership_dates(
            by=world.users["analyst"],
            membership=membership,
            starts_on=membership.starts_on,
            ends_on=membership.starts_on - timedelta(days=1),
        )


def test_deactivating_closes_the_account_deletes_its_token_and_ends_its_roles(world):
    lead = world.users["lead"]
    api_token(lead)
    actions.deactivate_user(by=world.users["admin"], user=lead)
    lead.refresh_from_db()
    assert not lead.is_active
    assert not ApiToken.objects.filter(user=lead).exists()
    assert not Membership.objects.current().filter(user=lead).exists()
    assert events(subject=lead) == [(RoleAction.REVOKE, Role.TRUST_LEAD), (RoleAction.DEACTIVATE, "")]
    assert RoleEvent.objects.get(action=RoleAction.DEACTIVATE).note == "API token deleted"


def test_deactivating_twice_records_once(world):
    lead = world.users["lead"]
    actions.deactivate_user(by=world.users["analyst"], user=lead)
    actions.deactivate_user(by=world.users["analyst"], user=lead)
    assert RoleEvent.objects.filter(action=RoleAction.DEACTIVATE).count() == 1


def test_reviewers_may_not_deactivate(world):
    with pytest.raises(PermissionDenied):
        actions.deactivate_user(by=world.users["reviewer"], user=world.users["lead"])


def test_nobody_deactivates_their_own_account(world):
    with pytest.raises(actions.RoleError, match="your own account"):
        actions.deactivate_user(by=world.users["admin"], user=world.users["admin"])


def test_reactivating_opens_the_account_once_and_only_for_analysts_and_admins(world):
    lead = world.users["lead"]
    actions.deactivate_user(by=world.users["analyst"], user=lead)
    with pytest.raises(PermissionDenied):
        actions.reactivate_user(by=world.users["reviewer"], user=lead)
    actions.reactivate_user(by=world.users["analyst"], user=lead)
    actions.reactivate_user(by=world.users["analyst"], user=lead)
    lead.refresh_from_db()
    assert lead.is_active
    assert RoleEvent.objects.filter(action=RoleAction.REACTIVATE, subject=lead).count() == 1
