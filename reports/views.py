"""The health page and the analysts' summaries page. The organisation pages with their dashboards are assembled in
config.pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from maturity import actions
from maturity.models import RefreshMark
from reports.health import CHECKS
from reports.models import RefreshRun
from reports.summaries import refresh
from trusts import permissions


def health(request):
    """Open to all, for load balancers and operators: 503 when the database is down, so traffic moves away.
    Everyone sees whether each service is up; only analysts see the details (error classes, worker host names),
    which tell an attacker more about the set-up than a load balancer needs."""
    results = {name: check() for name, check in CHECKS.items()}
    database_ok, _ = results["Database"]
    # The permission check reads the database, which may be what is down.
    show_details = database_ok and permissions.can(request.user, permissions.MANAGE, None)
    return render(
        request,
        "reports/health.html",
        {"results": results, "show_details": show_details},
        status=200 if database_ok else 503,
    )


@login_required
def summary_runs(request):
    """Analysts: the latest refresh runs with what they could not use, the refreshes parked after failing, and a
    button to rebuild every summary now (it runs on a worker)."""
    permissions.require(request.user, permissions.MANAGE, None)
    if request.method == "POST":
        actions.request_full_rebuild(by=request.user)
        messages.success(request, "A full rebuild of the summaries has started. The table below shows when it ends.")
        return redirect("summary_runs")
    return render(
        request,
        "reports/runs.html",
        {
            "runs": RefreshRun.objects.all()[:50],
            "latest": RefreshRun.objects.filter(finished_at__isnull=False).first(),
            "parked": RefreshMark.objects.parked().select_related(
                "assessment__trust", "assessment__ics", "assessment__care_setting", "assessment__cycle", "cycle"
            ),
            "park_after": refresh.PARK_AFTER,
        },
    )


@login_required
@require_POST
def requeue_refresh_mark(request, pk):
    permissions.require(request.user, permissions.MANAGE, None)
    try:
        mark = actions.requeue_refresh_mark(by=request.user, mark=get_object_or_404(RefreshMark, pk=pk))
    except actions.ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The {mark} is queued again. The runs below show how it ends.")
    return redirect("summary_runs")
