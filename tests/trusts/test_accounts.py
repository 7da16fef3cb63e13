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


def log_in_from(client, address, username, password, forwarded=None):
    extra = {"REMOTE_ADDR": address}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_failures_from_one_address_do_not_lock_the_person_out_elsewhere(client, lead):
    for _ in range(3):
        log_in_from(client, "203.0.113.9", "lead-r0a", "wrong")
    assert log_in_from(client, "203.0.113.9", "lead-r0a", "secret-password").status_code == 429
    assert log_in_from(client, "198.51.100.7", "lead-r0a", "secret-password").status_code == 302


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_a_username_guessed_from_many_addresses_is_refused_at_ten_times_the_limit(client, lead):
    for attempt in range(30):
        log_in_from(client, f"203.0.113.{attempt}", "lead-r0a", "wrong")
    assert log_in_from(client, "198.51.100.7", "lead-r0a", "secret-password").status_code == 429


@override_settings(LOGIN_FAILURE_LIMIT=3, TRUSTED_PROXY_COUNT=0)
def test_without_a_proxy_a_forwarded_header_cannot_dodge_the_throttle(client, lead):
    for attempt in range(3):
        log_in_from(client, "203.0.113.9", f"someone-{attempt}", "wrong", forwarded=f"192.0.2.{attempt}")
    assert log_in_from(client, "203.0.113.9", "lead-r0a", "secret-password", forwarded="192.0.2.99").status_code == 429


@override_settings(LOGIN_FAILURE_LIMIT=3, TRUSTED_PROXY_COUNT=1)
def test_behind_a_proxy_each_person_is_counted_by_the_address_the_proxy_saw(client, lead):
    proxy = "10.0.0.2"
    for attempt in range(3):
        # The client may write its own X-Forwarded-For; the proxy appends the address it really saw.
        log_in_from(client, proxy, f"someone-{attempt}", "wrong", forwarded=f"192.0.2.{attempt}, 203.0.113.9")
    assert log_in_from(client, proxy, "lead-r0a", "secret-password", forwarded="203.0.113.9").status_code == 429
    assert log_in_from(client, proxy, "lead-r0a", "secret-password", forwarded="198.51.100.7").status_code == 302


@pytest.mark.parametrize(("proxies", "expected"), [(0, "10.0.0.2"), (1, "203.0.113.9")])
def test_the_api_throttle_reads_the_client_address_the_same_way(proxies, expected):
    from django.conf import settings
    from django.test import RequestFactory
    from rest_framework.settings import api_settings
    from rest_framework.throttling import AnonRateThrottle

    from trusts.accounts import client_address

    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.9")
    with override_settings(TRUSTED_PROXY_COUNT=proxies, REST_FRAMEWORK={"NUM_PROXIES": proxies}):
        api_settings.reload()
        try:
            assert client_address(request) == expected
            assert AnonRateThrottle().get_ident(request) == expected
        finally:
            api_settings.reload()
