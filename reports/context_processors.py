from django.urls import reverse

from maturity.context_processors import navigation as maturity_navigation
from trusts import permissions


def navigation(request):
    """The header's links, from trusts and maturity, plus exports and (for analysts) the summaries page."""
    context = maturity_navigation(request)
    if not context:
        return context
    links = [
        *context["nav_links"],
        {"url": reverse("exports"), "label": "Exports"},
        {"url": reverse("api_docs"), "label": "API"},
        {"url": reverse("api_token"), "label": "API token"},
    ]
    if permissions.can(request.user, permissions.MANAGE, None):
        links.append({"url": reverse("summary_runs"), "label": "Summaries"})
    context["nav_links"] = links
    return context
