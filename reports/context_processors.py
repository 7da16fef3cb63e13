from django.urls import reverse

from maturity.context_processors import navigation as maturity_navigation
from trusts import permissions


def navigation(request):
    """The header's links, from trusts and maturity, plus the analysts' summaries page."""
    context = maturity_navigation(request)
    if context and permissions.can(request.user, permissions.MANAGE, None):
        context["nav_links"] = [*context["nav_links"], {"url": reverse("summary_runs"), "label": "Summaries"}]
    return context
