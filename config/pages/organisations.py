"""England, region, ICS and trust pages: the organisation details, the assessments of the current cycles (for those
who may see them by name) and the dashboard. `?cycle=` picks the dashboard's cycle, and `?chart=<id>&format=csv`
downloads exactly one chart's data."""

import hashlib
from pathlib import Path

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe

from config.pages import board_pack
from config.pages.page_cache import cached_page
from maturity.models import Assessment, Cycle, Status
from maturity.pages import published_indicators_for_trust
from maturity.published import published_results_for_trust
from planning import plans
from reports.dashboards import sections
from reports.dashboards.charts import chart_csv
from reports.summaries import versions
from trusts import permissions
from trusts.models import ICS, Region, Trust
from trusts.ods import ORGANISATIONS_TOKEN, organisations_token

ENGLAND = ("England", "/national/")


def _pages_token() -> str:
    """A digest of the templates of the organisation parts, so a deploy never shows a part cached by other code."""
    templates = Path(__file__).resolve().parents[2] / "templates"
    paths = sorted([*templates.glob("trusts/_*.html"), *templates.glob("maturity/_trust_published.html")])
    # The board pack's layout is decided in code as well as in its template.
    paths.append(Path(board_pack.__file__))
    return hashlib.md5(b"".join(path.read_bytes() for path in paths), usedforsecurity=False).hexdigest()[:8]


PAGES_TOKEN = _pages_token()

# plotly.js styles its SVG inline; scripts stay 'self' only.
charts_allowed = csp_update({"style-src": UNSAFE_INLINE})


@login_required
@charts_allowed
@cached_page
def national(request):
    permissions.require(request.user, permissions.VIEW, None)

    def organisation():
        icss = ICS.objects.with_trust_counts().order_by("name")
        regions = Region.objects.prefetch_related(Prefetch("icss", queryset=icss)).order_by("name")
        openable = _openable_ics_ids(request.user)
        rows = [
            {
                "region": region,
                "icss": [(ics, ics.pk in openable) for ics in region.icss.all()],
                "trust_count": sum(ics.open_trust_count for ics in region.icss.all()),
            }
            for region in regions
        ]
        return _fragment(
            "trusts/_national_regions.html",
            {"rows": rows},
            region_count=len(rows),
            ics_count=sum(len(row["icss"]) for row in rows),
            trust_count=sum(row["trust_count"] for row in rows),
        )

    return _page(
        request,
        "pages/national.html",
        {},
        organisation,
        lambda y, c: sections.area_dashboard(None, y, c, request.user),
    )


@login_required
@charts_allowed
@cached_page
def region(request, code):
    region = get_object_or_404(Region, code=code.upper())
    permissions.require(request.user, permissions.VIEW, region)

    def organisation():
        icss = list(ICS.objects.in_region(region).with_trust_counts().order_by("name"))
        openable = _openable_ics_ids(request.user)
        type_counts = (
            Trust.objects.open().in_region(region).values("trust_type").annotate(n=Count("pk")).order_by("trust_type")
        )
        labels = dict(Trust._meta.get_field("trust_type").choices)
        context = {
            "region": region,
            "icss": [(ics, ics.pk in openable) for ics in icss],
            "type_counts": [(labels[row["trust_type"]], row["n"]) for row in type_counts],
        }
        return _fragment(
            "trusts/_region_tables.html",
            context,
            ics_count=len(icss),
            trust_count=sum(ics.open_trust_count for ics in icss),
        )

    return _page(
        request,
        "pages/region.html",
        {"region": region, "breadcrumbs": [ENGLAND]},
        organisation,
        lambda y, c: sections.area_dashboard(region, y, c, request.user),
    )


