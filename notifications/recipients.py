"""Who is told, from the memberships (trusts.models.Membership): the same people the permission rules let act.

An assessment's makers are those who may edit it (trusts.permissions EDIT): a trust's leads for a trust's
return, the ICS's reviewers for an ICB's own. Its reviewers are those who may review it (REVIEW): the reviewers of
the ICS it recorded in its cycle for a trust's return, the analysts for an ICB's own. People without an e-mail
address or whose account is switched off are nobody's recipients."""

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from maturity.models import Assessment
from trusts.models import ICS, Role, Trust


def _reachable() -> QuerySet:
    return get_user_model().objects.filter(is_active=True).exclude(email="")


def leads_of(trust: Trust) -> QuerySet:
    return _reachable().filter(memberships__role=Role.TRUST_LEAD, memberships__trust=trust).distinct()


def reviewers_of(ics: ICS) -> QuerySet:
    return _reachable().filter(memberships__role=Role.ICS_REVIEWER, memberships__ics=ics).distinct()


def analysts() -> QuerySet:
    return _reachable().filter(memberships__role=Role.ANALYST).distinct()


def makers_of(assessment: Assessment) -> QuerySet:
    return reviewers_of(assessment.ics) if assessment.is_ics_assessment else leads_of(assessment.trust)


def reviewers_of_assessment(assessment: Assessment) -> QuerySet:
    return analysts() if assessment.is_ics_assessment else reviewers_of(assessment.ics)
