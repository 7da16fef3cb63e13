"""The API asks the same questions as the pages, through trusts.permissions and maturity.access: lists hold what a
user may open; an object they may not open answers 403 and an unknown one 404, as the pages do."""

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
