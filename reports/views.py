"""The organisation pages with their dashboards. Each page's organisation and assessment parts come from trusts and
maturity; the dashboard reads only the summaries (reports.dashboards). `?cycle=` picks the cycle, and
`?chart=<id>&format=csv` downloads exactly one chart's data."""

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode

from maturity.views import ics_page_context, trust_page_context
from reports import dashboards
from reports.charts import chart_csv
from reports.health import CHECKS
from reports.models import RefreshRun
from reports.tasks import rebuild_summaries
from trusts import permissions
from trusts.views import national_context, region_context

# plotly.js styles its SVG inline; scripts stay 'self' only.
charts_allowed = csp_update({"style-src": UNSAFE_INLINE})


def health(request):
    """Open to all, for load balancers and operators: 503 when the database is down, so traffic moves away."""
    results = {name: check() for name, check in CHECKS.items()}
    database_ok, _ = results["Database"]
    return render(request, "reports/health.html", {"results": results}, status=200 if database_ok else 503)


def _render(request, template: str, context: dict, dashboard: dashboards.Dashboard):
    if request.GET.get("format") == "csv":
        chart = dashboard.chart(request.GET.get("chart", ""))
        if chart is None:
            raise Http404("No such chart on this page")
        response = HttpResponse(chart_csv(chart).encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
        filename = f"{request.path.strip('/').replace('/', '-')}-{dashboard.year}-{chart.id}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    sections = [
        (
            section,
            [
                (chart, "?" + urlencode({"cycle": dashboard.year, "chart": chart.id, "format": "csv"}))
                for chart in section.charts
            ],
        )
        for section in dashboard.sections
    ]
    return render(request, template, {**context, "dashboard": dashboard, "sections": sections})


def _dashboard_page(request, template: str, context: dict, build):
    """A page's own context plus its dashboard for the cycle in `?cycle=`; build(year, cycles) makes the dashboard."""
    year, cycles = dashboards.choose_cycle(request.GET.get("cycle"))
    return _render(request, template, context, build(year, cycles))


@login_required
@charts_allowed
def national(request):
    context = national_context(request)
    return _dashboard_page(
        request, "reports/national.html", context, lambda y, c: dashboards.area_dashboard(None, y, c, request.user)
    )


@login_required
@charts_allowed
def region(request, code):
    context = region_context(request, code)
    return _dashboard_page(
        request,
        "reports/region.html",
        context,
        lambda y, c: dashboards.area_dashboard(context["region"], y, c, request.user),
    )


@login_required
@charts_allowed
def ics(request, code, template="reports/ics.html"):
    """The ICS dashboard; with the board-pack template (ics_print), the same data laid out for A4, tables shown."""
    context = ics_page_context(request, code)
    return _dashboard_page(
        request, template, context, lambda y, c: dashboards.ics_dashboard(context["ics"], y, c, request.user)
    )


@login_required
@charts_allowed
def trust(request, code):
    context = trust_page_context(request, code)
    return _dashboard_page(
        request,
        "reports/trust.html",
        context,
        lambda y, c: dashboards.trust_dashboard(context["trust"], y, c, request.user),
    )


@login_required
def summary_runs(request):
    """Analysts: the latest refresh runs, and a button to rebuild every summary now (it runs on a worker)."""
    permissions.require(request.user, permissions.MANAGE, None)
    if request.method == "POST":
        rebuild_summaries.delay()
        messages.success(request, "A full rebuild of the summaries has started. The table below shows when it ends.")
        return redirect("summary_runs")
    return render(request, "reports/runs.html", {"runs": RefreshRun.objects.all()[:50]})