@login_required
@charts_allowed
@cached_page
def ics(request, code, template="pages/ics.html"):
    """The ICS page; with the board-pack template (pages/ics_print.html), the dashboard laid out for A4."""
    ics = get_object_or_404(ICS.objects.select_related("region"), code=code.upper())
    permissions.require(request.user, permissions.VIEW, ics)

    def organisation():
        trusts = Trust.objects.in_ics(ics).prefetch_related("care_settings").order_by("name")
        openable = set(Trust.objects.in_ics(ics).visible_to(request.user).values_list("pk", flat=True))
        context = {
            "trusts": [(trust, trust.pk in openable) for trust in trusts],
            "located_elsewhere": Trust.objects.open()
            .filter(geographic_ics=ics)
            .exclude(ics=ics)
            .select_related("ics")
            .order_by("name"),
        }
        return _fragment("trusts/_ics_members.html", context)

    context = {
        "ics": ics,
        "breadcrumbs": [ENGLAND, (ics.region.name, reverse("region", args=[ics.region.code]))],
        "own_assessments": [],
        "awaiting_review": None,
    }
    if permissions.can(request.user, permissions.VIEW_NAMED, ics):
        cycles = list(Cycle.objects.current())
        # In one read: the ICB's own returns (no trust) and its member trusts' returns awaiting review.
        found = list(
            Assessment.objects.recorded_in_ics(ics)
            .filter(cycle__in=cycles)
            .filter(Q(trust__isnull=True) | Q(status=Status.SUBMITTED))
        )
        own = {a.cycle_id: a for a in found if a.is_ics_assessment}
        context["own_assessments"] = [{"cycle": cycle, "assessment": own.get(cycle.pk)} for cycle in cycles]
        context["awaiting_review"] = len(found) - len(own)

    def improvement_plans(year):
        """The member trusts' saved plans, for those who see plans (its reviewers, analysts); nothing for others."""
        viewer = permissions.viewer_of(request.user)
        if not plans.may_see_ics_plans(viewer, ics):
            return ""
        summaries = plans.ics_plan_summaries(viewer, ics, year)
        # No section without a plan: nothing to say.
        if not summaries:
            return ""
        return render_to_string("planning/_board_pack_plans.html", {"year": year, "summaries": summaries})

    return _page(
        request,
        template,
        context,
        organisation,
        lambda y, c: sections.ics_dashboard(ics, y, c, request.user),
        live_pack_part=improvement_plans,
        summary_parts=[versions.ics(ics.code)],
    )


@login_required
@charts_allowed
@cached_page
def trust(request, code):
    trust = get_object_or_404(
        Trust.objects.select_related("ics__region", "geographic_ics").prefetch_related("care_settings"),
        code=code.upper(),
    )
    permissions.require(request.user, permissions.VIEW, trust)
    region = trust.ics.region

    def organisation():
        context = {
            "published": published_results_for_trust(trust),
            "published_indicators": published_indicators_for_trust(trust),
        }
        return _fragment("maturity/_trust_published.html", context)

    context = {
        "trust": trust,
        "can_view_ics": permissions.can(request.user, permissions.VIEW, trust.ics),
        "breadcrumbs": [
            ENGLAND,
            (region.name, reverse("region", args=[region.code])),
            (trust.ics.short_name, reverse("ics", args=[trust.ics.code])),
        ],
        "assessment_rows": _assessment_rows(request.user, trust),
    }
    return _page(
        request,
        "pages/trust.html",
        context,
        organisation,
        lambda y, c: sections.trust_dashboard(trust, y, c, request.user),
        preferred_cycles=lambda: sections.trust_cycles(trust, request.user),
        summary_parts=[versions.trust(trust.code), versions.ics(trust.ics.code)],
    )


def _openable_ics_ids(user) -> set[int]:
    return set(ICS.objects.visible_to(user).values_list("pk", flat=True))


def _assessment_rows(user, trust) -> list[dict]:
    """The trust's returns in the current cycles, one per care setting, for those who may see them by name."""
    if not permissions.can(user, permissions.VIEW_NAMED, trust):
        return []
    settings = list(trust.care_settings.all())
    cycles = list(Cycle.objects.current())
    existing = {
        (a.cycle_id, a.care_setting_id): a
        for a in Assessment.objects.of_trust(trust).filter(cycle__in=cycles).select_related("cycle", "trust")
    }
    return [
        {
            "cycle": cycle,
            "care_setting": setting,
            "assessment": existing.get((cycle.pk, setting.pk)),
            "url": reverse(
                "trust_assessment:overview", kwargs={"code": trust.code, "year": cycle.year, "setting": setting.slug}
            ),
        }
        for cycle in cycles
        for setting in settings
    ]


def _fragment(template: str, context: dict, **facts) -> dict:
    """A cached part of a page: its HTML and the few figures the page shows elsewhere (counts in the lede)."""
    return {"html": render_to_string(template, context), **facts}


