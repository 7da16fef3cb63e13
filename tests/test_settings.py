"""The settings module switches services on environment variables. Each case imports it in a fresh interpreter."""

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import child_environment

ROOT = Path(__file__).resolve().parent.parent
SERVICE_VARIABLES = [
    "DATABASE_URL",
    "REDIS_URL",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
]
PROBE = """
import json
from django.conf import settings
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "name": str(settings.DATABASES["default"]["NAME"]),
    "cache": settings.CACHES["default"]["BACKEND"],
    "eager": settings.CELERY_TASK_ALWAYS_EAGER,
    "broker": settings.CELERY_BROKER_URL,
    "debug": settings.DEBUG,
    "secure_cookies": settings.SESSION_COOKIE_SECURE,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "csrf_trusted_origins": settings.CSRF_TRUSTED_ORIGINS,
    "static_storage": settings.STORAGES["staticfiles"]["BACKEND"],
    "csp_script_src": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]["script-src"],
}))
"""


def settings_with(**variables):
    env = {key: value for key, value in child_environment().items() if key not in SERVICE_VARIABLES}
    env.update(variables, DJANGO_SETTINGS_MODULE="config.settings")
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result


def loaded(**variables):
    result = settings_with(**variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_defaults_need_no_services():
    s = loaded()
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].endswith("var/db.sqlite3")
    assert s["cache"] == "django.core.cache.backends.db.DatabaseCache"
    assert s["eager"] is True
    assert s["debug"] is True
    assert s["secure_cookies"] is False


def test_database_url_switches_to_postgresql():
    s = loaded(DATABASE_URL="postgres://postgres@127.0.0.1:5432/dma")
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "dma"


def test_redis_url_switches_celery_and_the_cache_to_redis():
    s = loaded(REDIS_URL="redis://127.0.0.1:6379/3")
    assert s["cache"] == "config.cache.FailSoftRedisCache"
    assert s["eager"] is False
    assert s["broker"] == "redis://127.0.0.1:6379/3"


def test_debug_off_without_a_secret_key_is_a_clear_error():
    result = settings_with(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_must_be_a_boolean():
    result = settings_with(DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in result.stderr


def test_production_settings_are_secure():
    s = loaded(DEBUG="false", SECRET_KEY="x" * 50, ALLOWED_HOSTS="dma.example.nhs.uk")
    assert s["secure_cookies"] is True
    assert s["hsts"] == 31536000
    assert s["allowed_hosts"] == ["dma.example.nhs.uk"]
    assert s["static_storage"] == "config.storage.HashedStaticStorage"
    assert s["csp_script_src"] == ["'self'"]


def test_hosts_and_trusted_origins_come_from_the_environment():
    s = loaded(ALLOWED_HOSTS="a.nhs.uk, b.nhs.uk", CSRF_TRUSTED_ORIGINS="https://a.nhs.uk")
    assert s["allowed_hosts"] == ["a.nhs.uk", "b.nhs.uk"]
    assert s["csrf_trusted_origins"] == ["https://a.nhs.uk"]


def test_check_deploy_is_clean_with_production_settings():
    env = {key: value for key, value in child_environment().items() if key not in SERVICE_VARIABLES}
    env.update(DEBUG="false", SECRET_KEY="a-long-random-production-secret-" * 3, ALLOWED_HOSTS="dma.example.nhs.uk")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
