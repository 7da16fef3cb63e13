from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from trusts import permissions
from trusts.models import ICS, Region, Trust
from trusts.places import home_places

ENGLAND = ("England", "/national/")


@login_required
def home(request):
    places = home_places(request.user)
    if len(places) == 1:
        return redirect(places[0].url)
    return render(request, "trusts/home.html", {"places": places})


def national_context(request) -> dict:
    """England's page, organisation part: regions with their ICSs. Served by reports with the dashboard."""
    permissions.require(request.user, permissions.VIEW, None)
    icss = ICS.objects.with_trust_counts().order_by("name")
    regions = Region.objects.prefetch_related(Prefetch("icss", queryset=icss)).order_by("name")
    visible_ics_ids = set(ICS.objects.visible_to(request.user).values_list("pk", flat=True))
    rows = [
        {
            "region": region,
            "icss": [(ics, ics.pk in visible_ics_ids) for ics in region.icss.all()],
            "trust_count": sum(ics.open_trust_count for ics in region.icss.all()),
        }
        for region in regions
    ]
    return {
        "rows": rows,
        "ics_count": sum(len(row["icss"]) for row in rows),
        "trust_count": sum(row["trust_count"] for row in rows),
    }


def region_context(request, code) -> dict:
    """A region's page, organisation part. Served by reports with the dashboard."""
    region = get_object_or_404(Region, code=code.upper())
    permissions.require(request.user, permissions.VIEW, region)
    icss = ICS.objects.in_region(region).with_trust_counts().order_by("name")
    visible_ics_ids = set(ICS.objects.visible_to(request.user).values_list("pk", flat=True))
    type_counts = (
        Trust.objects.open().in_region(region).values("trust_type").annotate(n=Count("pk")).order_by("trust_type")
    )
    return {
        "region": region,
        "icss": [(ics, ics.pk in visible_ics_ids) for ics in icss],
        "trust_count": sum(ics.open_trust_count for ics in icss),
        "type_counts": _labelled_type_counts(type_counts),
        "breadcrumbs": [ENGLAND],
    }


def ics_context(request, code) -> dict:
    """The ICS page's organisation part. The page itself is served by maturity, which adds the assessments."""
    ics = get_object_or_404(ICS.objects.select_related("region"), code=code.upper())
    permissions.require(request.user, permissions.VIEW, ics)
    trusts = Trust.objects.in_ics(ics).prefetch_related("care_settings").order_by("name")
    visible_trust_ids = set(Trust.objects.in_ics(ics).visible_to(request.user).values_list("pk", flat=True))
    located_elsewhere = (
        Trust.objects.open().filter(geographic_ics=ics).exclude(ics=ics).select_related("ics").order_by("name")
    )
    return {
        "ics": ics,
        "trusts": [(trust, trust.pk in visible_trust_ids) for trust in trusts],
        "located_elsewhere": located_elsewhere,
        "breadcrumbs": [ENGLAND, (ics.region.name, reverse("region", args=[ics.region.code]))],
    }


def trust_context(request, code) -> dict:
    """The trust page's organisation part. The page itself is served by maturity, which adds the assessments."""
    trust = get_object_or_404(
        Trust.objects.select_related("ics__region", "geographic_ics").prefetch_related("care_settings"),
        code=code.upper(),
    )
    permissions.require(request.user, permissions.VIEW, trust)
    region = trust.ics.region
    return {
        "trust": trust,
        "can_view_ics": permissions.can(request.user, permissions.VIEW, trust.ics),
        "breadcrumbs": [
            ENGLAND,
            (region.name, reverse("region", args=[region.code])),
            (trust.ics.short_name, reverse("ics", args=[trust.ics.code])),
        ],
    }


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


def _labelled_type_counts(type_counts):
    labels = dict(Trust._meta.get_field("trust_type").choices)
    return [(labels[row["trust_type"]], row["n"]) for row in type_counts]
