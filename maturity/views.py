"""Assessment pages. Thin: each finds the assessment, asks maturity.access, calls an action and renders."""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from maturity import access, actions, checks, review_queries
from maturity.answers import DATE_PARTS, date_parts_in_error
from maturity.forms import IndicatorsForm, PillarForm, QueryAnswerForm, ReopenForm, SubmitForm, checked
from maturity.models import Assessment, Cycle, CycleState, IndicatorType, ReviewQuery, Status
from maturity.pages import (
    assessment_url,
    audit_rows,
    general_comments,
    indicator_rows,
    missing_by_page,
    pillars_of,
    warnings_for,
)
from trusts import permissions
from trusts.models import ICS, CareSetting, Trust


@dataclass
class Target:
    """What an assessment URL names: a cycle and a trust and care setting, or an ICS; and the assessment if any."""

    cycle: Cycle
    ics: ICS
    trust: Trust | None
    care_setting: CareSetting | None
    assessment: Assessment | None

    @property
    def organisation(self):
        return self.trust or self.ics

    @property
    def label(self):
        if self.trust:
            return f"{self.trust.name} – {self.care_setting.name} – {self.cycle.year}"
        return f"{self.ics.name} – {self.cycle.year}"


def _target(request, code, year, setting=None) -> Target:
    cycle = get_object_or_404(Cycle, year=year)
    related = ("cycle", "framework", "trust__ics__region", "ics__region", "care_setting")
    if setting is None:
        ics = get_object_or_404(ICS.objects.select_related("region"), code=code.upper())
        permissions.require(request.user, permissions.VIEW_NAMED, ics)
        assessment = Assessment.objects.select_related(*related).filter(cycle=cycle, trust=None, ics=ics).first()
        return Target(cycle, ics, None, None, assessment)
    trust = get_object_or_404(Trust.objects.select_related("ics__region"), code=code.upper())
    care_setting = get_object_or_404(CareSetting, slug=setting)
    permissions.require(request.user, permissions.VIEW_NAMED, trust)
    assessment = (
        Assessment.objects.select_related(*related).filter(cycle=cycle, trust=trust, care_setting=care_setting).first()
    )
    if assessment is None and not trust.care_settings.filter(pk=care_setting.pk).exists():
        raise Http404(f"{trust.name} makes no {care_setting.name} return")
    return Target(cycle, trust.ics, trust, care_setting, assessment)


def _existing(request, code, year, setting=None) -> tuple[Target, Assessment]:
    target = _target(request, code, year, setting)
    if target.assessment is None:
        raise Http404("This assessment has not been started")
    return target, target.assessment


def _context(request, target: Target, **extra) -> dict:
    assessment = target.assessment
    context = {
        "target": target,
        "assessment": assessment,
        "cycle": target.cycle,
        "breadcrumbs": _breadcrumbs(target),
        **extra,
    }
    if assessment is not None:
        context.update(
            may_edit=access.may_edit(request.user, assessment)
            and assessment.is_editable_status
            and target.cycle.state == CycleState.OPEN,
            may_review=access.may_review(request.user, assessment)
            and assessment.status == Status.SUBMITTED
            and target.cycle.state in (CycleState.OPEN, CycleState.CLOSED),
            may_reopen=access.may_reopen(request.user, assessment) and assessment.status == Status.APPROVED,
            urls=_urls(assessment),
        )
    return context


def _urls(assessment: Assessment) -> dict:
    pages = ("overview", "indicators", "check", "submit", "review", "reopen", "history", "start")
    return {page: assessment_url(assessment, page) for page in pages}


def _breadcrumbs(target: Target) -> list[tuple[str, str]]:
    crumbs = [
        ("England", reverse("national")),
        (target.ics.region.name, reverse("region", args=[target.ics.region.code])),
    ]
    crumbs.append((target.ics.short_name, reverse("ics", args=[target.ics.code])))
    if target.trust:
        crumbs.append((target.trust.name, reverse("trust", args=[target.trust.code])))
    return crumbs


