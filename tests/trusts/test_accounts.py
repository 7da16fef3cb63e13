import pytest
from django.test import override_settings

from tests.factories import TrustFactory, lead_of


@pytest.fixture
def lead(db):
    return lead_of(TrustFactory(code="R0A"), user__username="lead-r0a")


def log_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def test_a_lead_logs_in_and_lands_on_its_trust(client, lead):
    response = log_in(client, "lead-r0a", "secret-password")
    assert response.status_code == 302
    assert client.get(response["Location"])["Location"] == "/trusts/R0A/"


def test_a_wrong_password_is_named_in_the_error_summary(client, lead):
    response = log_in(client, "lead-r0a", "wrong")
    assert response.status_code == 200
    assert b"nhsuk-error-summary" in response.content
    assert b"Please enter a correct username and password" in response.content


def test_the_login_page_renders_for_visitors(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b'autocomplete="current-password"' in response.content


def test_logout_is_a_post_and_ends_the_session(client, lead):
    client.force_login(lead)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/national/").status_code == 302


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_login_is_throttled_after_repeated_failures_even_with_the_right_password(client, lead):
    for _ in range(3):
        assert log_in(client, "lead-r0a", "wrong").status_code == 200
    response = log_in(client, "lead-r0a", "secret-password")
    assert response.status_code == 429
    assert b"Too many failed log-in attempts" in response.content
    assert "_auth_user_id" not in client.session


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_the_throttle_counts_per_username_and_per_address(client, lead):
    for attempt in range(3):
        log_in(client, f"someone-{attempt}", "wrong")
    # Three different usernames from one address: the address is now throttled.
    assert log_in(client, "lead-r0a", "secret-password").status_code == 429


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_successful_logins_are_not_counted(client, lead):
    for _ in range(5):
        assert log_in(client, "lead-r0a", "secret-password").status_code == 302
        client.post("/accounts/logout/")
