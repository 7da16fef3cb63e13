"""The next-level planner's pages. Thin: find the assessment through the read layer, read the form, call
planning.simulate for the figures and planning.actions to save, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from maturity.actions import Invalid
from maturity.models import Assessment, Cycle
from planning import actions, plans, simulate
from planning.forms import PlanForm, initial_from
from trusts import permissions
from trusts.models import CareSetting, Trust


def plan_url(assessment: Assessment) -> str:
    return reverse(
        "planning:plan",
        kwargs={"code": assessment.trust.code, "year": assessment.cycle.year, "setting": assessment.care_setting_id},
    )


def _plannable(request, code, year):
    """The trust's returns in the cycle the viewer may plan for. Nobody else learns whether a return or a plan
    exists: for them the page is not there (404)."""
    trust = get_object_or_404(Trust.objects.select_related("ics__region"), code=code.upper())
    cycle = get_object_or_404(Cycle, year=year)
    viewer = permissions.viewer_of(request.user)
    found = (
        Assessment.objects.named_to(viewer)
        .of_trust(trust)
        .in_cycle(cycle)
        .select_related("cycle", "framework", "trust", "ics__region", "care_setting")
        .order_by("care_setting__position")
    )
    found = [assessment for assessment in found if actions.may_plan(request.user, assessment)]
    if not found:
        raise Http404("There is no return to plan for")
    return trust, cycle, found


@login_required
def choose(request, code, year):
    """A trust's planners for the cycle: straight to it when the trust makes one return, else one link a setting."""
    trust, cycle, found = _plannable(request, code, year)
    if len(found) == 1:
        return redirect(plan_url(found[0]))
    return render(
        request,
        "planning/choose.html",
        {
            "trust": trust,
            "cycle": cycle,
            "links": [(assessment.care_setting.name, plan_url(assessment)) for assessment in found],
            "breadcrumbs": _breadcrumbs(trust),
        },
    )


def _breadcrumbs(trust: Trust) -> list[tuple[str, str]]:
    return [
        ("England", reverse("national")),
        (trust.ics.region.name, reverse("region", args=[trust.ics.region.code])),
        (trust.ics.short_name, reverse("ics", args=[trust.ics.code])),
        (trust.name, reverse("trust", args=[trust.code])),
    ]


@login_required
def plan(request, code, year, setting):
    care_setting = get_object_or_404(CareSetting, slug=setting)
    trust, cycle, found = _plannable(request, code, year)
    assessment = next((a for a in found if a.care_setting_id == care_setting.pk), None)
    if assessment is None:
        raise Http404("There is no return to plan for")
    viewer = permissions.viewer_of(request.user)
    answers = plans.answers_of(assessment)
    saved_plan = plans.plan_of(assessment, viewer)
    saved = plans.saved_steps(saved_plan)
    steps = {step.domain.code: step.level for step in saved}
    errors, unsaved = {}, False
    if request.method == "POST":
        form = PlanForm(answers, request.POST)
        form.refuse_malformed()
        if form.is_valid():
            posted = form.steps()
            errors = actions.step_errors(assessment, answers, posted)
            if not errors and form.wants_save:
                try:
                    actions.save_plan(
                        by=request.user,
                        assessment=assessment,
                        steps=posted,
                        expected_version=form.cleaned_data["version"],
                    )
                except Invalid as error:
                    errors = error.errors
                except actions.PlanChanged as changed:
                    messages.error(request, str(changed))
                    form.show_version(changed.current_version)
                else:
                    messages.success(request, "Plan saved")
                    return redirect(request.path)
            # The simulation shows the posted steps, less any that are wrong.
            wrong = {key.split("-", 1)[0] for key in errors}
            steps = {code: step.level for code, step in posted.items() if code not in wrong}
            unsaved = True
        else:
            errors = form.field_errors()
    else:
        form = PlanForm(answers, initial=initial_from(saved_plan, saved))
    result = simulate.simulate(answers, steps, plans.targets_of(assessment))
    holding = {answer.code for pillar in result.pillars for answer in pillar.holding_back}
    pillars = [
        (pillar, [form.row(a, a.code in holding, errors) for a in form.plannable if a.pillar_code == pillar.code])
        for pillar in result.pillars
    ]
    context = {
        "trust": trust,
        "cycle": cycle,
        "assessment": assessment,
        "result": result,
        "pillars": pillars,
        "standings": plans.standings(assessment, viewer, result.overall_now, result.overall_planned),
        "min_group": permissions.MIN_GROUP,
        "form": form,
        "errors": errors,
        "error_list": [(f"#id_{key}", message) for key, message in errors.items()],
        "unsaved": unsaved,
        "has_saved_plan": bool(saved),
        "overview_url": reverse(
            "trust_assessment:overview", kwargs={"code": trust.code, "year": cycle.year, "setting": setting}
        ),
        "breadcrumbs": _breadcrumbs(trust),
    }
    return render(request, "planning/plan.html", context, status=400 if errors else 200)
