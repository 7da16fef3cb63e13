"""Size limits on requests: one too large is refused before its body is read, and an upload is not kept past the
upload limit even when its length did not say so."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler

from config.uploads import TooLargeUpload
from maturity.models import DomainAnswer
from tests.factories import AssessmentFactory, CycleFactory, TrustFactory, lead_of
from trusts.models import CareSetting

MB = 1024 * 1024
UPLOAD = "/trusts/R0A/assessments/2026/acute/upload/"


@pytest.fixture
def lead(db):
    CareSetting.objects.ensure_all()
    trust = TrustFactory(code="R0A", care_settings=[CareSetting.ACUTE])
    AssessmentFactory(cycle=CycleFactory(), trust=trust)
    return lead_of(trust)


def test_a_form_over_the_limit_is_refused_without_reading_its_body(client, lead):
    """The body sent is one byte: reading the 2 MB its length claims would fail the test client."""
    client.force_login(lead)
    response = client.post(
        "/account/notifications/", b"x", content_type="application/x-www-form-urlencoded", CONTENT_LENGTH=str(2 * MB)
    )
    assert response.status_code == 413
    assert "What was sent is 2 MB: the limit is 1 MB. Nothing was saved" in response.content.decode()


def test_the_api_answers_a_body_over_the_limit_in_its_error_body(client, lead):
    body = json.dumps({"version": 1, "answers": {"WL01": {"evidence_note": "x" * (MB + 10)}}})
    response = client.patch("/api/v1/assessments/1/answers/", body, "application/json")
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_large" and error["message"].startswith("What was sent is 1.1 MB: the limit is 1 MB")


def test_a_request_within_the_limit_is_let_through(client, lead):
    client.force_login(lead)
    response = client.post("/account/notifications/", {"submitted": "on", "padding": "x" * (MB // 2)})
    assert response.status_code != 413


def test_the_upload_route_takes_the_upload_limit_and_refuses_more_unread(client, lead):
    client.force_login(lead)
    response = client.post(
        UPLOAD, b"x", content_type="multipart/form-data; boundary=b", CONTENT_LENGTH=str(int(6.5 * MB))
    )
    assert response.status_code == 413
    assert "What was sent is 6.5 MB: the limit for a file is 5 MB. Nothing was saved: upload a smaller file" in (
        response.content.decode()
    )


def test_an_upload_over_the_limit_is_not_kept_even_when_its_length_did_not_stop_it(client, lead, settings, monkeypatch):
    """Without the middleware in front (a length that was absent or too small would not have stopped it either), the
    upload handler keeps no more than the limit of the file, and the person gets the upload page's message."""
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != "config.middleware.RefuseOversizedRequests"]
    kept, receive = [], MemoryFileUploadHandler.receive_data_chunk

    def counting(handler, raw_data, start):
        kept.append(len(raw_data))
        return receive(handler, raw_data, start)

    monkeypatch.setattr(MemoryFileUploadHandler, "receive_data_chunk", counting)
    client.force_login(lead)

    response = client.post(UPLOAD, {"file": SimpleUploadedFile("big.csv", b"x" * (20 * MB)), "version": "1"})

    assert response.status_code == 400
    assert "‘big.csv’ is 20.0 MB: the limit is 5 MB" in response.content.decode()
    assert 0 < sum(kept) <= 5 * MB
    uploaded = response.wsgi_request.FILES["file"]
    assert isinstance(uploaded, TooLargeUpload) and (uploaded.name, uploaded.size) == ("big.csv", 20 * MB)
    assert not DomainAnswer.objects.exists()
