"""Every write to an assessment goes through one of these functions: the forms, the spreadsheet upload, the API and
the import commands all call them. Each checks who and what, writes in one transaction, records the audit event
and marks the summaries for refresh in that same transaction (enqueued after commit, swept if the broker missed it)
when the change can move a counted figure: every change of status does; saving a draft's or a returned
assessment's answers does not (see refresh.mark_if_counted).

The state machine: draft → submitted → (returned → submitted)* → approved; an analyst may re-open an approved
assessment (back to draft). Only draft and returned assessments can be changed, and only while the cycle is open.
"""

import math
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, FilteredRelation, OuterRef, Q, Subquery
from django.utils import timezone

from maturity import access, audit, checks, published, refresh, review_queries
from maturity.answers import CleanValue, clean_answers, clean_indicator, clean_indicators
from maturity.models import (
    Assessment,
    AuditEvent,
    Cycle,
    CycleState,
    Domain,
    DomainAnswer,
    GapTarget,
    Indicator,
    IndicatorValue,
    QueryAnswer,
    RefreshMark,
    ReviewComment,
    ReviewQuery,
    Source,
    Status,
    TargetKind,
    Theme,
)
from notifications import outbox
from trusts import permissions
from trusts.models import CareSetting, Trust


class ActionError(Exception):
    """A refusal the person can act on; the message says what and why."""


class WrongState(ActionError):
    def __init__(self, assessment: Assessment, action: str):
        self.assessment = assessment
        super().__init__(
            f"This assessment is {assessment.get_status_display().lower()} in a cycle that is "
            f"{assessment.cycle.get_state_display().lower()}: it cannot be {action} now."
        )


class Conflict(ActionError):
    """Someone changed the assessment since this person loaded it. `changes` says what, by whom and when."""

    def __init__(self, assessment: Assessment, since: int):
        self.assessment = assessment
        self.changes = list(
            AuditEvent.objects.filter(assessment=assessment, version__gt=since).select_related("actor").order_by("at")
        )
        super().__init__(
            "Someone else changed this assessment after you opened it, so your changes were not saved: "
            + "; ".join(f"{event.actor or 'the system'} – {event.summary}" for event in self.changes)
        )


class Invalid(ActionError):
    """Input that does not pass validation. `errors` maps a field key to its message (see maturity.answers)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


class Incomplete(ActionError):
    def __init__(self, missing: list[str]):
        self.missing = missing
        super().__init__(f"Answer everything before submitting. Still to answer: {', '.join(missing)}")


class QueriesUnanswered(ActionError):
    """A returned assessment cannot be submitted again until the lead has answered every query sent with it."""

    def __init__(self, queries: list[ReviewQuery]):
        self.queries = queries
        listed = "; ".join(f"{query.subject}: {query.message}" for query in queries)
        super().__init__(f"Answer your reviewer's queries before submitting. Still to answer: {listed}")


@dataclass(frozen=True)
class Comment:
    text: str
    domain_code: str = ""


def _locked(assessment: Assessment) -> Assessment:
    """The assessment row, locked until the transaction ends, so two saves queue rather than race. Only that row:
    PostgreSQL cannot lock the nullable side of an outer join (an ICS assessment has no trust)."""
    return (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("cycle", "framework", "trust", "ics")
        .get(pk=assessment.pk)
    )


def _check_version(assessment: Assessment, expected_version: int) -> None:
    if expected_version > assessment.version:
        # Not someone else's change (there is none to name): the version sent was never this assessment's.
        raise Invalid(
            {
                "version": f"Version {expected_version} is not a version of this assessment (it is at version "
                f"{assessment.version}): reload it and try again"
            }
        )
    if assessment.version != expected_version:
        raise Conflict(assessment, since=expected_version)


def _require(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


def _bump(assessment: Assessment, **fields) -> None:
    for name, value in fields.items():
        setattr(assessment, name, value)
    assessment.version += 1
    assessment.save(update_fields=[*fields, "version", "updated_at"])


def _editable(assessment: Assessment, action: str) -> None:
    if assessment.source != Source.RETURN or not assessment.is_editable_status:
        raise WrongState(assessment, action)
    if assessment.cycle.state != CycleState.OPEN:
        raise WrongState(assessment, action)


def _reviewable(assessment: Assessment, action: str) -> None:
    if assessment.status != Status.SUBMITTED or assessment.cycle.state not in (CycleState.OPEN, CycleState.CLOSED):
        raise WrongState(assessment, action)


@transaction.atomic
def start_assessment(
    *, by, cycle: Cycle, trust: Trust | None = None, care_setting: CareSetting | None = None, ics=None
):
    """Open a draft, or return the one already there: a trust's for one of its care settings, or (no trust) an
    ICS's own. It records the ICS and region the organisation belongs to now, in this cycle."""
    if cycle.state != CycleState.OPEN or cycle.is_published_history:
        raise ActionError(f"The {cycle.year} cycle is not open for assessments.")
    if trust is not None:
        _require(permissions.can(by, permissions.EDIT, trust), "You may not start this trust's assessment.")
        if not trust.care_settings.filter(pk=care_setting.pk).exists():
            raise ActionError(f"{trust.name} makes no return for the {care_setting.name} care setting.")
        lookup = {"cycle": cycle, "trust": trust, "care_setting": care_setting}
        ics, framework = trust.ics, cycle.trust_framework
    else:
        _require(permissions.can(by, permissions.EDIT, ics), "You may not start this ICS's assessment.")
        lookup = {"cycle": cycle, "trust": None, "ics": ics}
        framework = cycle.ics_framework
    assessment, created = Assessment.objects.get_or_create(
        **lookup, defaults={"ics": ics, "region": ics.region, "framework": framework}
    )
    if created:
        # A new assessment has no answers yet, so filling in what NHS England has published overwrites nothing.
        # The values keep their provenance and the indicators page shows it for the lead to check.
        prefilled = IndicatorValue.objects.bulk_create(published_values_for(assessment))
        summary = "Started the assessment"
        if prefilled:
            names = {indicator.code: indicator.name for indicator in assessment.indicators()}
            filled = " and ".join(names[value.indicator_code] for value in prefilled)
            summary += f", with {filled} from NHS England's published data"
        audit.record(
            by=by,
            action="start",
            assessment=assessment,
            summary=summary,
            after={f"indicator:{value.indicator_code}": _value_for_audit(value) for value in prefilled},
        )
        refresh.mark(reason="start", assessment=assessment)
    return assessment


