"""The spreadsheet route of an assessment: download a pre-filled template, upload a filled one. Thin like
maturity.views: maturity.spreadsheets reads and checks the file, actions.save_answers writes it (all or nothing)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from config.middleware import accepts_upload
from maturity import actions, spreadsheets
from maturity.forms import posted_version
from maturity.pages import assessment_url
from maturity.spreadsheets import Problem, UploadRejected
from maturity.views import _context, _existing

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
# The error summary at the top links to the full table; a long list there would bury the first problems.
SUMMARY_LIMIT = 10


def _with_framework(request, code, year, setting):
    target, assessment = _existing(request, code, year, setting)
    if assessment.framework_id is None:
        raise Http404("This assessment has no framework to fill in (it is published history)")
    return target, assessment


@login_required
@never_cache  # the template holds the answers of the moment, and entered data is not for shared caches
def template(request, code, year, format, setting=None):
    if format not in CONTENT_TYPES:
        raise Http404("The template comes as .xlsx or .csv")
    target, assessment = _with_framework(request, code, year, setting)
    build = spreadsheets.build_xlsx if format == "xlsx" else spreadsheets.build_csv
    response = HttpResponse(build(assessment), content_type=CONTENT_TYPES[format])
    response["Content-Disposition"] = f'attachment; filename="{spreadsheets.filename(assessment, format)}"'
    return response


def _error_list(problems: list[Problem]) -> list[tuple[str, str]]:
    listed = [
        ("#file" if problem.row is None else "#problems", _where(problem) + problem.message)
        for problem in problems[:SUMMARY_LIMIT]
    ]
    if len(problems) > SUMMARY_LIMIT:
        listed.append(("#problems", f"{len(problems) - SUMMARY_LIMIT} more problems: see the full list below"))
    return listed


def _where(problem: Problem) -> str:
    if problem.row is None:
        return ""
    return f"Row {problem.row}, column {problem.column}: " if problem.column else f"Row {problem.row}: "


def _changed_count(assessment, expected_version: int, saved) -> int:
    """How many answers the upload changed: the audit event of the save lists each one."""
    if saved.version == expected_version:
        return 0
    event = assessment.audit_events.filter(action="upload", version=saved.version).first()
    return len(event.after) if event else 0


@login_required
@accepts_upload
def upload(request, code, year, setting=None):
    target, assessment = _with_framework(request, code, year, setting)
    problems, conflict, version = [], None, assessment.version
    may_edit = _context(request, target)["may_edit"]
    if request.method == "POST":
        if not may_edit:
            raise PermissionDenied("You may not change this assessment.")
        version = posted_version(request.POST)
        uploaded = request.FILES.get("file")
        try:
            if uploaded is None:
                raise UploadRejected([Problem(None, "", "Select a filled template to upload")])
            parsed = spreadsheets.parse_upload(assessment, uploaded)
            saved = actions.save_answers(
                by=request.user,
                assessment=assessment,
                expected_version=version,
                answers=parsed.answers,
                indicators=parsed.indicators,
                action="upload",
            )
        except UploadRejected as error:
            problems = error.problems
        except actions.Invalid as error:
            # The file passed our checks but not the action's: still place each message in the file.
            problems = parsed.problems_for(error.errors)
        except actions.Conflict as error:
            conflict, version = error, error.assessment.version
        except actions.WrongState as error:
            messages.error(request, str(error))
            return redirect(assessment_url(assessment))
        else:
            changed = _changed_count(assessment, version, saved)
            if changed:
                messages.success(
                    request, f"Spreadsheet uploaded: {changed} answer{'s' if changed != 1 else ''} changed"
                )
            else:
                messages.success(request, "No changes: the file matches the assessment")
            return redirect(assessment_url(assessment))
    context = _context(
        request,
        target,
        problems=problems,
        error_list=_error_list(problems),
        file_error=bool(problems),
        conflict=conflict,
        version=version,
    )
    return render(request, "maturity/upload.html", context, status=400 if problems else 409 if conflict else 200)
