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


# Data entered here is named only to its trust, that trust's ICS reviewers and analysts; everyone else sees it only
# in aggregates over at least this many assessments.
MIN_GROUP = 5


@dataclass(frozen=True)
class Viewer:
    """What one user may see and do, from their memberships; read once per request. It is the one answer to "who may
    see what" for reads: the QuerySet methods `shown_to(viewer)` on assessments and on the summary tables apply it,
    and every dashboard, chart CSV, export and API endpoint reads through them.

    An assessment is judged by the ICS it recorded in its cycle (the summary rows carry that ICS's code), so a trust
    that moves ICS takes its earlier returns' visibility with the ICS that reviewed them."""

    signed_in: bool
    is_admin: bool
    is_analyst: bool
    led_trust_ids: frozenset[int]
    led_trust_codes: frozenset[str]
    led_trusts_ics_ids: frozenset[int]
    reviewed_ics_ids: frozenset[int]
    reviewed_ics_codes: frozenset[str]

    @property
    def sees_everything(self) -> bool:
        return self.is_admin or self.is_analyst

    def names_ics(self, ics_code: str) -> bool:
        """Sees the entered data of every trust recorded in this ICS, and the ICB's own return, by name."""
        return self.sees_everything or ics_code in self.reviewed_ics_codes

    def names_assessment(self, trust_id: int | None, ics_id: int) -> bool:
        """Sees one entered assessment by name (its trust's leads, the reviewers of the ICS it recorded, analysts);
        the same rule as AssessmentQuerySet.named_to."""
        if self.sees_everything or ics_id in self.reviewed_ics_ids:
            return True
        return trust_id is not None and trust_id in self.led_trust_ids

    @property
    def scope_key(self) -> str:
        """Equal for viewers who see the same rows: part of cached dashboards' keys."""
        if not self.signed_in:
            return "nobody"
        if self.sees_everything:
            return "all"
        return f"t={','.join(sorted(self.led_trust_codes))};i={','.join(sorted(self.reviewed_ics_codes))}"


NOBODY = Viewer(False, False, False, frozenset(), frozenset(), frozenset(), frozenset(), frozenset())


def memberships_of(user) -> list[Membership]:
    """The user's memberships in force today with their organisations, analysts' first; read once per request (kept
    on the user object), for the viewer and the header alike. The one place roles are read: a membership not yet
    started or already ended gives nothing."""
    cached = getattr(user, "_dma_memberships", None)
    if cached is None:
        cached = list(
            Membership.objects.current().filter(user=user).select_related("trust", "ics").order_by("role", "pk")
        )
        user._dma_memberships = cached
    return cached


def roles_in_force(user) -> tuple:
    """(id, role, trust id, ICS id) of each of the user's memberships in force today, in id order: what a cached page
    is keyed on. Read with the user by trusts.backends on every signed-in request; else here."""
    cached = getattr(user, "roles_in_force", None)
    if cached is None:
        found = Membership.objects.current().filter(user=user).order_by("pk")
        cached = user.roles_in_force = tuple(found.values_list("pk", "role", "trust_id", "ics_id"))
    return cached


def viewer_of(user) -> Viewer:
    if not user.is_authenticated or not user.is_active:
        return NOBODY
    cached = getattr(user, "_dma_viewer", None)
    if cached is None:
        memberships = memberships_of(user)
        leads = [m for m in memberships if m.role == Role.TRUST_LEAD]
        reviews = [m for m in memberships if m.role == Role.ICS_REVIEWER]
        cached = Viewer(
            signed_in=True,
            is_admin=user.is_superuser,
            is_analyst=any(m.role == Role.ANALYST for m in memberships),
            led_trust_ids=frozenset(m.trust_id for m in leads),
            led_trust_codes=frozenset(m.trust.code for m in leads),
            led_trusts_ics_ids=frozenset(m.trust.ics_id for m in leads),
            reviewed_ics_ids=frozenset(m.ics_id for m in reviews),
            reviewed_ics_codes=frozenset(m.ics.code for m in reviews),
        )
        user._dma_viewer = cached
    return cached


def can(user, action: str, obj: Trust | ICS | Region | None) -> bool:
    if not user.is_authenticated:
        return False
    access = viewer_of(user)
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


def _can_on_trust(access: Viewer, action: str, trust: Trust) -> bool:
    leads_it = trust.pk in access.led_trust_ids
    reviews_it = trust.ics_id in access.reviewed_ics_ids
    if action in (VIEW, VIEW_NAMED):
        return access.is_analyst or leads_it or reviews_it
    if action == EDIT:
        return leads_it
    if action == REVIEW:
        return reviews_it
    return False


def _can_on_ics(access: Viewer, action: str, ics: ICS) -> bool:
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


def _can_on_area(access: Viewer, action: str) -> bool:
    """Regions and England: everyone sees the aggregates, analysts see the names."""
    if action == VIEW:
        return True
    if action == VIEW_NAMED:
        return access.is_analyst
    return False


def trusts_visible_to(user) -> Q:
    """A filter for Trust querysets: the trusts whose pages this user may open."""
    access = viewer_of(user)
    if access.sees_everything:
        return Q()
    return Q(pk__in=access.led_trust_ids) | Q(ics_id__in=access.reviewed_ics_ids)


def icss_visible_to(user) -> Q:
    """A filter for ICS querysets: the ICSs whose pages this user may open."""
    access = viewer_of(user)
    if access.sees_everything:
        return Q()
    return Q(pk__in=access.led_trusts_ics_ids | access.reviewed_ics_ids)
