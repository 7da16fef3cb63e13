"""Who may see and change which organisation: the one place that answers it, for every view and the API.

Actions:
- VIEW:       open the organisation's page (a trust, an ICS, a region, or England when the object is None);
- VIEW_NAMED: see data entered here by the organisation's trusts with their names, rather than in aggregates;
- EDIT:       change the organisation's own assessments (a lead its trust's, an ICS reviewer its ICS's);
- REVIEW:     return or approve the organisation's submitted assessments (an ICS reviewer its member trusts',
              an analyst an ICS's);
- MANAGE:     cycles, frameworks and reference data (analysts; the object is None).

Admins (superusers) may do everything. Unknown actions are refused.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from trusts.models import ICS, Membership, Region, Role, Trust

VIEW = "view"
VIEW_NAMED = "view_named"
EDIT = "edit"
REVIEW = "review"
MANAGE = "manage"


@dataclass(frozen=True)
class Access:
    """What one user's memberships add up to; read once per request."""

    is_admin: bool
    is_analyst: bool
    led_trust_ids: frozenset[int]
    led_trusts_ics_ids: frozenset[int]
    reviewed_ics_ids: frozenset[int]

    @property
    def sees_everything(self):
        return self.is_admin or self.is_analyst


NO_ACCESS = Access(False, False, frozenset(), frozenset(), frozenset())


def access_of(user) -> Access:
    if not user.is_authenticated or not user.is_active:
        return NO_ACCESS
    cached = getattr(user, "_dma_access", None)
    if cached is None:
        memberships = list(
            Membership.objects.filter(user=user).select_related("trust").only("role", "trust__ics_id", "ics_id")
        )
        cached = Access(
            is_admin=user.is_superuser,
            is_analyst=any(m.role == Role.ANALYST for m in memberships),
            led_trust_ids=frozenset(m.trust_id for m in memberships if m.role == Role.TRUST_LEAD),
            led_trusts_ics_ids=frozenset(m.trust.ics_id for m in memberships if m.role == Role.TRUST_LEAD),
            reviewed_ics_ids=frozenset(m.ics_id for m in memberships if m.role == Role.ICS_REVIEWER),
        )
        user._dma_access = cached
    return cached


def can(user, action: str, obj: Trust | ICS | Region | None) -> bool:
    if not user.is_authenticated:
        return False
    access = access_of(user)
    if access.is_admin:
        return True
    if isinstance(obj, Trust):
        return _can_on_trust(access, action, obj)
    if isinstance(obj, ICS):
        return _can_on_ics(access, action, obj)
    if isinstance(obj, Region):
        return _can_on_area(access, action)
    if obj is None:
        return _can_on_area(access, action) or (action == MANAGE and access.is_analyst)
    return False


def require(user, action: str, obj: Trust | ICS | Region | None) -> None:
    if not can(user, action, obj):
        raise PermissionDenied(f"You may not {action.replace('_', ' ')} this organisation.")


def _can_on_trust(access: Access, action: str, trust: Trust) -> bool:
    leads_it = trust.pk in access.led_trust_ids
    reviews_it = trust.ics_id in access.reviewed_ics_ids
    if action in (VIEW, VIEW_NAMED):
        return access.is_analyst or leads_it or reviews_it
    if action == EDIT:
        return leads_it
    if action == REVIEW:
        return reviews_it
    return False


def _can_on_ics(access: Access, action: str, ics: ICS) -> bool:
    reviews_it = ics.pk in access.reviewed_ics_ids
    if action == VIEW:
        return access.is_analyst or reviews_it or ics.pk in access.led_trusts_ics_ids
    if action == VIEW_NAMED:
        return access.is_analyst or reviews_it
    if action == EDIT:
        return reviews_it
    if action == REVIEW:
        return access.is_analyst
    return False


def _can_on_area(access: Access, action: str) -> bool:
    """Regions and England: everyone sees the aggregates, analysts see the names."""
    if action == VIEW:
        return True
    if action == VIEW_NAMED:
        return access.is_analyst
    return False


def trusts_visible_to(user) -> Q:
    """A filter for Trust querysets: the trusts whose pages this user may open."""
    access = access_of(user)
    if access.sees_everything:
        return Q()
    return Q(pk__in=access.led_trust_ids) | Q(ics_id__in=access.reviewed_ics_ids)


def icss_visible_to(user) -> Q:
    """A filter for ICS querysets: the ICSs whose pages this user may open."""
    access = access_of(user)
    if access.sees_everything:
        return Q()
    return Q(pk__in=access.led_trusts_ics_ids | access.reviewed_ics_ids)