# Indicators whose values NHS England publishes for every trust and ICB (maturity.published loads them).
PUBLISHED_INDICATORS = (published.DSPT_INDICATOR, published.LEGACY_PERCENT_INDICATOR)


def published_values_for(assessment: Assessment) -> list[IndicatorValue]:
    """The latest published value of each indicator the assessment asks and NHS England publishes (DSPT status,
    devices on unsupported systems) for its trust or ICB, as unsaved values of the assessment that keep where they
    came from: source, edition, date and file. Values published as unknown, or that the indicator would refuse, are
    left for the lead to enter. Percentages are kept to one decimal, as pages show them, so that saving the form
    unchanged leaves the value as published."""
    asked = {
        indicator.code: indicator for indicator in assessment.indicators() if indicator.code in PUBLISHED_INDICATORS
    }
    if not asked:
        return []
    owner = {"trust": assessment.trust} if assessment.trust_id else {"trust": None, "ics": assessment.ics}
    latest: dict[str, IndicatorValue] = {}
    for value in IndicatorValue.objects.filter(
        assessment=None, indicator_code__in=asked, is_unknown=False, **owner
    ).order_by("-as_of", "-edition"):
        latest.setdefault(value.indicator_code, value)
    values = []
    for code, indicator in asked.items():
        value = latest.get(code)
        if value is None:
            continue
        raw = round(value.number, 1) if value.number is not None else value.text
        try:
            clean = clean_indicator(indicator, raw)
        except ValidationError:
            continue
        values.append(
            IndicatorValue(
                assessment=assessment,
                indicator_code=code,
                **clean.as_dict(),
                source=Source.PUBLISHED,
                edition=value.edition,
                as_of=value.as_of,
                source_note=value.source_note,
            )
        )
    return values


