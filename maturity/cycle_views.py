"""Analysts manage the collection cycles: open and close them, set their deadlines and gap targets."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from maturity import actions
from maturity.forms import CycleForm, GapTargetsForm, NewCycleForm, checked
from maturity.models import Cycle, CycleState, Framework, FrameworkKind, TargetKind, Theme
from trusts import permissions

BLANK_TARGET_ROWS = 3


@login_required
def cycle_list(request):
    permissions.require(request.user, permissions.MANAGE, None)
    form, errors = NewCycleForm(request.POST or None), {}
    if request.method == "POST":
        try:
            cycle = actions.create_cycle(by=request.user, **checked(form))
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
            "form": form.data,  # what was typed, shown again
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
    if request.method == "POST":
        # Two forms on the page: the cycle's (its state select is always sent) and the gap targets'.
        form = CycleForm(request.POST) if "state" in request.POST else GapTargetsForm(request.POST)
        try:
            cleaned = checked(form)
            if isinstance(form, CycleForm):
                actions.update_cycle(by=request.user, cycle=cycle, **cleaned)
                done = f"The {cycle.year} cycle is updated."
            else:
                actions.set_gap_targets(by=request.user, cycle=cycle, targets=form.targets())
                done = f"The {cycle.year} gap targets are saved."
        except actions.Invalid as error:
            errors = error.errors
        except actions.ActionError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, done)
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
