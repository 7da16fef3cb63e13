import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied

from trusts import permissions
from trusts.models import ICS, Trust
from trusts.permissions import EDIT, MANAGE, REVIEW, VIEW, VIEW_NAMED

# For each role: the objects (by name in the world fixture) on which each action is allowed. Everything else is refused.
ALLOWED = {
    "lead": {
        VIEW: {"trust_a1", "ics_a", "north", "south", "england"},
        VIEW_NAMED: {"trust_a1"},
        EDIT: {"trust_a1"},
        REVIEW: set(),
        MANAGE: set(),
    },
    "reviewer": {
        VIEW: {"trust_a1", "trust_a2", "ics_a", "north", "south", "england"},
        VIEW_NAMED: {"trust_a1", "trust_a2", "ics_a"},
        EDIT: {"ics_a"},
        REVIEW: {"trust_a1", "trust_a2"},
        MANAGE: set(),
    },
    "analyst": {
        VIEW: {"trust_a1", "trust_a2", "trust_b1", "ics_a", "ics_b", "north", "south", "england"},
        VIEW_NAMED: {"trust_a1", "trust_a2", "trust_b1", "ics_a", "ics_b", "north", "south", "england"},
        EDIT: set(),
        REVIEW: {"ics_a", "ics_b"},
        MANAGE: {"england"},
    },
    "no-role": {
        VIEW: {"north", "south", "england"},
        VIEW_NAMED: set(),
        EDIT: set(),
        REVIEW: set(),
        MANAGE: set(),
    },
}
OBJECTS = ["trust_a1", "trust_a2", "trust_b1", "ics_a", "ics_b", "north", "south", "england"]
ACTIONS = [VIEW, VIEW_NAMED, EDIT, REVIEW, MANAGE]


def obj(world, name):
    return None if name == "england" else getattr(world, name)


@pytest.mark.parametrize("role", ALLOWED)
@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("name", OBJECTS)
def test_each_role_may_do_exactly_what_the_design_allows(world, role, action, name):
    expected = name in ALLOWED[role][action]
    assert permissions.can(world.users[role], action, obj(world, name)) is expected


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("name", OBJECTS)
def test_an_admin_may_do_everything(world, action, name):
    assert permissions.can(world.users["admin"], action, obj(world, name))


@pytest.mark.parametrize("name", OBJECTS)
def test_an_anonymous_user_may_do_nothing(world, name):
    assert not any(permissions.can(AnonymousUser(), action, obj(world, name)) for action in ACTIONS)


def test_an_inactive_user_sees_nothing_of_its_organisation(world):
    lead = world.users["lead"]
    lead.is_active = False
    lead.save()
    lead.refresh_from_db()
    assert not permissions.can(lead, VIEW, world.trust_a1)


def test_an_unknown_action_is_refused(world):
    assert not permissions.can(world.users["analyst"], "delete", world.trust_a1)


def test_require_raises_permission_denied(world):
    with pytest.raises(PermissionDenied):
        permissions.require(world.users["lead"], VIEW, world.trust_b1)


@pytest.mark.parametrize(
    ("role", "trusts", "icss"),
    [
        ("lead", {"R0A"}, {"QOP"}),
        ("reviewer", {"R0A", "RBV"}, {"QOP"}),
        ("analyst", {"R0A", "RBV", "R0D"}, {"QOP", "QVV"}),
        ("admin", {"R0A", "RBV", "R0D"}, {"QOP", "QVV"}),
        ("no-role", set(), set()),
    ],
)
def test_visible_querysets_match_the_view_permission(world, role, trusts, icss):
    user = world.users[role]
    assert set(Trust.objects.visible_to(user).values_list("code", flat=True)) == trusts
    assert set(ICS.objects.visible_to(user).values_list("code", flat=True)) == icss


def test_a_user_who_leads_two_trusts_sees_both(world):
    from tests.factories import MembershipFactory

    lead = world.users["lead"]
    MembershipFactory(user=lead, trust=world.trust_b1)
    lead.refresh_from_db()  # the access cache lives on the instance
    assert permissions.can(lead, EDIT, world.trust_b1)
    assert permissions.can(lead, VIEW, world.ics_b)
    assert set(Trust.objects.visible_to(lead).values_list("code", flat=True)) == {"R0A", "R0D"}


def test_access_is_read_once_per_user_object(world, django_assert_num_queries):
    lead = world.users["lead"]
    with django_assert_num_queries(1):
        for name in OBJECTS:
            permissions.can(lead, VIEW, obj(world, name))