# --- One assessment ---------------------------------------------------------------------------------------------


@login_required
def overview(request, code, year, setting=None):
    target = _target(request, code, year, setting)
    if target.assessment is None:
        if target.cycle.state != CycleState.OPEN or target.cycle.is_published_history:
            raise Http404("There is no assessment for this cycle")
        may_start = permissions.can(request.user, permissions.EDIT, target.organisation)
        return render(request, "maturity/start.html", _context(request, target, may_start=may_start))
    assessment = target.assessment
    return render(
        request,
        "maturity/overview.html",
        _context(
            request,
            target,
            pillars=pillars_of(assessment),
            indicators=indicator_rows(assessment),
            general_comments=general_comments(assessment),
            missing=actions.missing_answers(assessment) if assessment.is_editable_status else [],
            queries=review_queries.for_the_lead(review_queries.open_queries(assessment)),
        ),
    )


@login_required
@require_POST
def start(request, code, year, setting=None):
    target = _target(request, code, year, setting)
    try:
        assessment = actions.start_assessment(
            by=request.user, cycle=target.cycle, trust=target.trust, care_setting=target.care_setting, ics=target.ics
        )
    except actions.ActionError as error:
        messages.error(request, str(error))
        return redirect(request.path.removesuffix("start/"))
    return redirect(assessment_url(assessment))


def _with_posted(rows, posted: dict[str, dict], errors: dict[str, str] | None = None):
    """Show what the person typed, not what is stored, after an error or a conflict, with each field's error."""
    for row in rows:
        prefix = f"{row.domain.code}-"
        row.errors = {
            key.removeprefix(prefix): message for key, message in (errors or {}).items() if key.startswith(prefix)
        }
        if row.domain.code in posted:
            values = posted[row.domain.code]
            level = values["level"]
            row.level = int(level) if str(level).isdigit() else None
            row.evidence_note, row.evidence_link = values["evidence_note"], values["evidence_link"]
    return rows


@login_required
def pillar(request, code, year, pillar_code, setting=None):
    target, assessment = _existing(request, code, year, setting)
    pillars = pillars_of(assessment)
    current = next((p for p in pillars if p.pillar.code == pillar_code), None)
    if current is None:
        raise Http404("No such pillar in this assessment")
    position = pillars.index(current)
    codes = {row.domain.code for row in current.rows}
    queries = [
        query
        for query in review_queries.for_the_lead(review_queries.open_queries(assessment))
        if query.domain_id and query.domain.code in codes
    ]
    for row in current.rows:
        row.queries = review_queries.about_domain(queries, row.domain.code)
    previous_page = (
        (pillars[position - 1].pillar.name, pillars[position - 1].url)
        if position > 0
        else ("Assessment overview", assessment_url(assessment))
    )
    next_page = (
        (pillars[position + 1].pillar.name, pillars[position + 1].url)
        if position + 1 < len(pillars)
        else ("Contextual indicators", assessment_url(assessment, "indicators"))
    )
    errors, conflict, version = {}, None, assessment.version
    if request.method == "POST":
        form = PillarForm([row.domain for row in current.rows], request.POST)
        posted = form.posted_answers()
        try:
            actions.save_answers(
                by=request.user, assessment=assessment, expected_version=checked(form)["version"], answers=posted
            )
        except actions.Invalid as error:
            errors = error.errors
            _with_posted(current.rows, posted, errors)
        except actions.Conflict as error:
            conflict = error
            version = error.assessment.version
            _with_posted(current.rows, posted)
        except actions.WrongState as error:
            messages.error(request, str(error))
            return redirect(assessment_url(assessment))
        else:
            messages.success(request, f"{current.pillar.name} saved")
            return redirect(next_page[1] if "continue" in request.POST else request.path)
    context = _context(
        request,
        target,
        pillar=current,
        pillars=pillars,
        errors=errors,
        error_list=[(f"#{key}", message) for key, message in errors.items()],
        conflict=conflict,
        version=version,
        previous_page=previous_page,
        next_page=next_page,
        queries=queries,
    )
    return render(request, "maturity/pillar.html", context, status=400 if errors else 409 if conflict else 200)


