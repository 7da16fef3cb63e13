from django.shortcuts import render

from reports.health import CHECKS


def health(request):
    """Open to all, for load balancers and operators: 503 when the database is down, so traffic moves away."""
    results = {name: check() for name, check in CHECKS.items()}
    database_ok, _ = results["Database"]
    return render(request, "reports/health.html", {"results": results}, status=200 if database_ok else 503)