@transaction.atomic
def save_answers(
    *,
    by,
    assessment: Assessment,
    expected_version: int,
    answers: dict[str, dict] | None = None,
    indicators: dict[str, object] | None = None,
    action: str = "save",
) -> Assessment:
    """Save some domains' answers and indicator values (raw values, as entered). Only what changed is written and
    audited; nothing changes when any value is invalid. `action` names the route in the audit trail (save, upload,
    api).

    A fixed number of queries whatever the size of the save: the lock, one read of the domains with this
    assessment's answers and one of the indicators with its values, then one statement per kind of write (answers
    upserted; indicator values created, updated, cleared), the version and the audit event."""
    assessment = _locked(assessment)
    _require(access.may_edit(by, assessment), "You may not change this assessment.")
    _editable(assessment, "changed")
    _check_version(assessment, expected_version)

    domains = _domains_with_answers(assessment) if answers else {}
    indicator_defs = _indicators_with_values(assessment) if indicators else {}
    clean, errors = clean_answers(domains, answers or {})
    clean_values, indicator_errors = clean_indicators(indicator_defs, indicators or {})
    errors.update(indicator_errors)
    if errors:
        raise Invalid(errors)

    before, after = {}, {}
    changed_answers = []
    for code, answer in clean.items():
        domain = domains[code]
        old = _answer_for_audit(domain, "answer_") if domain.answer_id is not None else dict(NO_ANSWER)
        new = _answer_for_audit(answer)
        if old == new:
            continue
        if domain.answer_id is not None and domain.answer_verified_at is not None:
            # The reviewer verified the evidence as it was: a changed answer is self-asserted again.
            old, new = {**old, "evidence_verified": True}, {**new, "evidence_verified": False}
        before[code], after[code] = old, new
        # Built unverified: the upsert below writes the verification columns too, clearing them.
        changed_answers.append(DomainAnswer(assessment=assessment, domain=domain, **_answer_for_audit(answer)))

    new_values, changed_values, cleared = [], [], []
    for code, value in clean_values.items():
        indicator = indicator_defs[code]
        current = indicator.value_id is not None
        old = _value_for_audit(_current_value(indicator)) if current else None
        new = _value_for_audit(value) if not value.is_empty else None
        if old == new:
            continue
        before[f"indicator:{code}"], after[f"indicator:{code}"] = old, new
        if value.is_empty:
            cleared.append(code)
        elif current:
            changed_values.append(IndicatorValue(pk=indicator.value_id, **value.as_dict(), source=Source.RETURN))
        else:
            new_values.append(
                IndicatorValue(assessment=assessment, indicator_code=code, **value.as_dict(), source=Source.RETURN)
            )

    if not after:
        return assessment
    if changed_answers:
        # One statement for new and changed answers alike: (assessment, domain) is unique.
        DomainAnswer.objects.bulk_create(
            changed_answers,
            update_conflicts=True,
            unique_fields=["assessment", "domain"],
            update_fields=[*ANSWER_FIELDS, *VERIFICATION_FIELDS],
        )
    # Indicator values cannot be upserted: their uniqueness is a partial index (published values share the table),
    # which ON CONFLICT cannot name. Changed rows are updated in place; a value filled in from published data and
    # changed here is the lead's own from then on, so it loses the published provenance.
    if cleared:
        IndicatorValue.objects.filter(assessment=assessment, indicator_code__in=cleared).delete()
    if changed_values:
        IndicatorValue.objects.bulk_update(changed_values, [*VALUE_FIELDS, *PROVENANCE_FIELDS])
    if new_values:
        IndicatorValue.objects.bulk_create(new_values)

    _bump(assessment)
    changed = ", ".join(sorted(code.removeprefix("indicator:") for code in after))
    audit.record(by=by, action=action, assessment=assessment, summary=f"Changed {changed}", before=before, after=after)
    # This marks nothing today: only draft and returned assessments can be saved (_editable, checked above under
    # the lock), a save never changes the status, and the summaries count submitted, approved and published
    # assessments only (Assessment.objects.counted()), while progress counts statuses. So no counted figure can
    # change until the assessment is submitted, and submit_assessment marks it then. Should saves ever be allowed
    # on a counted assessment, mark_if_counted marks them.
    refresh.mark_if_counted(reason=action, assessment=assessment)
    return assessment


ANSWER_FIELDS = ("level", "evidence_note", "evidence_link")
VERIFICATION_FIELDS = ("evidence_verified_by", "evidence_verified_at")
VALUE_FIELDS = ("number", "text", "date", "boolean")
PROVENANCE_FIELDS = ("source", "edition", "as_of", "source_note")
NO_ANSWER = {"level": None, "evidence_note": "", "evidence_link": ""}


def _domains_with_answers(assessment: Assessment) -> dict[str, Domain]:
    """The domains that apply to the assessment (as Assessment.applicable_domains), by code, each annotated with this
    assessment's answer to it: `answer_id` (None when there is none), `answer_level`, `answer_evidence_note`,
    `answer_evidence_link`. One query: a left join on the answers."""
    if assessment.framework_id is None:
        return {}
    domains = (
        Domain.objects.filter(framework_id=assessment.framework_id)
        .annotate(mine=FilteredRelation("answers", condition=Q(answers__assessment=assessment)))
        .annotate(
            answer_id=F("mine__id"),
            answer_verified_at=F("mine__evidence_verified_at"),
            **{f"answer_{name}": F(f"mine__{name}") for name in ANSWER_FIELDS},
        )
        .order_by("pillar__position", "position")
    )
    return {domain.code: domain for domain in domains if domain.applies_to(assessment.care_setting_id)}


