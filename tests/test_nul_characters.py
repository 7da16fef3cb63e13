"""A NUL character, which PostgreSQL cannot store or compare, is refused wherever a request carries it."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from config.middleware import MESSAGE
from tests.factories import TrustFactory, lead_of


@pytest.mark.parametrize("path", ["/search/?q=R0A%00", "/national/?cycle=2025%00", "/search/?q%00=x"])
def test_in_a_query_string(client, db, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_in_a_form_field(client, db):
    client.force_login(lead_of(TrustFactory(code="R0A")))
    response = client.post("/account/notifications/", {"submitted": "on\x00"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_in_a_json_string_the_api_answers_in_its_error_body(client, db):
    response = client.patch("/api/v1/assessments/1/answers/", json.dumps({"note": "a\x00b"}), "application/json")
    assert response.status_code == 400
    assert response.json()["error"] == {"status": 400, "code": "invalid", "message": MESSAGE, "fields": {}}


def test_an_uploaded_file_may_hold_nul_bytes(client, db):
    """Workbooks are binary: only the form's own fields are checked, the file is the upload's to judge."""
    client.force_login(lead_of(TrustFactory(code="R0A")))
    upload = SimpleUploadedFile("answers.xlsx", b"PK\x03\x04\x00\x00binary")
    response = client.post("/trusts/R0A/assessments/2026/acute/upload/", {"file": upload, "version": "1"})
    assert response.status_code != 400 or "NUL character" not in response.content.decode()
