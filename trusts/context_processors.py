from trusts.places import home_places


def membership(request):
    """The header's organisation name and links to the user's own pages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    places = home_places(user)
    return {
        "user_organisation_name": ", ".join(place.organisation for place in places),
        "nav_links": [{"url": place.url, "label": place.label} for place in places if place.label != "England"],
    }
