"""Which kinds of e-mail each person gets: every kind their roles can receive, until they switch it off."""

from django.db import transaction

from notifications.models import Kind, Preference
from trusts import permissions
from trusts.models import Role

# The kinds each role can receive (see recipients.py): a trust lead makes its trust's returns; an ICS reviewer
# reviews its member trusts' and makes its ICB's own; an analyst reviews the ICBs'.
KINDS_BY_ROLE = {
    Role.TRUST_LEAD: (Kind.RETURNED, Kind.APPROVED, Kind.REMINDER),
    Role.ICS_REVIEWER: (Kind.SUBMITTED, Kind.RETURNED, Kind.APPROVED, Kind.REMINDER),
    Role.ANALYST: (Kind.ICB_SUBMITTED,),
}


def kinds_for(user) -> list[Kind]:
    """In Kind's order, the kinds this person's memberships can bring them."""
    theirs = {kind for membership in permissions.memberships_of(user) for kind in KINDS_BY_ROLE[membership.role]}
    return [kind for kind in Kind if kind in theirs]


def switched_on(user) -> set[str]:
    off = set(Preference.objects.filter(user=user, enabled=False).values_list("kind", flat=True))
    return {kind for kind in kinds_for(user) if kind not in off}


@transaction.atomic
def choose(user, *, on: set[str]) -> None:
    """Record the person's choice for every kind they can receive: on for those in `on`, off for the rest."""
    for kind in kinds_for(user):
        Preference.objects.update_or_create(user=user, kind=kind, defaults={"enabled": kind in on})