def _indicators_with_values(assessment: Assessment) -> dict[str, Indicator]:
    """The framework's indicators (as Assessment.indicators), by code, each annotated with this assessment's value:
    `value_id` (None when there is none) and `value_<column>`. One query: indicator values name their indicator by
    code, not by a foreign key, so the values come as subqueries."""
    if assessment.framework_id is None:
        return {}
    mine = IndicatorValue.objects.filter(assessment=assessment, indicator_code=OuterRef("code"))
    indicators = (
        Indicator.objects.filter(framework_id=assessment.framework_id)
        .annotate(
            value_id=Subquery(mine.values("pk")[:1]),
            **{f"value_{name}": Subquery(mine.values(name)[:1]) for name in VALUE_FIELDS},
        )
        .order_by("position")
    )
    return {indicator.code: indicator for indicator in indicators}


def _answer_for_audit(answer, prefix: str = "") -> dict:
    return {name: getattr(answer, f"{prefix}{name}") for name in ANSWER_FIELDS}


def _current_value(indicator: Indicator) -> CleanValue:
    return CleanValue(**{name: getattr(indicator, f"value_{name}") for name in VALUE_FIELDS})


def _value_for_audit(value) -> dict:
    """JSON-friendly view of an indicator value (a CleanValue or an IndicatorValue)."""
    return {
        key: (found.isoformat() if hasattr(found, "isoformat") else found)
        for key in ("number", "text", "date", "boolean")
        if (found := getattr(value, key)) not in (None, "")
    }


def missing_answers(assessment: Assessment) -> list[str]:
    """Codes of applicable domains without a level and of required indicators without a value."""
    answered = set(assessment.answers.filter(level__isnull=False).values_list("domain__code", flat=True))
    missing = [domain.code for domain in assessment.applicable_domains() if domain.code not in answered]
    filled = set(assessment.indicator_values.values_list("indicator_code", flat=True))
    missing += [
        indicator.code for indicator in assessment.indicators() if indicator.required and indicator.code not in filled
    ]
    return missing


@transaction.atomic
def submit_assessment(
    *, by, assessment: Assessment, expected_version: int, sign_off_name: str, sign_off_role: str, declared: bool
) -> Assessment:
    assessment = _locked(assessment)
    _require(access.may_edit(by, assessment), "You may not submit this assessment.")
    _editable(assessment, "submitted")
    _check_version(assessment, expected_version)
    errors = {}
    if not sign_off_name.strip():
        errors["sign_off_name"] = "Enter the name of the person who signed off the assessment"
    if not sign_off_role.strip():
        errors["sign_off_role"] = "Enter the role of the person who signed off the assessment"
    if not declared:
        errors["declared"] = "Confirm the declaration to submit"
    if errors:
        raise Invalid(errors)
    if missing := missing_answers(assessment):
        raise Incomplete(missing)
    if unanswered := review_queries.unanswered_queries(assessment):
        raise QueriesUnanswered(unanswered)
    before = assessment.status
    _bump(
        assessment,
        status=Status.SUBMITTED,
        submitted_by=by,
        submitted_at=timezone.now(),
        sign_off_name=sign_off_name.strip(),
        sign_off_role=sign_off_role.strip(),
    )
    audit.record(
        by=by,
        action="submit",
        assessment=assessment,
        summary=f"Submitted, signed off by {assessment.sign_off_name} ({assessment.sign_off_role})",
        before={"status": before},
        after={"status": assessment.status},
    )
    refresh.mark(reason="submit", assessment=assessment)
    outbox.assessment_submitted(assessment)
    return assessment


