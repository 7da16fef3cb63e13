"""Queries: the cross-checks (maturity.checks) a reviewer sends to the trust with a return, as the pages name and
read them. A check that fires is named by its rule and what it is about (`<rule>-<domain or indicator code>`), the
same key on the review page's boxes and in maturity.actions.return_assessment, which re-computes the checks and
sends only those that fire. The writes are actions (return, answer_query, approve); this module only reads."""

from dataclasses import dataclass

from maturity.models import Assessment, ReviewQuery
from maturity.pages import assessment_url

FIELD_PREFIX = "query-"


def finding_key(finding) -> str:
    """The key of a cross-check that fired (maturity.checks.Finding)."""
    return f"{finding.rule}-{finding.domain or finding.indicator}"


def query_key(query: ReviewQuery) -> str:
    """The key of the check a query was sent for: a query and a finding with the same key are the same check."""
    return f"{query.rule_code}-{query.subject}"


def sent_queries(assessment: Assessment) -> list[ReviewQuery]:
    """Every query sent on the assessment, in every round, oldest first."""
    return list(
        assessment.queries.select_related("domain__pillar", "check_set", "sent_by", "answered_by", "resolved_by")
    )


def open_queries(assessment: Assessment) -> list[ReviewQuery]:
    return [query for query in sent_queries(assessment) if query.is_open]


def unanswered_queries(assessment: Assessment) -> list[ReviewQuery]:
    """The queries that stop a returned assessment being submitted again."""
    return [query for query in open_queries(assessment) if not query.is_answered]


def answer_url(query: ReviewQuery) -> str:
    """Where the lead answers a query: beside its answer, on its pillar's page or the indicators page."""
    assessment = query.assessment
    if query.domain_id:
        page = assessment_url(assessment, "pillar", pillar_code=query.domain.pillar.code)
    else:
        page = assessment_url(assessment, "indicators")
    return f"{page}#query-{query.pk}"


def form_url(query: ReviewQuery) -> str:
    """Where the answer to a query is posted: its own page, which also shows the form again with its errors."""
    return assessment_url(query.assessment, "query", query_id=query.pk)


def for_the_lead(queries: list[ReviewQuery]) -> list[ReviewQuery]:
    """The queries, each with the links the lead's pages give it: where it is answered and where the form posts."""
    for query in queries:
        query.answer_url, query.form_url = answer_url(query), form_url(query)
    return queries


@dataclass
class QueryToSend:
    """A check that fires now, on the review page: its box "Send this query to the trust", ticked or not."""

    key: str
    message: str
    chosen: bool = False
    error: str = ""

    @property
    def field_name(self) -> str:
        return FIELD_PREFIX + self.key


def with_status(queries: list[ReviewQuery], findings: list) -> list[ReviewQuery]:
    """The queries, each marked with whether its check still fires now (`still_fires`): a lead may say they changed
    the answer and the check fire all the same, which the reviewer should see."""
    firing = {finding_key(finding) for finding in findings}
    for query in queries:
        query.still_fires = query_key(query) in firing
    return queries


def about_domain(queries: list[ReviewQuery], code: str) -> list[ReviewQuery]:
    return [query for query in queries if query.domain_id and query.domain.code == code]


def about_indicator(queries: list[ReviewQuery], code: str) -> list[ReviewQuery]:
    return [query for query in queries if not query.domain_id and query.indicator_code == code]
