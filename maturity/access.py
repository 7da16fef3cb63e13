"""Who may do what to an assessment, in terms of trusts.permissions: a trust's assessment follows the trust,
an ICS's own assessment follows the ICS."""

from maturity.models import Assessment
from trusts import permissions


def _organisation(assessment: Assessment):
    return assessment.ics if assessment.is_ics_assessment else assessment.trust


def may_view(user, assessment: Assessment) -> bool:
    """Entered data is named only to its trust, the reviewers of the ICS it recorded in its cycle, and analysts
    (published data is public, but pages show it through the organisation pages)."""
    return permissions.viewer_of(user).names_assessment(assessment.trust_id, assessment.ics_id)


def may_edit(user, assessment: Assessment) -> bool:
    return permissions.can(user, permissions.EDIT, _organisation(assessment))


def may_review(user, assessment: Assessment) -> bool:
    return permissions.can(user, permissions.REVIEW, _organisation(assessment))


def may_reopen(user, assessment: Assessment) -> bool:
    return permissions.can(user, permissions.MANAGE, None)
