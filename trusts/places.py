"""Where each user belongs: the pages their roles lead to, for the home page and the header."""

from dataclasses import dataclass

from django.urls import reverse

from trusts.models import Role
from trusts.permissions import memberships_of


@dataclass(frozen=True)
class Place:
    label: str
    organisation: str
    url: str


def home_places(user) -> list[Place]:
    """The pages a user's roles take them to, analysts' first. An admin with no role lands on England.
    Kept on the user object: the header asks on every page, the home page again."""
    cached = getattr(user, "_dma_places", None)
    if cached is not None:
        return cached
    places = []
    for membership in memberships_of(user):
        if membership.role == Role.ANALYST:
            places.append(Place("England", "NHS England", reverse("national")))
        elif membership.role == Role.ICS_REVIEWER:
            places.append(Place("My ICS", membership.ics.name, reverse("ics", args=[membership.ics.code])))
        else:
            places.append(Place("My trust", membership.trust.name, reverse("trust", args=[membership.trust.code])))
    if not places and user.is_superuser:
        places.append(Place("England", "Administrator", reverse("national")))
    user._dma_places = places
    return places