@login_required
def indicators(request, code, year, setting=None):
    target, assessment = _existing(request, code, year, setting)
    rows = indicator_rows(assessment)
    errors, conflict, version, posted = {}, None, assessment.version, {}
    if request.method == "POST":
        form = IndicatorsForm([row.indicator for row in rows], request.POST)
        posted = form.posted_values()
        try:
            actions.save_answers(
                by=request.user, assessment=assessment, expected_version=checked(form)["version"], indicators=posted
            )
        except actions.Invalid as error:
            errors = error.errors
        except actions.Conflict as error:
            conflict, version = error, error.assessment.version
        except actions.WrongState as error:
            messages.error(request, str(error))
            return redirect(assessment_url(assessment))
        else:
            messages.success(request, "Indicators saved")
            return redirect(assessment_url(assessment, "check") if "continue" in request.POST else request.path)
    queries = [
        query for query in review_queries.for_the_lead(review_queries.open_queries(assessment)) if not query.domain_id
    ]
    fields = [_indicator_field(row, posted, errors) for row in rows]
    for field in fields:
        field["queries"] = review_queries.about_indicator(queries, field["row"].indicator.code)
    pillars = pillars_of(assessment)
    context = _context(
        request,
        target,
        fields=fields,
        pillars=pillars,
        previous_page=(pillars[-1].pillar.name, pillars[-1].url) if pillars else None,
        next_page=("Check your answers", assessment_url(assessment, "check")),
        errors=errors,
        # Each message links to the field at fault: for a date, its first box marked wrong.
        error_list=[(f"#{field['error_target']}", field["error"]) for field in fields if field["error"]],
        conflict=conflict,
        version=version,
        queries=queries,
    )
    return render(request, "maturity/indicators.html", context, status=400 if errors else 409 if conflict else 200)


def _indicator_field(row, posted: dict, errors: dict) -> dict:
    """What the indicators form shows for one indicator: what was typed after an error or a conflict, otherwise
    what is stored; the ids that describe it (hint, where a published value came from, error); for a date, its
    three boxes and those to mark as wrong."""
    indicator, field_id = row.indicator, f"indicator-{row.indicator.code}"
    error = errors.get(field_id)
    notes = [(indicator.help_text, "hint"), (row.published_source, "source"), (error, "error")]
    field = {
        "row": row,
        "id": field_id,
        "error": error,
        "error_target": row.field_id,
        "described_by": " ".join(f"{field_id}-{suffix}" for note, suffix in notes if note),
    }
    if indicator.value_type == IndicatorType.DATE:
        parts = posted[indicator.code] if posted else row.date_parts()
        field["marked"] = date_parts_in_error(parts) if error else ()
        field["boxes"] = [
            (name, name.capitalize(), getattr(parts, name), 4 if name == "year" else 2) for name in DATE_PARTS
        ]
        if field["marked"]:
            field["error_target"] = f"{field_id}-{field['marked'][0]}"
    else:
        field["value"] = posted[indicator.code] if posted else row.raw
    return field


@login_required
def check_answers(request, code, year, setting=None):
    """Every answer on one page before the declaration, each with a link to change it (NHS.UK check answers)."""
    target, assessment = _existing(request, code, year, setting)
    missing = actions.missing_answers(assessment) if assessment.is_editable_status else []
    pillars, indicators = pillars_of(assessment), indicator_rows(assessment)
    # The cross-checks warn; they never block the submission.
    found = checks.findings_for(assessment, permissions.viewer_of(request.user))
    context = _context(
        request,
        target,
        pillars=pillars,
        indicators=indicators,
        missing=missing_by_page(assessment, missing),
        warnings=warnings_for(found, pillars, indicators, assessment_url(assessment, "indicators")),
    )
    return render(request, "maturity/check_answers.html", context)


