"""Throwaway servers for the fault tests: a Redis and a PostgreSQL cluster of their own on free ports, which the tests
stop, kill and restart (never the shared services on 6379 and 5432), and the web application in a gunicorn process
pointed at whichever services a test names."""

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import child_environment, real_services

ROOT = Path(__file__).resolve().parents[2]
# Every wait in these tests gives up after this long, with a message saying what it waited for.
WAIT_SECONDS = 60


# Each fault test module's pytestmark.
FAULT_MARKS = [
    pytest.mark.faults,
    pytest.mark.services,
    pytest.mark.skipif(
        not real_services(), reason="needs DATABASE_URL (PostgreSQL) and REDIS_URL: faults of the real services"
    ),
]


def wait_until(condition: Callable[[], object], what: str, seconds: float = WAIT_SECONDS):
    """Poll `condition` until it returns something true (returned); fail saying `what` did not happen in time."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {seconds} s waiting for {what}")
        time.sleep(0.1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def stop_process(process: subprocess.Popen | None) -> None:
    """Stop a server the test started, and wait for it to go."""
    if process is not None:
        process.terminate()
        process.wait(timeout=WAIT_SECONDS)


@dataclass
class PrivateRedis:
    """A Redis server of the test's own, keeping nothing on disk; stop() and start() take it down and bring it back
    (empty) on the same port."""

    binary: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        wait_until(lambda: accepts_connections(self.port), f"Redis to listen on port {self.port}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


@pytest.fixture
def private_redis():
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: the Redis fault test runs its own")
    server = PrivateRedis(binary)
    server.start()
    yield server
    server.stop()


def _postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries installed (Debian keeps each major version apart)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parts[-3]))
    return Path(found[-1]).parent if found else None


@dataclass
class PrivateCluster:
    """A PostgreSQL cluster of the test's own in a temporary directory, trusting local connections. PostgreSQL
    refuses to run as root, so as root (CI) its commands run as the postgres user, which owns the directory."""

    bin: Path
    directory: Path
    port: int = field(default_factory=free_port)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run(
            [*as_owner, *command], capture_output=True, text=True, timeout=WAIT_SECONDS, cwd=self.directory
        )
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"

    def _pg_ctl(self, action: str) -> None:
        # fsync off: the cluster is thrown away, and the migrations run several times faster.
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        data, log = str(self.directory / "data"), str(self.directory / "log")
        pg_ctl = str(self.bin / "pg_ctl")
        self._run(pg_ctl, "-D", data, "-o", options, "-l", log, "-w", "-t", str(WAIT_SECONDS), "-m", "fast", action)

    def create(self) -> None:
        data = str(self.directory / "data")
        self._run(str(self.bin / "initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        self._pg_ctl("start")

    def restart(self) -> None:
        self._pg_ctl("restart")

    def stop(self) -> None:
        self._pg_ctl("stop")


@pytest.fixture
def private_postgres():
    bin_dir = _postgres_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin: the restart test runs its own cluster")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: PostgreSQL's initdb refuses to run as root")
    directory = Path(tempfile.mkdtemp(prefix="dma-faults-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    cluster = PrivateCluster(bin_dir, directory)
    cluster.create()
    cluster.start()
    yield cluster
    try:
        cluster.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def manage(*arguments: str, database_url: str, redis_url: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=child_environment(DATABASE_URL=database_url, REDIS_URL=redis_url),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"manage.py {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}"


@dataclass
class WebServer:
    """The application in gunicorn: one synchronous worker, so that one process serves every request and keeps its
    database connection between them (CONN_MAX_AGE), as in production."""

    database_url: str
    redis_url: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi:application",
                f"--bind=127.0.0.1:{self.port}",
                "--workers=1",
                "--worker-class=sync",
                "--timeout=60",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=child_environment(DATABASE_URL=self.database_url, REDIS_URL=self.redis_url, DEBUG="true"),
        )

        def answering():
            assert self.process.poll() is None, "gunicorn exited before it served a request"
            try:
                return requests.get(self.url("/accounts/login/"), timeout=WAIT_SECONDS).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(answering, f"gunicorn to answer on port {self.port}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None


@pytest.fixture
def web_server():
    """Call it with the database and Redis URLs: the application served on them, stopped after the test."""
    servers = []

    def serve(*, database_url: str, redis_url: str) -> WebServer:
        server = WebServer(database_url, redis_url)
        servers.append(server)
        server.start()
        return server

    yield serve
    for server in servers:
        server.stop()
