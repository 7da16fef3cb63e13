"""The header's links for the signed-in user: the one context processor."""

from django.urls import reverse

from trusts import permissions
from trusts.actions import may_invite
from trusts.places import home_places


def navigation(request):
    """The user's organisation and own pages, the exports and API pages, and analysts' management pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    places = home_places(user)
    links = [{"url": place.url, "label": place.label} for place in places if place.label != "England"]
    if permissions.can(user, permissions.MANAGE, None):
        links += [
            {"url": reverse("cycles"), "label": "Cycles"},
            {"url": reverse("ics_review_queue"), "label": "ICB reviews"},
        ]
    if may_invite(user):
        links.append({"url": reverse("invitations"), "label": "Invitations"})
    links += [
        {"url": reverse("exports"), "label": "Exports"},
        {"url": reverse("api_docs"), "label": "API"},
        {"url": reverse("api_token"), "label": "API token"},
    ]
    if permissions.can(user, permissions.MANAGE, None):
        links.append({"url": reverse("summary_runs"), "label": "Summaries"})
    return {
        "user_organisation_name": ", ".join(place.organisation for place in places),
        "nav_links": links,
    }
