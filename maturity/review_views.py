"""The review page and the review queues. Thin, like maturity.views, whose helpers they share: the evidence set
beside each answer comes from maturity.review, the queues' rows from maturity.queues."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render

from maturity import access, actions, checks, queues, review_queries
from maturity import review as evidence
from maturity.forms import EvidenceVerificationForm, ReviewForm, checked
from maturity.models import Cycle
from maturity.pages import assessment_url, indicator_rows, pillars_of
from maturity.views import _context, _existing
from trusts import permissions
from trusts.models import ICS


def _queue(request, template: str, returns: list[queues.ExpectedReturn], **extra):
    state = queues.parse_state(request.GET.get("state"))
    shown = queues.in_state(returns, state)
    return render(
        request,
        template,
        {
            "state": state,
            "states": queues.State,
            "counts": queues.state_counts(returns),
            "total": len(returns),
            "awaiting": [r for r in shown if r.state == queues.State.SUBMITTED],
            "others": [r for r in shown if r.state != queues.State.SUBMITTED],
            **extra,
        },
    )


@login_required
def review_queue(request, code):
    """An ICS's review queue: every return expected of its member trusts in the current cycles, started or not,
    submitted ones first, filterable by state. Its reviewers act on them; analysts may look."""
    ics = get_object_or_404(ICS.objects.select_related("region"), code=code.upper())
    permissions.require(request.user, permissions.VIEW_NAMED, ics)
    return _queue(
        request,
        "maturity/review_queue.html",
        queues.trust_returns(ics, list(Cycle.objects.current())),
        ics=ics,
        breadcrumbs=[("England", "/national/"), (ics.short_name, f"/ics/{ics.code}/")],
    )


@login_required
def ics_review_queue(request):
    """Analysts review the ICBs' own assessments: every ICB's return in the current cycles, started or not."""
    if not permissions.can(request.user, permissions.MANAGE, None):
        raise PermissionDenied("Only NHS England analysts review ICB assessments.")
    return _queue(request, "maturity/ics_review_queue.html", queues.icb_returns(list(Cycle.objects.current())))


def _decide(request, assessment, version: int, decision: str, comments: dict[str, str], queries: list[str]) -> str:
    """Carry out the reviewer's decision (approve or return, as ReviewForm read it) and say what happened;
    actions.Invalid when it cannot be taken as sent."""
    if decision == "approve":
        if queries:
            # Queries go to the trust only with a return: refuse rather than approve over what was ticked.
            raise actions.Invalid(
                {
                    f"{review_queries.FIELD_PREFIX}{queries[0]}": "You ticked queries to send to the trust: they go "
                    "back only with a return. Return the assessment, or untick them and approve"
                }
            )
        on_domains = [code for code, text in comments.items() if code and text.strip()]
        if on_domains:
            # Approval carries one comment on the whole: refuse rather than drop what was typed on domains.
            raise actions.Invalid(
                {
                    f"comment-{on_domains[0]}": f"You wrote comments on {', '.join(on_domains)}: comments on domains "
                    "go back to the trust only with a return. Return the assessment, or move them into the comment "
                    "on the whole assessment and approve"
                }
            )
        actions.approve_assessment(
            by=request.user, assessment=assessment, expected_version=version, comment=comments[""]
        )
        return "Assessment approved. It is now read-only."
    actions.return_assessment(
        by=request.user,
        assessment=assessment,
        expected_version=version,
        comments=[actions.Comment(text=text, domain_code=code) for code, text in comments.items()],
        queries=queries,
    )
    return "Assessment returned to the trust with your comments and queries."


def _save_verification(request, assessment, version: int, ticked: set[str], verified: set[str]) -> int:
    """Verify the evidence newly ticked and take back what was unticked, before the decision in the same
    transaction; returns the assessment's version after them, for the decision to name."""
    if newly := sorted(ticked - verified):
        version = actions.verify_evidence(
            by=request.user, assessment=assessment, expected_version=version, domain_codes=newly
        ).version
    if untaken := sorted(verified - ticked):
        version = actions.unverify_evidence(
            by=request.user, assessment=assessment, expected_version=version, domain_codes=untaken
        ).version
    return version


@login_required
def review(request, code, year, setting=None):
    target, assessment = _existing(request, code, year, setting)
    if not access.may_review(request.user, assessment):
        raise PermissionDenied("You may not review this assessment.")
    pillars = pillars_of(assessment)
    errors, comments, chosen = {}, {}, []
    rows = [row for pillar in pillars for row in pillar.rows]
    verified = {row.domain.code for row in rows if row.evidence_verified_at is not None}
    ticked = verified
    if request.method == "POST":
        # Every comment, query and "Evidence verified" box goes with either button: kept on the page when the
        # decision is refused.
        form = ReviewForm([row.domain.code for row in rows], request.POST)
        comments, chosen = form.comments(), form.queries()
        ticked = EvidenceVerificationForm([row.domain.code for row in rows if row.has_evidence], request.POST).ticked()
        try:
            cleaned = checked(form)
            # The verification is saved in the decision's transaction: a refused decision saves none of it.
            with transaction.atomic():
                version = _save_verification(request, assessment, cleaned["version"], ticked, verified)
                done = _decide(request, assessment, version, cleaned["decision"], comments, chosen)
        except actions.Invalid as error:
            errors = error.errors
        except (actions.Conflict, actions.WrongState) as error:
            messages.error(request, str(error))
            return redirect(assessment_url(assessment))
        else:
            messages.success(request, done)
            return redirect(assessment_url(assessment))
    viewer = permissions.viewer_of(request.user)
    found = evidence.evidence_for(assessment, viewer, pillars, indicator_rows(assessment))
    findings = checks.findings_for(assessment, viewer)
    # The queries of the last return, answered since; earlier rounds' are resolved, and on the history page.
    sent = review_queries.with_status(review_queries.open_queries(assessment), findings)
    evidence.attach_queries(found, findings, sent, frozenset(chosen))
    for pillar in found.pillars:
        for domain in pillar.domains:
            code = domain.row.domain.code
            domain.comment, domain.comment_error = comments.get(code, ""), errors.get(f"comment-{code}", "")
            domain.evidence_verified = code in ticked
            for query in domain.queries:
                query.error = errors.get(query.field_name, "")
    for indicator in found.indicators:
        for query in indicator.queries:
            query.error = errors.get(query.field_name, "")
    context = _context(
        request,
        target,
        evidence=found,
        comment=comments.get("", ""),
        errors=errors,
        error_list=[(f"#{key}", message) for key, message in errors.items()],
    )
    return render(request, "maturity/review.html", context, status=400 if errors else 200)