def _page(
    request,
    template: str,
    context: dict,
    organisation,
    build,
    preferred_cycles=None,
    live_pack_part=None,
    summary_parts=(),
):
    """The page: `context` (rendered on every request: what a person's action changes, such as assessment states),
    the organisation part that organisation() renders (reference data, published results), and the dashboard for
    the cycle in `?cycle=` (else the newest of preferred_cycles(), else the newest with results) that
    build(year, cycles) gives; or one chart's CSV.

    The organisation part and the dashboard's HTML (its headline and summary, which the page puts first, apart) are
    cached under the dashboard's key (the versions of the summary parts it reads, the viewer's scope, the code), the
    organisation part also under the organisations' token: a warm page renders only its header and its live part,
    whatever the number of trusts. In the board pack, live_pack_part(year) gives the HTML drawn on every request
    and put after its appendix (board_pack.LIVE_PART_SLOT).

    `summary_parts` name the summary parts (reports.summaries.versions) the page reads beyond the cycles and
    their areas: all their tokens are read in one query."""
    with versions.read_once(summary_parts):
        year, cycles = sections.choose_cycle(request.GET.get("cycle"), preferred_cycles)
        handle = build(year, cycles)
        if request.GET.get("format") == "csv":
            return _chart_csv(request, handle.load())
        print_layout = template.endswith("_print.html")
        layout = "print" if print_layout else "page"
        parts = _cached_parts(
            handle.key,
            {
                f"html:{layout}:{PAGES_TOKEN}": lambda: _dashboard_html(handle.load(), print_layout),
                "headline": lambda: render_to_string("reports/_headline.html", {"dashboard": handle.load()}),
            },
            organisation=None if print_layout else (f"organisation:{PAGES_TOKEN}", organisation),
        )
        dashboard_html = parts[f"html:{layout}:{PAGES_TOKEN}"]
        if print_layout:
            live = live_pack_part(year) if live_pack_part and year else ""
            dashboard_html = dashboard_html.replace(board_pack.LIVE_PART_SLOT, live)
        headline_html = parts["headline"]
        organisation_part = {} if print_layout else parts[f"organisation:{PAGES_TOKEN}"]
        return render(
            request,
            template,
            {
                **context,
                "year": year,
                "headline_html": mark_safe(headline_html),
                "dashboard_html": mark_safe(dashboard_html),
                "organisation": organisation_part,
            },
        )


def _cached_parts(key: str | None, builds: dict, organisation: tuple | None = None) -> dict:
    """The parts of a page cached under the dashboard's key, read in one round trip with the organisations' token;
    those missing are built and stored together. `organisation` (its name and build) is kept with the token it was
    built under and rebuilt when the organisations were loaded since. With no key (no cycle has results) all are
    built."""
    every = {**builds, **dict([organisation] if organisation else [])}
    if key is None:
        return {name: build() for name, build in every.items()}
    keys = {name: f"{key}:{name}" for name in every}
    found = cache.get_many([ORGANISATIONS_TOKEN, *keys.values()])
    token = found.get(ORGANISATIONS_TOKEN) or organisations_token()
    parts, missing = {}, {}
    for name, build in builds.items():
        parts[name] = found.get(keys[name])
        if parts[name] is None:
            parts[name] = missing[keys[name]] = build()
    if organisation:
        name, build = organisation
        kept = found.get(keys[name])
        parts[name] = kept[1] if kept is not None and kept[0] == token else None
        if parts[name] is None:
            parts[name] = build()
            missing[keys[name]] = (token, parts[name])
    if missing:
        cache.set_many(missing, sections.CACHE_SECONDS)
    return parts


def _dashboard_html(dashboard: sections.Dashboard, print_layout: bool) -> str:
    if print_layout:
        return render_to_string(
            "reports/_board_pack.html", {"dashboard": dashboard, "pack": board_pack.board_pack(dashboard)}
        )
    return render_to_string("reports/_dashboard.html", {"dashboard": dashboard, "sections": _sections(dashboard)})


def _sections(dashboard: sections.Dashboard):
    return [
        (
            section,
            [
                (chart, "?" + urlencode({"cycle": dashboard.year, "chart": chart.id, "format": "csv"}))
                for chart in section.charts
            ],
        )
        for section in dashboard.sections
    ]


def _chart_csv(request, dashboard: sections.Dashboard) -> HttpResponse:
    """One chart's data as CSV, each row with the dashboard's cycle and where its figures come from (NHS England's
    published results, or returns entered here, which count submitted ones as provisional), so that it stands on
    its own once downloaded."""
    chart = dashboard.chart(request.GET.get("chart", ""))
    if chart is None:
        raise Http404("No such chart on this page")
    text = chart_csv(chart, cycle=dashboard.year, published=dashboard.is_published)
    response = HttpResponse(text.encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
    filename = f"{request.path.strip('/').replace('/', '-')}-{dashboard.year}-{chart.id}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
