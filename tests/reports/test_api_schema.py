"""Schemathesis against the live schema: every operation, with generated parameters and bodies, must never answer
5xx, and must answer only statuses the schema declares, with bodies and content types that conform to it.

It runs the real WSGI application in-process, authenticated with an analyst's token, over a small world (three
trusts in two ICSs, an open cycle with answered returns, a published one, summaries built). Bounded for CI: a few
examples per operation, no deadline (the first request of an operation builds caches)."""

import os
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from maturity.models import (
    Assessment,
    Cycle,
    CycleKind,
    CycleState,
    DomainAnswer,
    IndicatorValue,
    PublishedScore,
    Source,
    Status,
)
from reports.summaries import tables
from tests.factories import (
    AssessmentFactory,
    CycleFactory,
    ICSFactory,
    RegionFactory,
    TrustFactory,
    analyst,
    api_token,
    lead_of,
)
from trusts.models import CareSetting

# Per operation, valid and invalid inputs mixed: well under a minute for the whole schema. The same examples every
# run (derandomize), so CI is never flaky; locally, API_FUZZ_EXAMPLES=200 API_FUZZ_RANDOM=1 searches further.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "25"))
RANDOM = bool(os.environ.get("API_FUZZ_RANDOM"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_world(db):
    north = RegionFactory(code="Y62", name="North West")
    qop = ICSFactory(code="QOP", region=north)
    qvv = ICSFactory(code="QVV", region=RegionFactory(code="Y58", name="South West"))
    trusts = [TrustFactory(code="R0A", ics=qop), TrustFactory(code="RBV", ics=qop), TrustFactory(code="R0D", ics=qvv)]
    cycle = CycleFactory()
    for trust in trusts[1:]:
        assessment = AssessmentFactory(cycle=cycle, trust=trust, status=Status.SUBMITTED)
        DomainAnswer.objects.bulk_create(
            DomainAnswer(assessment=assessment, domain=domain, level=3) for domain in assessment.applicable_domains()
        )
        IndicatorValue.objects.create(assessment=assessment, indicator_code="unsupported_devices_pct", number=4)
    draft = AssessmentFactory(cycle=cycle, trust=trusts[0])
    Assessment.objects.create(cycle=cycle, ics=qop, region=north, framework=cycle.ics_framework)
    # Published history: a cycle without frameworks, an assessment without answers, scores NHS England published.
    history = Cycle.objects.create(year=2025, kind=CycleKind.PUBLISHED_HISTORY, state=CycleState.PUBLISHED)
    published = Assessment.objects.create(
        cycle=history,
        trust=trusts[2],
        care_setting_id=CareSetting.ACUTE,
        ics=qvv,
        region=qvv.region,
        source=Source.PUBLISHED,
        status=Status.PUBLISHED,
    )
    PublishedScore.objects.create(assessment=published, pillar=None, score=2.4)
    tables.rebuild()
    return SimpleNamespace(
        draft=draft,
        analyst=api_token(analyst()),
        lead=api_token(lead_of(trusts[0])),
    )


@pytest.fixture
def wsgi_app():
    """The real WSGI application on the test database. Django closes "old" connections at the start and end of
    each request, which would close the test's transaction under it; its test client detaches that hook too."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def fuzz(operation, headers: dict, **fixed) -> None:
    """One operation with valid and invalid inputs (schemathesis' positive and negative modes); raises on failure."""
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, **fixed), operation.as_strategy(GenerationMode.NEGATIVE, **fixed)
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        derandomize=not RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


@pytest.mark.slow
def test_every_operation_keeps_to_the_schema(api_world, wsgi_app):
    """Schemathesis' Python API in an ordinary test, rather than its pytest plugin, so pytest-django's database
    wraps the whole run. Every operation is tried; the failures of all of them are reported together."""
    # identity: schemathesis' in-process WSGI transport does not undo GZipMiddleware's compression.
    analyst = {"Authorization": f"Token {api_world.analyst}", "Accept-Encoding": "identity"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=analyst)
    failures, tried = {}, 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tried += 1
        try:
            if operation.path == "/api/v1/assessments/{id}/answers/":
                # As the draft's lead, on the draft: the write path proper (200, 400, 409), not only 403 and 404.
                lead = {**analyst, "Authorization": f"Token {api_world.lead}"}
                fuzz(operation, lead, path_parameters={"id": api_world.draft.pk})
            else:
                fuzz(operation, analyst)
        except Exception as error:  # noqa: BLE001 - collect every operation's failure, then report them all
            failures[operation.label] = error
    assert tried >= 18, "every operation of the schema was tried"
    assert not failures, "\n\n".join(f"{label}:\n{error}" for label, error in failures.items())