@transaction.atomic
def return_assessment(
    *, by, assessment: Assessment, expected_version: int, comments: list[Comment], queries: list[str] = ()
) -> Assessment:
    """Send a submitted assessment back for changes, with at least one comment (on a domain or on the whole) or
    query. `queries` are the keys (maturity.review_queries.finding_key) of the cross-checks to send as queries: the
    checks are run again here and a key that does not fire now is refused, so what is sent is what the return says
    today, in the words the lead will read. The queries of an earlier round, answered since, are resolved: the
    reviewer has read the answers and may send a check that still fires again."""
    assessment = _locked(assessment)
    _require(access.may_review(by, assessment), "You may not review this assessment.")
    _reviewable(assessment, "returned")
    _check_version(assessment, expected_version)
    comments = [comment for comment in comments if comment.text.strip()]
    chosen = list(dict.fromkeys(queries))
    if not comments and not chosen:
        raise Invalid(
            {
                "comment": "Say what needs changing: add a comment to the assessment or to a domain, or send a query "
                "to the trust"
            }
        )
    domains = {domain.code: domain for domain in assessment.applicable_domains()}
    unknown = [
        comment.domain_code for comment in comments if comment.domain_code and comment.domain_code not in domains
    ]
    if unknown:
        raise Invalid({"comment": f"Unknown domain {', '.join(unknown)}"})
    firing = {
        review_queries.finding_key(found): found for found in checks.findings_for(assessment, permissions.viewer_of(by))
    }
    not_firing = [key for key in chosen if key not in firing]
    if not_firing:
        raise Invalid(
            {
                f"{review_queries.FIELD_PREFIX}{key}": f"The check {key} does not fire on this return now, so it "
                "cannot be sent as a query: open the review page again to see the checks that fire"
                for key in not_firing
            }
        )
    review_round = assessment.audit_events.filter(action="return").count() + 1
    now = timezone.now()
    resolved = _resolve_open_queries(assessment, by, now)
    check_set = checks.check_set_in_force()
    sent = ReviewQuery.objects.bulk_create(
        ReviewQuery(
            assessment=assessment,
            check_set=check_set,
            rule_code=firing[key].rule,
            domain=domains.get(firing[key].domain),
            indicator_code="" if firing[key].domain else firing[key].indicator,
            message=firing[key].message,
            round=review_round,
            sent_by=by,
            sent_at=now,
        )
        for key in chosen
    )
    ReviewComment.objects.bulk_create(
        ReviewComment(
            assessment=assessment,
            domain=domains.get(comment.domain_code),
            author=by,
            text=comment.text.strip(),
            round=review_round,
        )
        for comment in comments
    )
    _bump(assessment, status=Status.RETURNED, reviewed_by=by, reviewed_at=now)
    audit.record(
        by=by,
        action="return",
        assessment=assessment,
        summary="Returned for changes with "
        + " and ".join(
            part
            for part in (
                _count(len(comments), "comment") if comments else "",
                _count(len(sent), "query", "queries") if sent else "",
            )
            if part
        ),
        before={"status": Status.SUBMITTED},
        after={
            "status": Status.RETURNED,
            "comments": [{"domain": c.domain_code, "text": c.text.strip()} for c in comments],
            **_queries_for_audit(sent=sent, resolved=resolved),
        },
    )
    refresh.mark(reason="return", assessment=assessment)
    outbox.assessment_returned(assessment, comments, queries=sent)
    return assessment


def _count(number: int, singular: str, plural: str = "") -> str:
    return f"{number} {singular if number == 1 else plural or singular + 's'}"


def _queries_for_audit(**groups: list[ReviewQuery]) -> dict:
    """The queries sent or resolved by a decision, for its audit event: only the groups that have any."""
    return {
        f"{name}_queries": [
            {"rule": query.rule_code, "about": query.subject, "round": query.round, "message": query.message}
            for query in queries
        ]
        for name, queries in groups.items()
        if queries
    }


def _resolve_open_queries(assessment: Assessment, by, now) -> list[ReviewQuery]:
    """Close the queries still open: the reviewer has decided with their answers in front of them."""
    resolved = list(assessment.queries.filter(resolved_at__isnull=True).select_related("domain"))
    assessment.queries.filter(pk__in=[query.pk for query in resolved]).update(resolved_by=by, resolved_at=now)
    return resolved


@transaction.atomic
def answer_query(*, by, query: ReviewQuery, expected_version: int, answer: str, explanation: str = "") -> ReviewQuery:
    """The lead answers a query sent with a return: they changed the answer (a note optional), or they explain why it
    stands. Answered again, the new answer replaces the old (the audit trail keeps both). Answering a query that is
    resolved, or on an assessment not returned, is refused."""
    assessment = _locked(query.assessment)
    _require(access.may_edit(by, assessment), "You may not answer this assessment's queries.")
    _editable(assessment, "changed")
    if assessment.status != Status.RETURNED:
        raise WrongState(assessment, "changed")
    _check_version(assessment, expected_version)
    query = ReviewQuery.objects.select_related("domain").get(pk=query.pk, assessment=assessment)
    if not query.is_open:
        raise ActionError("This query was resolved by your reviewer: it needs no answer now.")
    explanation = explanation.strip()
    if answer not in QueryAnswer.values:
        raise Invalid({"answer": "Say whether you changed your answer or are explaining why it stands"})
    if answer == QueryAnswer.EXPLAINED and not explanation:
        raise Invalid({"explanation": "Enter your explanation: why the answer stands despite the query"})
    before = {"answer": query.answer, "explanation": query.explanation}
    query.answer, query.explanation = answer, explanation
    query.answered_by, query.answered_at = by, timezone.now()
    query.save(update_fields=["answer", "explanation", "answered_by", "answered_at"])
    _bump(assessment)
    audit.record(
        by=by,
        action="answer_query",
        assessment=assessment,
        summary=f"Answered the query on {query.subject}: {query.get_answer_display().lower()}",
        before=before,
        after={"query": query.message, "answer": answer, "explanation": explanation},
    )
    # No refresh: the status stays returned, which no summary counts.
    return query


