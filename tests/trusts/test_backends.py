from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import MembershipFactory, UserFactory
from trusts import permissions
from trusts.backends import UserWithRolesBackend
from trusts.models import Membership, Role


def test_the_roles_read_with_the_user_are_exactly_the_memberships_in_force_today(db):
    today = timezone.localdate()
    user = UserFactory()
    spans = [
        (today - timedelta(days=30), None),  # open-ended
        (today, None),  # starts today
        (today + timedelta(days=1), None),  # not yet started
        (today - timedelta(days=30), today),  # ends today: no longer in force
        (today - timedelta(days=30), today + timedelta(days=1)),  # its last day
        (today - timedelta(days=30), today - timedelta(days=1)),  # ended
    ]
    for starts_on, ends_on in spans:
        MembershipFactory(user=user, role=Role.TRUST_LEAD, starts_on=starts_on, ends_on=ends_on)
    MembershipFactory(role=Role.TRUST_LEAD)  # someone else's

    with CaptureQueriesContext(connection) as captured:
        loaded = UserWithRolesBackend().get_user(user.pk)

    assert len(captured) == 1
    assert loaded == user
    in_force = Membership.objects.current().filter(user=user).order_by("pk")
    assert loaded.roles_in_force == tuple(in_force.values_list("pk", "role", "trust_id", "ics_id"))
    assert len(loaded.roles_in_force) == 3
    assert permissions.roles_in_force(loaded) == loaded.roles_in_force


def test_a_user_without_roles_an_inactive_user_and_an_unknown_id(db):
    assert UserWithRolesBackend().get_user(UserFactory().pk).roles_in_force == ()
    assert UserWithRolesBackend().get_user(UserFactory(is_active=False).pk) is None
    assert UserWithRolesBackend().get_user(10**9) is None


def test_roles_are_read_from_the_database_for_a_user_not_loaded_by_the_backend(db):
    user = MembershipFactory(role=Role.TRUST_LEAD).user
    membership = user.memberships.get()

    assert permissions.roles_in_force(user) == ((membership.pk, Role.TRUST_LEAD, membership.trust_id, None),)