@login_required
def submit(request, code, year, setting=None):
    target, assessment = _existing(request, code, year, setting)
    errors, sign_off = {}, {"sign_off_name": "", "sign_off_role": "", "declared": False}
    if request.method == "POST":
        form = SubmitForm(request.POST)
        sign_off = form.sign_off()
        try:
            actions.submit_assessment(
                by=request.user, assessment=assessment, expected_version=checked(form)["version"], **sign_off
            )
        except actions.Invalid as error:
            errors = error.errors
        except actions.Incomplete:
            errors = {"missing": "Answer every question before you submit: what is still to answer is listed below"}
        except actions.QueriesUnanswered:
            errors = {"queries": "Answer your reviewer's queries before you submit: they are listed below"}
        except (actions.Conflict, actions.WrongState) as error:
            messages.error(request, str(error))
            return redirect(assessment_url(assessment))
        else:
            messages.success(
                request, "Assessment submitted. Its reviewers will be e-mailed that it is ready for review."
            )
            return redirect(assessment_url(assessment))
    missing = actions.missing_answers(assessment) if assessment.is_editable_status else []
    unanswered = review_queries.unanswered_queries(assessment) if assessment.is_editable_status else []
    context = _context(
        request,
        target,
        form=sign_off,
        missing=missing_by_page(assessment, missing),
        unanswered=review_queries.for_the_lead(unanswered),
        errors=errors,
        error_list=[(f"#{key}", message) for key, message in errors.items()],
    )
    return render(request, "maturity/submit.html", context, status=400 if errors else 200)


@login_required
@require_POST
def reopen(request, code, year, setting=None):
    target, assessment = _existing(request, code, year, setting)
    form = ReopenForm(request.POST)
    try:
        actions.reopen_assessment(
            by=request.user,
            assessment=assessment,
            expected_version=checked(form)["version"],
            reason=form.typed("reason"),
        )
    except actions.ActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Assessment re-opened as a draft.")
    return redirect(assessment_url(assessment))


@login_required
def history(request, code, year, setting=None):
    target, assessment = _existing(request, code, year, setting)
    events = assessment.audit_events.select_related("actor").order_by("-at", "-pk")
    context = _context(request, target, rows=audit_rows(events), queries=review_queries.sent_queries(assessment))
    return render(request, "maturity/history.html", context)


@login_required
def query_page(request, code, year, query_id, setting=None):
    """One of the reviewer's queries, with the lead's answer: the pillar and indicators pages post their answer
    forms here, and a refused answer comes back here with its errors."""
    target, assessment = _existing(request, code, year, setting)
    query = get_object_or_404(ReviewQuery.objects.select_related("domain__pillar"), pk=query_id, assessment=assessment)
    query.assessment = assessment
    errors, typed = {}, {}
    if request.method == "POST":
        form = QueryAnswerForm(request.POST)
        typed = form.answered()
        try:
            actions.answer_query(by=request.user, query=query, expected_version=checked(form)["version"], **typed)
        except actions.Invalid as error:
            errors = error.errors
        except actions.ActionError as error:
            messages.error(request, str(error))
            return redirect(review_queries.answer_url(query))
        else:
            messages.success(request, f"Your answer to the query on {query.subject} is saved")
            return redirect(review_queries.answer_url(query))
    review_queries.for_the_lead([query])
    context = _context(
        request,
        target,
        query=query,
        typed=typed,
        query_errors=errors,
        error_list=[(f"#query-{query.pk}-{key}", message) for key, message in errors.items()],
    )
    return render(request, "maturity/query.html", context, status=400 if errors else 200)
