"""The audit trail: every action records who did what, when, and the values before and after."""

from maturity.models import Assessment, AuditEvent, Cycle


def record(
    *,
    by,
    action: str,
    summary: str,
    assessment: Assessment | None = None,
    cycle: Cycle | None = None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        actor=by if by is not None and by.is_authenticated else None,
        action=action,
        assessment=assessment,
        cycle=cycle or (assessment.cycle if assessment else None),
        version=assessment.version if assessment else None,
        summary=summary[:300],
        before=before or {},
        after=after or {},
    )
