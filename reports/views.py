"""The health page and the analysts' summaries page. The organisation pages with their dashboards are assembled in
config.pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from reports.health import CHECKS
from reports.models import RefreshRun
from reports.tasks import rebuild_summaries
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
    """Analysts: the latest refresh runs, and a button to rebuild every summary now (it runs on a worker)."""
    permissions.require(request.user, permissions.MANAGE, None)
    if request.method == "POST":
        rebuild_summaries.delay()
        messages.success(request, "A full rebuild of the summaries has started. The table below shows when it ends.")
        return redirect("summary_runs")
    return render(request, "reports/runs.html", {"runs": RefreshRun.objects.all()[:50]})
