from django.urls import reverse

from trusts import permissions
from trusts.context_processors import membership


def navigation(request):
    """The header: the user's organisation and own pages (from trusts), plus analysts' cycle and review pages."""
    context = membership(request)
    if context and permissions.can(request.user, permissions.MANAGE, None):
        context["nav_links"] = [
            *context["nav_links"],
            {"url": reverse("cycles"), "label": "Cycles"},
            {"url": reverse("ics_review_queue"), "label": "ICB reviews"},
        ]
    return context
