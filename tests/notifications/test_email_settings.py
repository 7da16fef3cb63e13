"""EMAIL_URL: the SMTP server, its account and its encryption in one environment variable."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.settings import email_settings
from tests.conftest import child_environment


def test_an_smtp_url_with_starttls():
    assert email_settings("smtp://mailer:s%40cret@smtp.example.nhs.uk:587/?tls=True") == {
        "EMAIL_HOST": "smtp.example.nhs.uk",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "s@cret",
        "EMAIL_USE_TLS": True,
        "EMAIL_USE_SSL": False,
    }


def test_an_smtps_url_is_tls_from_the_start_on_port_465():
    settings = email_settings("smtps://mailer:pw@smtp.example.nhs.uk")
    assert (settings["EMAIL_PORT"], settings["EMAIL_USE_SSL"], settings["EMAIL_USE_TLS"]) == (465, True, False)


def test_a_relay_without_an_account_or_encryption():
    settings = email_settings("smtp://relay.internal")
    assert settings["EMAIL_PORT"] == 25
    assert settings["EMAIL_HOST_USER"] == settings["EMAIL_HOST_PASSWORD"] == ""
    assert not settings["EMAIL_USE_TLS"] and not settings["EMAIL_USE_SSL"]


@pytest.mark.parametrize("url", ["http://smtp.example.nhs.uk", "smtp://", "mail.example.nhs.uk:25"])
def test_anything_else_is_a_clear_error(url):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_URL"):
        email_settings(url)


PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "backend": settings.EMAIL_BACKEND,
    "file_path": str(getattr(settings, "EMAIL_FILE_PATH", "")),
    "host": getattr(settings, "EMAIL_HOST", ""),
    "port": getattr(settings, "EMAIL_PORT", 0),
    "tls": getattr(settings, "EMAIL_USE_TLS", False),
    "site_url": settings.SITE_URL,
    "from": settings.DEFAULT_FROM_EMAIL,
}))
"""
EMAIL_VARIABLES = {"EMAIL_URL", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_USE_TLS", "SITE_URL", "DEFAULT_FROM_EMAIL"}


def loaded(**variables) -> dict:
    """The e-mail settings a fresh interpreter reads from these environment variables."""
    env = {key: value for key, value in child_environment().items() if key not in EMAIL_VARIABLES}
    env.update(variables, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PROBE],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_by_default_emails_are_files_in_var_mail_and_links_point_at_the_development_server():
    found = loaded()
    assert found["backend"] == "django.core.mail.backends.filebased.EmailBackend"
    assert found["file_path"].endswith("/var/mail")
    assert found["site_url"] == "http://127.0.0.1:8000"


def test_email_url_and_site_url_from_the_environment():
    found = loaded(
        EMAIL_URL="smtp://mailer:pw@smtp.example.nhs.uk:587/?tls=true",
        SITE_URL="https://dma.example.nhs.uk/",
        DEFAULT_FROM_EMAIL="DMA <dma@example.nhs.uk>",
    )
    assert found["backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (found["host"], found["port"], found["tls"]) == ("smtp.example.nhs.uk", 587, True)
    assert found["site_url"] == "https://dma.example.nhs.uk"
    assert found["from"] == "DMA <dma@example.nhs.uk>"


def test_email_host_and_friends_from_the_environment():
    found = loaded(EMAIL_HOST="relay.internal", EMAIL_PORT="2525", EMAIL_USE_TLS="true")
    assert found["backend"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (found["host"], found["port"], found["tls"]) == ("relay.internal", 2525, True)
