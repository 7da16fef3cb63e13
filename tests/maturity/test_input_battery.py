"""Whatever a person or a script sends through the three ways answers come in (the pillar and indicator forms, the
spreadsheet upload, the API), the answer is a page or a JSON error, never a server error, and a refused save writes
nothing: answers, indicator values, audit events and the version stay as they were."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from maturity.models import AuditEvent, DomainAnswer, IndicatorValue
from maturity.spreadsheets import build_csv
from tests.factories import AssessmentFactory, CycleFactory, ICSFactory, TrustFactory, api_token, lead_of

pytestmark = pytest.mark.slow

URL = "/trusts/R0A/assessments/2026/acute/"
ANSWERED = {200, 302, 400, 409}
# Every kind of text: control characters (NUL included, which PostgreSQL cannot store), surrogates excluded by
# HTTP itself, long strings, and numbers in every spelling float() accepts.
TEXT = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        ["", " ", "3", "3.0", "0", "6", "-1", "1e308", "nan", "inf", "4%", "١", "\x00", "3\x00", "x" * 5000]
    ),
    st.integers().map(str),
    st.floats().map(str),
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
BATTERY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def world(db):
    ics = ICSFactory(code="QOP")
    trust = TrustFactory(code="R0A", ics=ics)
    assessment = AssessmentFactory(cycle=CycleFactory(), trust=trust)
    return assessment, lead_of(trust)


def written(assessment):
    """Everything a save could change."""
    assessment.refresh_from_db()
    return (
        assessment.version,
        sorted(DomainAnswer.objects.filter(assessment=assessment).values_list("domain_id", "level", "evidence_note")),
        sorted(map(str, IndicatorValue.objects.filter(assessment=assessment).values_list("indicator_code", "text"))),
        AuditEvent.objects.filter(assessment=assessment).count(),
    )


def check(response, assessment, before):
    """Answered as a page, and a page that did not move on (302 after a save) wrote nothing."""
    assert response.status_code in ANSWERED, response.content[:300]
    if response.status_code != 302:
        assert written(assessment) == before


@BATTERY
@given(level=TEXT, note=TEXT, link=TEXT)
@example(level="3", note="Board paper\x00", link="")
@example(level="nan", note="", link="javascript:alert(1)")
@example(level="3", note="x" * 100_000, link="https://" + "a" * 5000 + ".nhs.uk")
def test_the_pillar_form(client, world, level, note, link):
    assessment, lead = world
    client.force_login(lead)
    before = written(assessment)
    data = {
        "version": str(assessment.version),
        "WL01-level": level,
        "WL01-evidence_note": note,
        "WL01-evidence_link": link,
    }
    check(client.post(URL + "pillars/well_led/", data), assessment, before)


@BATTERY
@given(devices=TEXT, supplier=TEXT, version=st.one_of(st.none(), TEXT))
@example(devices="nan", supplier="Epic\x00", version=None)
@example(devices="1e400", supplier="", version="99")
def test_the_indicators_form(client, world, devices, supplier, version):
    assessment, lead = world
    client.force_login(lead)
    before = written(assessment)
    data = {"indicator-unsupported_devices_pct": devices, "indicator-epr_supplier": supplier}
    data["version"] = str(assessment.version) if version is None else version
    check(client.post(URL + "indicators/", data), assessment, before)


@BATTERY
@given(cells=st.lists(TEXT, min_size=1, max_size=4), row=st.integers(0, 5), column=st.integers(0, 7))
@example(cells=["3", "Note\x00"], row=1, column=4)
@example(cells=["nan"], row=2, column=4)
def test_the_spreadsheet_upload(client, world, cells, row, column):
    assessment, lead = world
    client.force_login(lead)
    rows = list(csv.reader(io.StringIO(build_csv(assessment).decode("utf-8-sig"))))
    target = rows[min(row, len(rows) - 1)]
    for offset, cell in enumerate(cells):
        target[(column + offset) % len(target)] = cell
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    before = written(assessment)
    upload = SimpleUploadedFile("answers.csv", buffer.getvalue().encode("utf-8", "surrogatepass"))
    check(client.post(URL + "upload/", {"file": upload, "version": assessment.version}), assessment, before)


@BATTERY
@example(body={"answers": {"WL01": {"level": 3, "evidence_note": "a\x00b"}}})
@example(body={"indicators": {"unsupported_devices_pct": "nan"}})
@given(body=st.one_of(JSON_VALUE, st.fixed_dictionaries({"answers": JSON_VALUE, "indicators": JSON_VALUE})))
def test_the_api(world, body):
    assessment, lead = world
    client = Client(HTTP_AUTHORIZATION=f"Token {api_token(lead)}")
    before = written(assessment)
    if isinstance(body, dict):
        body = {"version": assessment.version, **body}
    response = client.patch(
        f"/api/v1/assessments/{assessment.pk}/answers/", json.dumps(body), content_type="application/json"
    )
    assert response.status_code in ANSWERED, response.content[:300]
    if response.status_code != 200:
        assert written(assessment) == before
