"""At most EXPORT_CONCURRENCY exports are built or streamed at once, counted in the shared cache (Redis, or the
database cache) so that every process of a machine counts the same slots; one more gets a 503 with Retry-After."""

import time

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections

from reports.exports import slots
from tests.factories import analyst, api_token

CSV = "/exports/pillar-scores.csv"


@pytest.fixture
def person(client, db, settings):
    settings.EXPORT_CONCURRENCY = 2
    user = analyst()
    client.force_login(user)
    return user


def finish(response) -> bytes:
    """Download the whole stream, as a client would; the test client then closes the response, as a server does."""
    return b"".join(response.streaming_content)


def close(response) -> None:
    """Close the response as the server does when the client has gone away (without the request_finished handler
    that would close the test's database connection; the test client leaves it out likewise)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)


def test_one_export_over_the_bound_is_asked_to_retry_and_gets_in_once_one_ends(client, person):
    first, second = client.get(CSV), client.get(CSV)  # started, not yet downloaded
    assert first.status_code == second.status_code == 200

    refused = client.get(CSV)

    assert refused.status_code == 503
    assert refused["Retry-After"] == "30"
    assert "2 exports are being downloaded at the moment" in refused.content.decode()
    assert "There is a problem" in refused.content.decode()
    assert finish(first).startswith(b"\xef\xbb\xbf")
    assert client.get(CSV).status_code == 200


def test_an_abandoned_download_frees_its_slot_when_the_server_closes_it(client, person):
    abandoned = client.get(CSV)
    client.get(CSV)
    close(abandoned)
    assert client.get(CSV).status_code == 200


def test_an_xlsx_holds_a_slot_only_while_it_is_built(client, person):
    held = client.get(CSV)
    assert client.get("/exports/pillar-scores.xlsx").status_code == 200
    assert client.get("/exports/pillar-scores.xlsx").status_code == 200
    client.get(CSV)
    assert client.get("/exports/pillar-scores.xlsx").status_code == 503
    finish(held)


def test_a_script_is_told_in_the_apis_error_body(client, person):
    token = api_token(person)
    client.get(CSV), client.get(CSV)
    refused = client.get(CSV, headers={"authorization": f"Token {token}"})
    assert refused.status_code == 503 and refused["Retry-After"] == "30"
    error = refused.json()["error"]
    assert error["code"] == "busy" and "try again in 30 seconds" in error["message"]


def test_the_slot_of_a_worker_killed_mid_export_expires(client, person, settings):
    settings.EXPORT_SLOT_SECONDS = 1
    client.get(CSV), client.get(CSV)  # never finished nor closed: their worker is gone
    assert client.get(CSV).status_code == 503
    time.sleep(2.1)  # the database cache keeps expiry times to the second
    assert client.get(CSV).status_code == 200


def test_an_export_making_progress_keeps_its_slot_past_the_expiry(db, settings):
    settings.EXPORT_CONCURRENCY, settings.EXPORT_SLOT_SECONDS = 1, 1
    slot = slots.take()
    for _ in range(3):
        time.sleep(0.5)
        slot.keep()
    assert slots.take() is None
    slot.release()
    assert slots.take() is not None


def test_a_slot_that_expired_and_was_taken_again_is_not_released_by_its_first_holder(db, settings):
    settings.EXPORT_CONCURRENCY, settings.EXPORT_SLOT_SECONDS = 1, 1
    late = slots.take()
    time.sleep(2.1)  # the database cache keeps expiry times to the second
    now = slots.take()
    assert now is not None
    late.release()
    assert slots.take() is None
    now.release()