@transaction.atomic
def approve_assessment(*, by, assessment: Assessment, expected_version: int, comment: str = "") -> Assessment:
    assessment = _locked(assessment)
    _require(access.may_review(by, assessment), "You may not review this assessment.")
    _reviewable(assessment, "approved")
    _check_version(assessment, expected_version)
    if comment.strip():
        review_round = assessment.audit_events.filter(action="return").count() + 1
        ReviewComment.objects.create(assessment=assessment, author=by, text=comment.strip(), round=review_round)
    now = timezone.now()
    resolved = _resolve_open_queries(assessment, by, now)
    _bump(assessment, status=Status.APPROVED, reviewed_by=by, reviewed_at=now)
    audit.record(
        by=by,
        action="approve",
        assessment=assessment,
        summary="Approved" + (f", resolving {_count(len(resolved), 'query', 'queries')}" if resolved else ""),
        before={"status": Status.SUBMITTED},
        after={
            "status": Status.APPROVED,
            "comment": comment.strip(),
            **_queries_for_audit(resolved=resolved),
        },
    )
    refresh.mark(reason="approve", assessment=assessment)
    outbox.assessment_approved(assessment, comment)
    return assessment


@transaction.atomic
def verify_evidence(*, by, assessment: Assessment, expected_version: int, domain_codes: list[str]) -> Assessment:
    """The reviewer has checked these domains' evidence (note and link) and marks it verified. Only answers with
    evidence can be; answers already verified stay as they were (by whom, when). Dashboards count the share of
    verified scores, so this marks a refresh."""
    return _set_verification(
        by=by, assessment=assessment, expected_version=expected_version, domain_codes=domain_codes, verified=True
    )


@transaction.atomic
def unverify_evidence(*, by, assessment: Assessment, expected_version: int, domain_codes: list[str]) -> Assessment:
    """Take back a verification: these domains' evidence is self-asserted again."""
    return _set_verification(
        by=by, assessment=assessment, expected_version=expected_version, domain_codes=domain_codes, verified=False
    )


def _set_verification(*, by, assessment, expected_version: int, domain_codes: list[str], verified: bool):
    assessment = _locked(assessment)
    _require(access.may_review(by, assessment), "You may not review this assessment.")
    _reviewable(assessment, "verified" if verified else "unverified")
    _check_version(assessment, expected_version)
    codes = list(dict.fromkeys(domain_codes))
    answers = {
        answer.domain.code: answer
        for answer in assessment.answers.filter(domain__code__in=codes).select_related("domain")
    }
    applicable = {domain.code for domain in assessment.applicable_domains()}
    if unknown := [code for code in codes if code not in applicable]:
        raise Invalid({"evidence": f"Unknown domain {', '.join(unknown)}"})
    if verified:
        without = [code for code in codes if code not in answers or not answers[code].has_evidence]
        if without:
            raise Invalid(
                {
                    f"verified-{without[0]}": f"{', '.join(without)} {'has' if len(without) == 1 else 'have'} no "
                    "evidence note or link, so there is no evidence to verify"
                }
            )
    changing = [
        answer
        for code, answer in answers.items()
        if code in codes and (answer.evidence_verified_at is None) == verified
    ]
    if not changing:
        return assessment
    now = timezone.now()
    for answer in changing:
        answer.evidence_verified_by, answer.evidence_verified_at = (by, now) if verified else (None, None)
    DomainAnswer.objects.bulk_update(changing, list(VERIFICATION_FIELDS))
    _bump(assessment)
    changed = sorted(answer.domain.code for answer in changing)
    audit.record(
        by=by,
        action="verify_evidence" if verified else "unverify_evidence",
        assessment=assessment,
        summary=f"{'Verified' if verified else 'Took back the verification of'} the evidence of {', '.join(changed)}",
        before={code: {"evidence_verified": not verified} for code in changed},
        after={code: {"evidence_verified": verified} for code in changed},
    )
    # The share of verified scores is a counted figure (reports' pillar and area summaries).
    refresh.mark(reason="verify_evidence" if verified else "unverify_evidence", assessment=assessment)
    return assessment


