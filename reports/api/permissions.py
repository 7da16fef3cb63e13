"""The API asks the same questions as the pages, through trusts.permissions and maturity.access: lists hold what a
user may open; an object they may not open answers 403 and an unknown one 404, as the pages do."""

from django.db.models import Q
from rest_framework.permissions import BasePermission

from maturity import access
from maturity.models import Assessment
from trusts import permissions


class MayOpen(BasePermission):
    """Object level: VIEW for an organisation, maturity.access.may_view for an assessment (named data)."""

    message = "You may not open this."

    def has_object_permission(self, request, view, obj):
        if isinstance(obj, Assessment):
            return access.may_view(request.user, obj)
        return permissions.can(request.user, permissions.VIEW, obj)


def assessments_visible_to(user) -> Q:
    """A filter for Assessment querysets holding exactly the assessments maturity.access.may_view allows: a trust's
    follow the trust (its leads, its ICS's reviewers), an ICS's own follow the ICS (its reviewers); analysts and
    admins see all. The tests check it against may_view, assessment by assessment."""
    user_access = permissions.access_of(user)
    if user_access.sees_everything:
        return Q()
    return (
        Q(trust__isnull=False, trust_id__in=user_access.led_trust_ids)
        | Q(trust__isnull=False, trust__ics_id__in=user_access.reviewed_ics_ids)
        | Q(trust__isnull=True, ics_id__in=user_access.reviewed_ics_ids)
    )
