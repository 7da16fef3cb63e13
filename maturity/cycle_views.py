"""Analysts manage the collection cycles: open and close them, set their deadlines and gap targets."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from maturity import actions
from maturity.models import Cycle, CycleState, Framework, FrameworkKind, TargetKind, Theme
from trusts import permissions

BLANK_TARGET_ROWS = 3
MAX_TARGET_ROWS = 100


def _date(raw: str, field: str, errors: dict) -> datetime.date | None:
    if not raw.strip():
        return None
    try:
        return datetime.date.fromisoformat(raw.strip())
    except ValueError:
        errors[field] = "Enter a date like 2026-03-31"
        return None


def _target_value(kind: str, raw: str):
    """'one of' targets are lists of values; every other target is a number."""
    if kind == TargetKind.INDICATOR_IN:
        return [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return float(raw)
    except ValueError:
        return raw  # kept as typed, so set_gap_targets can say what is wrong with it


def _row_count(raw: str) -> int:
    """How many target rows the form had: the page shows the targets and a few blank rows, so anything beyond a
    generous bound did not come from it."""
    try:
        return max(0, min(int(raw), MAX_TARGET_ROWS))
    except ValueError:
        return 0


@login_required
def cycle_list(request):
    permissions.require(request.user, permissions.MANAGE, None)
    errors, form = {}, {}
    if request.method == "POST":
        form = request.POST
        opens_on = _date(form.get("opens_on", ""), "opens_on", errors)
        closes_on = _date(form.get("closes_on", ""), "closes_on", errors)
        year = form.get("year", "")
        if not (year.isdigit() and 2000 <= int(year) <= 2100):
            errors["year"] = "Enter the year as four digits, like 2027"
        if not errors:
            try:
                cycle = actions.create_cycle(
                    by=request.user,
                    year=int(year),
                    trust_framework=Framework.objects.filter(pk=form.get("trust_framework") or None).first(),
                    ics_framework=Framework.objects.filter(pk=form.get("ics_framework") or None).first(),
                    opens_on=opens_on,
                    closes_on=closes_on,
                )
            except actions.Invalid as error:
                errors = error.errors
            else:
                messages.success(request, f"The {cycle.year} cycle is created. It opens when you open it.")
                return redirect("cycle", year=cycle.year)
    cycles = Cycle.objects.annotate(assessment_count=Count("assessments")).order_by("-year")
    return render(
        request,
        "maturity/cycles.html",
        {
            "cycles": cycles,
            "trust_frameworks": Framework.objects.filter(kind=FrameworkKind.TRUST).order_by("-version"),
            "ics_frameworks": Framework.objects.filter(kind=FrameworkKind.ICS).order_by("-version"),
            "form": form,
            "errors": errors,
            "error_list": [(f"#{key}", message) for key, message in errors.items()],
        },
        status=400 if errors else 200,
    )


@login_required
def cycle_detail(request, year):
    permissions.require(request.user, permissions.MANAGE, None)
    cycle = get_object_or_404(Cycle, year=year)
    errors = {}
    if request.method == "POST" and "state" in request.POST:
        opens_on = _date(request.POST.get("opens_on", ""), "opens_on", errors)
        closes_on = _date(request.POST.get("closes_on", ""), "closes_on", errors)
        if not errors:
            try:
                actions.update_cycle(
                    by=request.user, cycle=cycle, state=request.POST["state"], opens_on=opens_on, closes_on=closes_on
                )
            except actions.Invalid as error:
                errors = error.errors
            except actions.ActionError as error:
                messages.error(request, str(error))
            else:
                messages.success(request, f"The {cycle.year} cycle is updated.")
                return redirect("cycle", year=cycle.year)
    elif request.method == "POST":
        rows = []
        for number in range(1, _row_count(request.POST.get("target_rows", "")) + 1):
            prefix = f"target-{number}-"
            if not request.POST.get(prefix + "description", "").strip():
                continue
            kind = request.POST.get(prefix + "kind", "")
            rows.append(
                {
                    "theme": request.POST.get(prefix + "theme", ""),
                    "kind": kind,
                    "indicator_code": request.POST.get(prefix + "indicator_code", "").strip(),
                    "value": _target_value(kind, request.POST.get(prefix + "value", "")),
                    "description": request.POST.get(prefix + "description", "").strip(),
                }
            )
        try:
            actions.set_gap_targets(by=request.user, cycle=cycle, targets=rows)
        except actions.Invalid as error:
            errors = error.errors
        else:
            messages.success(request, f"The {cycle.year} gap targets are saved.")
            return redirect("cycle", year=cycle.year)
    targets = list(cycle.targets.all())
    target_rows = [
        {
            "number": number,
            "target": target,
            "value": ", ".join(target.value) if isinstance(target.value, list) else target.value,
        }
        for number, target in enumerate(targets, start=1)
    ]
    target_rows += [{"number": len(targets) + n, "target": None, "value": ""} for n in range(1, BLANK_TARGET_ROWS + 1)]
    return render(
        request,
        "maturity/cycle.html",
        {
            "cycle": cycle,
            "states": CycleState.choices,
            "themes": Theme.choices,
            "kinds": TargetKind.choices,
            "target_rows": target_rows,
            "errors": errors,
            "error_list": [(f"#{key}", message) for key, message in errors.items()],
            "breadcrumbs": [("Cycles", "/cycles/")],
        },
        status=400 if errors else 200,
    )