@transaction.atomic
def reopen_assessment(*, by, assessment: Assessment, expected_version: int, reason: str) -> Assessment:
    """Analysts only: put an approved assessment back to draft, for example after an error came to light."""
    assessment = _locked(assessment)
    _require(access.may_reopen(by, assessment), "Only NHS England analysts may re-open an approved assessment.")
    if assessment.status != Status.APPROVED or assessment.cycle.is_published_history:
        raise WrongState(assessment, "re-opened")
    _check_version(assessment, expected_version)
    if not reason.strip():
        raise Invalid({"reason": "Say why the assessment is being re-opened"})
    _bump(assessment, status=Status.DRAFT)
    audit.record(
        by=by,
        action="reopen",
        assessment=assessment,
        summary=f"Re-opened: {reason.strip()}",
        before={"status": Status.APPROVED},
        after={"status": Status.DRAFT, "reason": reason.strip()},
    )
    refresh.mark(reason="reopen", assessment=assessment)
    return assessment


# --- Cycles (analysts) -------------------------------------------------------------------------------------------

CYCLE_TRANSITIONS = {
    CycleState.UPCOMING: {CycleState.OPEN},
    CycleState.OPEN: {CycleState.CLOSED},
    CycleState.CLOSED: {CycleState.OPEN, CycleState.PUBLISHED},
    CycleState.PUBLISHED: set(),
}


def _require_analyst(by) -> None:
    _require(permissions.can(by, permissions.MANAGE, None), "Only NHS England analysts manage cycles.")


@transaction.atomic
def create_cycle(*, by, year: int, trust_framework, ics_framework, opens_on=None, closes_on=None) -> Cycle:
    _require_analyst(by)
    errors = {}
    if Cycle.objects.filter(year=year).exists():
        errors["year"] = f"There is already a {year} cycle"
    if trust_framework is None or trust_framework.kind != "trust":
        errors["trust_framework"] = "Choose a trust framework"
    if ics_framework is None or ics_framework.kind != "ics":
        errors["ics_framework"] = "Choose an ICB framework"
    if opens_on and closes_on and closes_on < opens_on:
        errors["closes_on"] = "The deadline must be after the opening date"
    if errors:
        raise Invalid(errors)
    cycle = Cycle.objects.create(
        year=year,
        kind="collected",
        trust_framework=trust_framework,
        ics_framework=ics_framework,
        opens_on=opens_on,
        closes_on=closes_on,
    )
    audit.record(by=by, action="create_cycle", cycle=cycle, summary=f"Created the {year} cycle", after={"year": year})
    return cycle


@transaction.atomic
def update_cycle(*, by, cycle: Cycle, state: str, opens_on=None, closes_on=None) -> Cycle:
    """Change a collected cycle's dates or move it on: upcoming → open → closed → published (or closed → open)."""
    _require_analyst(by)
    cycle = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if cycle.is_published_history:
        raise ActionError("Published history is read-only.")
    if state != cycle.state and state not in CYCLE_TRANSITIONS[cycle.state]:
        allowed = ", ".join(sorted(CycleState(s).label.lower() for s in CYCLE_TRANSITIONS[cycle.state])) or "nothing"
        raise Invalid({"state": f"A {cycle.get_state_display().lower()} cycle can move to {allowed} only"})
    if opens_on and closes_on and closes_on < opens_on:
        raise Invalid({"closes_on": "The deadline must be after the opening date"})
    before = {"state": cycle.state, "opens_on": str(cycle.opens_on or ""), "closes_on": str(cycle.closes_on or "")}
    cycle.state, cycle.opens_on, cycle.closes_on = state, opens_on, closes_on
    cycle.save(update_fields=["state", "opens_on", "closes_on"])
    after = {"state": cycle.state, "opens_on": str(cycle.opens_on or ""), "closes_on": str(cycle.closes_on or "")}
    if before != after:
        audit.record(
            by=by,
            action="update_cycle",
            cycle=cycle,
            summary=f"Updated the {cycle.year} cycle",
            before=before,
            after=after,
        )
        refresh.mark(reason="cycle", cycle=cycle)
    return cycle


@transaction.atomic
def set_gap_targets(*, by, cycle: Cycle, targets: list[dict]) -> Cycle:
    """Replace a cycle's gap targets. Each: theme, kind, indicator_code (for indicator kinds), value, description."""
    _require_analyst(by)
    indicators = {
        indicator.code: indicator
        for indicator in Indicator.objects.filter(framework__in=[cycle.trust_framework_id, cycle.ics_framework_id])
    }
    errors = {}
    for number, target in enumerate(targets, start=1):
        errors.update(_target_errors(number, target, indicators))
    if errors:
        raise Invalid(errors)
    before = [_target_dict(target) for target in cycle.targets.all()]
    cycle.targets.all().delete()
    GapTarget.objects.bulk_create(
        GapTarget(
            cycle=cycle,
            theme=target["theme"],
            kind=target["kind"],
            indicator_code=target.get("indicator_code", ""),
            value=target["value"],
            description=target["description"],
        )
        for target in targets
    )
    audit.record(
        by=by,
        action="set_targets",
        cycle=cycle,
        summary=f"Set the {cycle.year} gap targets",
        before={"targets": before},
        after={"targets": [_target_dict(target) for target in cycle.targets.all()]},
    )
    refresh.mark(reason="targets", cycle=cycle)
    return cycle


