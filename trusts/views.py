from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse

from trusts.models import ICS, Trust
from trusts.places import home_places


@login_required
def home(request):
    places = home_places(request.user)
    if len(places) == 1:
        return redirect(places[0].url)
    return render(request, "trusts/home.html", {"places": places})


@login_required
def search(request):
    query = request.GET.get("q", "").strip()
    trusts, icss = Trust.objects.none(), ICS.objects.none()
    if query:
        trusts = Trust.objects.visible_to(request.user).search(query).select_related("ics").order_by("name")
        icss = ICS.objects.visible_to(request.user).search(query).select_related("region").order_by("name")
        exact = [org for org in (*trusts, *icss) if org.code == query.upper()]
        if len(exact) == 1:
            return redirect(_page_of(exact[0]))
    return render(
        request,
        "trusts/search.html",
        {"search_query": query, "trusts": trusts, "icss": icss, "result_count": len(trusts) + len(icss)},
    )


def _page_of(organisation):
    if isinstance(organisation, Trust):
        return reverse("trust", args=[organisation.code])
    return reverse("ics", args=[organisation.code])
