"""The one settings module. Everything that differs between machines comes from the environment.

Development defaults are safe and need nothing installed: SQLite in var/, eager Celery, the database cache.
Set DATABASE_URL for PostgreSQL and REDIS_URL for a real Celery broker, result backend and cache.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "development-only-key-never-use-in-production"  # noqa: S105 - DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "trusts",
    "maturity",
    "reports",
    "planning",
    "notifications",
]

MIDDLEWARE = [
    # Dashboards are ~120 KB of HTML (tables beside every chart) and ~12 KB compressed. Django masks the CSRF token
    # on every response, which is what keeps compression from leaking it (BREACH).
    "django.middleware.gzip.GZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything reads the body (the next two do): a request too large is refused unread.
    "config.middleware.RefuseOversizedRequests",
    "config.middleware.RefuseNulCharacters",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.pages.navigation.navigation",
            ],
        },
    },
]

# --- Services -------------------------------------------------------------------------------------------------

DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Two people saving at once must queue, as on PostgreSQL (where the actions' row lock does it), so that the
    # second finds the version moved and gets the conflict message. SQLite's default deferred transaction reads first
    # and fails with "database is locked" when it then tries to write beside another writer; an IMMEDIATE one takes
    # the write lock when it begins and waits up to `timeout` seconds for it. WAL lets pages be read meanwhile, and
    # with it synchronous=NORMAL is safe (a power cut may lose the last commits, never corrupt the file).
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A file, not SQLite's default in-memory test database: the connections of other threads (the browser tests'
    # live server, the concurrent-save tests) then see the database as a server's would, and with WAL it runs the
    # suite faster than the shared in-memory one. One per work tree: two test runs in one tree would share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test_db.sqlite3")}
    (BASE_DIR / "var").mkdir(exist_ok=True)  # not in git; `make run` makes it too
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL and os.environ.get("PYTEST_XDIST_WORKER", "").startswith("gw"):
    # The test suite runs in parallel processes (pytest-xdist); each takes the next Redis database, so one's broker
    # queue, cache.clear() and throttle counts never reach another's. pytest-django keeps their test databases apart.
    _redis = urlsplit(REDIS_URL)
    _database = int(_redis.path.lstrip("/") or 0) + int(os.environ["PYTEST_XDIST_WORKER"][2:])
    REDIS_URL = urlunsplit(_redis._replace(path=f"/{_database}"))
if REDIS_URL:
    # Fail-soft (config.cache): with Redis down, pages are built from the database and saves still save.
    CACHES = {
        "default": {
            "BACKEND": "config.cache.FailSoftRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # The database cache is shared by every process (web, worker), unlike the local-memory cache.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "django_cache"}}
    CELERY_BROKER_URL = "memory://localhost/"
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_EXPIRES = 3600
# A broker that is down must not hang a web request: give up quickly, the beat sweep catches up.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"max_retries": 1, "socket_connect_timeout": 2, "socket_timeout": 5}
# Sending a task also subscribes to its result in Redis, which Celery would retry 20 times a second apart: a save with
# Redis down took 19 s. Once, then the caller's except and the sweep take over, as for the broker.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"retry_policy": {"max_retries": 1}}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "reports.heartbeat", "schedule": 60.0},
    "sweep-refresh-marks": {"task": "reports.sweep_refresh_marks", "schedule": 60.0},
    "nightly-rebuild": {"task": "reports.rebuild_summaries", "schedule": crontab(hour=2, minute=30)},
    "sweep-outbox": {"task": "notifications.sweep_outbox", "schedule": 60.0},
    # Once a morning (UTC): each reminder is written once whenever it runs, so a missed morning is caught up.
    "deadline-reminders": {"task": "notifications.send_reminders", "schedule": crontab(hour=7, minute=0)},
    "resend-unsent-invitations": {"task": "trusts.resend_unsent_invitations", "schedule": 300.0},
    "prune-refresh-records": {"task": "reports.prune_refresh_records", "schedule": crontab(hour=3, minute=15)},
}
# Refresh runs and done refresh marks are kept this long for the summaries page, then pruned (one row per save).
REFRESH_RECORDS_KEEP_DAYS = int(os.environ.get("REFRESH_RECORDS_KEEP_DAYS", "30"))

# --- E-mail ---------------------------------------------------------------------------------------------------

# Links in e-mails are absolute: the address people open the service at.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "NHS Digital Maturity Dashboard <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Seconds before an SMTP connection or command gives up; the outbox retries later.
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))


def email_settings(url: str) -> dict:
    """EMAIL_URL, e.g. smtp://user:password@host:587/?tls=true (STARTTLS) or smtps://user:password@host (TLS from
    the start, port 465): the SMTP settings it names. User and password may be percent-encoded."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ImproperlyConfigured("EMAIL_URL must look like smtp://user:password@host:587/?tls=true")
    query = {key.lower(): value.lower() for key, value in parse_qsl(parts.query)}
    use_ssl = parts.scheme == "smtps" or query.get("ssl") in {"1", "true", "yes", "on"}
    return {
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or (465 if use_ssl else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": query.get("tls") in {"1", "true", "yes", "on"},
        "EMAIL_USE_SSL": use_ssl,
    }


EMAIL_URL = os.environ.get("EMAIL_URL", "")
if EMAIL_URL or os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    _smtp = (
        email_settings(EMAIL_URL)
        if EMAIL_URL
        else {
            "EMAIL_HOST": os.environ["EMAIL_HOST"],
            "EMAIL_PORT": int(os.environ.get("EMAIL_PORT", "25")),
            "EMAIL_HOST_USER": os.environ.get("EMAIL_HOST_USER", ""),
            "EMAIL_HOST_PASSWORD": os.environ.get("EMAIL_HOST_PASSWORD", ""),
            "EMAIL_USE_TLS": env_bool("EMAIL_USE_TLS", False),
            "EMAIL_USE_SSL": env_bool("EMAIL_USE_SSL", False),
        }
    )
    EMAIL_HOST, EMAIL_PORT = _smtp["EMAIL_HOST"], _smtp["EMAIL_PORT"]
    EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _smtp["EMAIL_HOST_USER"], _smtp["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS, EMAIL_USE_SSL = _smtp["EMAIL_USE_TLS"], _smtp["EMAIL_USE_SSL"]
else:
    # Development: each e-mail is a file in var/mail/, to read without a mail server.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = BASE_DIR / "var" / "mail"

# --- Auth -----------------------------------------------------------------------------------------------------

# ModelBackend, reading the user and their roles in force in one query (every signed-in request does).
AUTHENTICATION_BACKENDS = ["trusts.backends.UserWithRolesBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed log-ins allowed per username and per address within the window before the form refuses.
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_FAILURE_WINDOW_SECONDS = int(os.environ.get("LOGIN_FAILURE_WINDOW_SECONDS", "900"))
# Days an e-mailed invitation link can be accepted in (once).
INVITATION_VALID_DAYS = int(os.environ.get("INVITATION_VALID_DAYS", "7"))

# --- Security -------------------------------------------------------------------------------------------------

SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# Sessions are read from the cache (Redis in production) and written through to the database, so a page costs one
# database query less and no session is lost when the cache is flushed.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# The preload list takes a whole registrable domain (nhs.uk): not this service's to submit, so no warning for it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front append to X-Forwarded-For: the client address is read that many entries from its end,
# by the log-in throttle (trusts.accounts.client_address) and DRF's throttles alike. Without a proxy, none.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1")) if BEHIND_TLS_PROXY else 0

# Everything the pages load comes from this server: no CDN, no fonts or scripts from the internet.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Request and upload size ------------------------------------------------------------------------------------

MB = 1024 * 1024
# The largest request a page takes (forms, API JSON), and the most form data Django holds in memory. The largest
# legitimate one, every answer of an assessment in one API PATCH with 2,000-character notes, is under 0.5 MB.
# config.middleware refuses a larger request (413) from its Content-Length, before the body is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(float(os.environ.get("REQUEST_MAX_MB", "1")) * MB)
# The largest form (the admin's bulk actions, 100 rows a page) has a few hundred fields.
DATA_UPLOAD_MAX_NUMBER_FIELDS = int(os.environ.get("REQUEST_MAX_FIELDS", "1000"))
# The one upload (a filled spreadsheet template, which is well under 1 MB) may be this large. Its route accepts a
# request of this plus DATA_UPLOAD_MAX_MEMORY_SIZE for the other fields; config.uploads stops keeping a file once it
# passes this, whatever the Content-Length said, and maturity.spreadsheets says so to the person.
UPLOAD_MAX_BYTES = 5 * MB
# The upload is parsed whole in memory anyway, so any request the middleware lets through holds its file there
# rather than in a temporary file first.
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_MAX_BYTES + DATA_UPLOAD_MAX_MEMORY_SIZE
FILE_UPLOAD_HANDLERS = [
    "config.uploads.LimitedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

# At most this many export downloads (reports.exports) are built or streamed at once on this machine, each holding
# a database connection; one more gets a 503 with Retry-After. A slot is counted in the shared cache and expires
# EXPORT_SLOT_SECONDS after the export last made progress, so a killed worker never holds one for long.
EXPORT_CONCURRENCY = int(os.environ.get("EXPORT_CONCURRENCY", "4"))
EXPORT_SLOT_SECONDS = int(os.environ.get("EXPORT_SLOT_SECONDS", "120"))

# --- Static files ---------------------------------------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
# static/scss is the Sass source, compiled into static/dist by `npm run build`; browsers need only the output.
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "config.storage.HashedStaticStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_MAX_AGE = 0 if DEBUG else 31536000

# --- API ------------------------------------------------------------------------------------------------------

# API tokens (django-rest-knox): only a SHA-512 digest is stored, the token is shown once when it is made, and it
# expires after API_TOKEN_DAYS; reports.ApiToken adds when it was last used.
KNOX_TOKEN_MODEL = "reports.ApiToken"
# knox's own migrations create its AuthToken table even when the model is swapped for ours; without them it has none.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=int(os.environ.get("API_TOKEN_DAYS", "90"))),
    "AUTH_HEADER_PREFIX": "Token",
}

# /api/v1/: a token (Authorization: Token …) for scripts, the session for the browsable API and /api/docs/.
# Every endpoint needs a login, and each reads only what its user may see (reports.api).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "reports.api.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "reports.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 100,
    # Per user (or per address before log-in), counted in the shared cache so every process agrees.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    # DRF would otherwise take a client-written X-Forwarded-For as the address to throttle.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_THROTTLE_RATES": {
        "user": os.environ.get("API_THROTTLE_USER", "1000/hour"),
        "anon": os.environ.get("API_THROTTLE_ANON", "60/hour"),
    },
    # drf-spectacular's, declaring the error responses every operation can give (schemathesis checks them).
    "DEFAULT_SCHEMA_CLASS": "reports.api.errors.AutoSchema",
    # One error body for every 4xx and 5xx: {"error": {"status", "code", "message", "fields"}}.
    "EXCEPTION_HANDLER": "reports.api.errors.exception_handler",
    # The dataset endpoints add a CSV renderer (?format=csv) of their own: only tidy tables make sense as CSV.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "NHS Digital Maturity Dashboard API",
    "DESCRIPTION": (
        "Read the organisations, cycles, frameworks, assessments and the export datasets (pillar scores, domain "
        "scores, indicators, gaps, submission status) that your account may see, and save a trust's answers. "
        "Authenticate with `Authorization: Token <key>` (create a token at /account/api-token/). Lists are "
        "paginated (`page`, `page_size` up to 1000); the datasets also answer CSV with `?format=csv`, and "
        "`/exports/<dataset>.csv` streams a whole dataset in one download."
    ),
    "VERSION": "1",
    # Operations grouped by resource (trusts, pillar-scores…) rather than all under "v1".
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The one PATCH (an assessment's answers) requires `version`: document its body whole, not as all-optional.
    "COMPONENT_SPLIT_PATCH": False,
    # Everything needs a login, the description of the API too.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# --- The rest -------------------------------------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