@transaction.atomic
def request_full_rebuild(*, by) -> RefreshMark:
    """An analyst's "rebuild now": a mark for everything, enqueued after commit and swept if the broker is down, so
    asking never fails on the broker and the request is never lost."""
    _require(permissions.can(by, permissions.MANAGE, None), "Only NHS England analysts manage the summaries.")
    audit.record(by=by, action="request_rebuild", summary="Asked for a full rebuild of the summaries")
    return refresh.mark(reason="rebuild requested")


@transaction.atomic
def requeue_refresh_mark(*, by, mark: RefreshMark) -> RefreshMark:
    """Retry a parked refresh, once its cause is fixed: its failures are counted afresh, it is enqueued after commit
    and swept if the broker misses it, and it is parked again if it keeps failing."""
    _require(permissions.can(by, permissions.MANAGE, None), "Only NHS England analysts manage the summaries.")
    mark = RefreshMark.objects.select_for_update().get(pk=mark.pk)
    if mark.parked_at is None or mark.done_at is not None:
        raise ActionError("This refresh is not parked: it is done, or it is still being retried.")
    before = {"attempts": mark.attempts, "parked_at": mark.parked_at.isoformat(), "last_error": mark.last_error}
    mark.attempts, mark.last_error, mark.parked_at, mark.enqueued_at = 0, "", None, None
    mark.save(update_fields=["attempts", "last_error", "parked_at", "enqueued_at"])
    audit.record(
        by=by,
        action="requeue_refresh",
        assessment=mark.assessment,
        cycle=mark.cycle,
        summary=f"Re-queued the parked {mark}",
        before=before,
        after={"attempts": 0, "parked_at": None},
    )
    transaction.on_commit(lambda: refresh.enqueue(mark.pk))
    return mark


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _target_errors(number: int, target: dict, indicators: dict[str, Indicator]) -> dict[str, str]:
    """What is wrong with one gap target, by field. Each kind's value is typed: a level from 1 to 5, a finite number
    within the indicator's bounds, or a list of the indicator's allowed values. A value the summaries cannot use
    would stop every refresh of the cycle, so it is refused here, where the analyst can fix it."""
    errors, where = {}, f"target-{number}-"
    kind, value, code = target["kind"], target["value"], target.get("indicator_code", "")
    if target["theme"] not in Theme.values:
        errors[where + "theme"] = f"Target {number}: choose a theme"
    if kind not in TargetKind.values:
        errors[where + "kind"] = f"Target {number}: choose what the target measures"
        return errors
    if kind == TargetKind.DOMAIN_LEVEL:
        if not (_is_number(value) and 1 <= value <= 5):
            errors[where + "value"] = f"Target {number}: a level target is a number from 1 to 5, like 3 or 3.5"
        return errors
    indicator = indicators.get(code)
    if indicator is None:
        errors[where + "indicator_code"] = f"Target {number}: name an indicator of this cycle's frameworks" + (
            f" ('{code}' is not one)" if code else ""
        )
        return errors
    if kind == TargetKind.INDICATOR_IN:
        if not (isinstance(value, list) and value and all(isinstance(item, str | bool) for item in value)):
            errors[where + "value"] = f"Target {number}: list the allowed values, separated by commas"
        elif indicator.choices and (unknown := [item for item in value if item not in indicator.choices]):
            errors[where + "value"] = (
                f"Target {number}: {', '.join(map(str, unknown))} is not a value of {indicator.name}; "
                f"choose from {', '.join(indicator.choices)}"
            )
        return errors
    low = indicator.min_value if indicator.min_value is not None else -math.inf
    high = indicator.max_value if indicator.max_value is not None else math.inf
    if not (_is_number(value) and low <= value <= high):
        bounds = " and ".join(
            part
            for part in (
                f"at least {indicator.min_value:g}" if indicator.min_value is not None else "",
                f"at most {indicator.max_value:g}" if indicator.max_value is not None else "",
            )
            if part
        )
        errors[where + "value"] = (
            f"Target {number}: {indicator.name} is compared with a number"
            + (f" {bounds}" if bounds else "")
            + ", without a % sign, like 5"
        )
    return errors


def _target_dict(target: GapTarget) -> dict:
    return {
        "theme": target.theme,
        "kind": target.kind,
        "indicator_code": target.indicator_code,
        "value": target.value,
        "description": target.description,
    }
