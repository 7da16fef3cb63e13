"""What every read-side benchmark module shares: where things are, scratch databases, the environments the product
runs under, and running manage.py. No product logic here: the product is only ever called (commands, actions,
HTTP)."""

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
PYTHON = sys.executable
BIN = Path(PYTHON).parent
# Our own Redis database (the brief's): other engineers' workers and caches use the others.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4")


def database_url() -> str | None:
    """DATABASE_URL if it names PostgreSQL, else None (the caller says so and skips)."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def dsn(url: str, name: str | None = None) -> str:
    """A libpq DSN for the server of `url`, for database `name` (default: url's own)."""
    import dj_database_url

    config = dj_database_url.parse(url)
    parts = {"dbname": name or config["NAME"], "user": config.get("USER"), "password": config.get("PASSWORD")}
    parts |= {"host": config.get("HOST"), "port": config.get("PORT")}
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def sibling_url(url: str, name: str) -> str:
    """The URL of database `name` on the same server, beside DATABASE_URL's database."""
    return url.rsplit("/", 1)[0] + f"/{name}"


def scratch_name(url: str, suffix: str) -> str:
    import dj_database_url

    return f"{dj_database_url.parse(url)['NAME']}_bench_{suffix}"


def connect(dsn_text: str):
    import psycopg2

    connection = psycopg2.connect(dsn_text)
    connection.autocommit = True
    return connection


def sql(dsn_text: str, statement: str, params=None):
    """Run one statement (autocommit); return its rows if it has any."""
    connection = connect(dsn_text)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else None
    finally:
        connection.close()


@contextmanager
def scratch_database(url: str, suffix: str):
    """Create `<name>_bench_<suffix>` beside DATABASE_URL's and drop it at the end whatever happens: yields its URL."""
    name = scratch_name(url, suffix)
    server = dsn(url, "postgres")
    sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    sql(server, f'CREATE DATABASE "{name}"')
    try:
        yield sibling_url(url, name)
    finally:
        sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def env_for(url: str, *, debug: bool, redis: bool) -> dict:
    """The product's environment. Set-up runs with DEBUG on (demo accounts and data refuse otherwise) and eager Celery
    (no REDIS_URL); what is measured runs production-like: DEBUG off (no query log), a real broker and cache."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DEBUG": "true" if debug else "false",
        "SECRET_KEY": "bench-only-not-secret",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "REDIS_URL": REDIS_URL if redis else "",
        "LOG_LEVEL": os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def manage(env: dict, *args: str, quiet: bool = True) -> float:
    """Run one manage.py command; returns its wall time in seconds."""
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "manage.py", *args],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )
    return time.perf_counter() - started


def flush_redis() -> None:
    """Empty our Redis database only (stale cache versions, areas-pending keys and queued tasks of an earlier run)."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a process we started (its own process group: gunicorn's and celery's children go with it)."""
    import signal

    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass
