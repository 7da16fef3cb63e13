"""The read-side measures of one scale, each against a baseline taken in the same run (DESIGN.md section 5):

1. rebuild: `reports.summaries.tables.rebuild()` against the SQL floor, the same work as one bare SQL script (every
   row the rebuild writes, into new tables by CREATE TABLE … AS SELECT; see floor_statements), and for reference against
   DESIGN.md's pillar floor (pillar means, then their percentiles per area), interleaved in one process so all see
   the same machine;
2. and 3. one submission through `maturity.actions.submit_assessment` with a real Celery worker (`--pool=solo`, our
   Redis database): from the submission's commit to the RefreshRun of kind "assessment" (its assessment, trust and
   ICS rows) and then "areas" (regions, England, peer groups) finishing, as the worker recorded them;
4. dashboards served by gunicorn as `make serve-prod` runs it, under 16 concurrent logged-in clients, warm cache:
   p95 of the server's own time per request (gunicorn's access log, %(D)s) against the log-in page's under the same
   load.

Children (`python -m bench.read_side --child <mode>`) run inside the product's Django with the scratch database;
they print one JSON line. The parent starts and always stops the worker and gunicorn."""

import http.client
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.common import BIN, PYTHON, ROOT, env_for, flush_redis, free_port, manage, stop

REPEATS = 3
# A rebuild round takes a second or two below sector scale, and one round's ratio moves by up to ±0.4 with what the
# machine does meanwhile (a checkpoint the WAL of the rounds before set off, for one): the median of nine.
REBUILD_REPEATS = 9
# The dashboards of the brief: an ICS (QOP, the README's example), England, and a trust (R0A, the example lead's).
PAGES = ["/ics/QOP/", "/national/", "/trusts/R0A/"]
BASELINE_PAGE = "/accounts/login/"
CLIENTS = 16
REQUESTS_PER_PAGE = 320  # 20 a client
MAX_SECONDS_PER_PAGE = 20  # the load stops by itself at whichever comes first
# The pages' requests are made in rounds, each round loading the log-in page and then every page, and each page's
# figures pooled over the rounds: the machine's pace drifts over a minute (a checkpoint, the WAL the set-up left),
# and one page loaded in a slow spell and its baseline in a fast one moved a ratio by ±0.3 run to run.
ROUNDS = 4
WARM_REQUESTS = 48  # 3 a client: every worker renders the page and the cache holds it
WARM_SECONDS = 10
LOGIN = ("ics-qop", "demo")

# --- 1. Rebuild against the SQL floor --------------------------------------------------------------------------------

# The pillar floor of DESIGN.md: pillar means into a new table, then percentiles of those means per area. Printed
# beside the bar's floor for reference: the rebuild writes five more tables than this.
PILLAR_FLOOR_SQL = """
CREATE TABLE bench_floor_pillar AS
SELECT da.assessment_id, d.pillar_id, avg(da.level)::float8 AS score
FROM maturity_domainanswer da
JOIN maturity_domain d ON d.id = da.domain_id
JOIN maturity_assessment a ON a.id = da.assessment_id
WHERE da.level IS NOT NULL AND a.status = ANY(%(counted)s)
GROUP BY da.assessment_id, d.pillar_id;

CREATE TABLE bench_floor_area AS
SELECT a.cycle_id, a.region_id, a.ics_id, t.trust_type, a.care_setting_id, p.pillar_id,
       count(*) AS n, avg(p.score) AS mean,
       percentile_cont(ARRAY[0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9])
           WITHIN GROUP (ORDER BY p.score) AS percentiles
FROM bench_floor_pillar p
JOIN maturity_assessment a ON a.id = p.assessment_id
JOIN trusts_trust t ON t.id = a.trust_id
GROUP BY GROUPING SETS (
    (a.cycle_id, p.pillar_id),
    (a.cycle_id, a.region_id, p.pillar_id),
    (a.cycle_id, a.ics_id, p.pillar_id),
    (a.cycle_id, t.trust_type, a.care_setting_id, p.pillar_id)
);
"""
FLOOR_TABLES = 9
INSERT_HEAD = re.compile(r'\s*INSERT INTO "?\w+"?\s*(\([^)]*\))')


def floor_statements():
    """The bar's floor: every row the rebuild writes, computed by the same SELECTs but written as one bare SQL
    script — each INSERT INTO a summary table becomes CREATE TABLE … AS into a new table, with no rows to replace,
    no index, no lock and no Python in between. What the rebuild costs above it is the price of replacing the rows
    atomically in indexed tables."""
    from reports.summaries import sql

    everything = sql.Filter()
    targets = sql.gap_target_rows(None)
    statements = [
        sql.pillar_scores(everything),
        sql.gap_scores(everything, targets),
        sql.indicator_scores(everything),
        sql.domain_scores(everything),
        sql.value_counts(everything, sql.COUNTED_AREA_TYPES, targets.metrics),
        sql.area_stats(everything, everything, ("trust",), targets.metrics),
        sql.area_stats_from_counts(everything),
        sql.ics_progress(everything),
        sql.area_progress(everything),
    ]
    for number, (text, params) in enumerate(statements):
        head = INSERT_HEAD.match(text)
        yield f"CREATE TABLE bench_floor_{number} {head.group(1)} AS {text[head.end() :]}", params


def _drop_floor_tables(cursor):
    names = [f"bench_floor_{number}" for number in range(FLOOR_TABLES)] + ["bench_floor_pillar", "bench_floor_area"]
    cursor.execute(f"DROP TABLE IF EXISTS {', '.join(names)}")


def child_rebuild():
    """REBUILD_REPEATS rounds of (floor, pillar floor, rebuild), back to back so each round's three share the machine's
    load. The statements that read summary rows (the area statistics, from the rows and from the counts by value, and
    the regions' progress from the ICSs') read those the previous rebuild wrote, as the rebuild's read its own."""
    from django.db import connection, transaction

    from maturity.models import COUNTED_STATUSES
    from reports.summaries import sql as summary_sql
    from reports.summaries import tables

    tables.rebuild()
    floors, pillar_floors, rebuilds, rows = [], [], [], 0
    for _ in range(int(os.environ.get("BENCH_REBUILD_REPEATS", REBUILD_REPEATS))):
        with connection.cursor() as cursor:
            _drop_floor_tables(cursor)
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            summary_sql.prepare()
            for text, params in floor_statements():
                cursor.execute(text, params)
        floors.append(time.perf_counter() - started)

        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(PILLAR_FLOOR_SQL, {"counted": list(COUNTED_STATUSES)})
        pillar_floors.append(time.perf_counter() - started)

        started = time.perf_counter()
        rows = tables.rebuild()
        rebuilds.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + " + ".join(f"(SELECT count(*) FROM bench_floor_{n})" for n in range(FLOOR_TABLES)))
        floor_rows = cursor.fetchone()[0]
        _drop_floor_tables(cursor)
    print(
        json.dumps(
            {
                "floor_s": floors,
                "pillar_floor_s": pillar_floors,
                "rebuild_s": rebuilds,
                "rebuild_rows": rows,
                "floor_rows": floor_rows,
            }
        )
    )


# --- 2 and 3. A submission with a real worker -----------------------------------------------------------------------


def _wait_for_run(kind: str, target: str, since, timeout: float = 120):
    """The first RefreshRun of `kind` for `target` started at or after `since` to finish: (finished_at, status)."""
    from reports.models import RefreshRun

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = (
            RefreshRun.objects.filter(kind=kind, target=target, started_at__gte=since)
            .exclude(status=RefreshRun.Status.RUNNING)
            .order_by("started_at")
            .values("finished_at", "status", "error")
            .first()
        )
        if run:
            if run["status"] != RefreshRun.Status.OK:
                raise SystemExit(f"refresh {kind} {target} failed: {run['error']}")
            return run["finished_at"]
        time.sleep(0.005)
    raise SystemExit(f"no {kind} refresh of {target} finished within {timeout} s: is the worker running?")


def _wait_for_worker(timeout: float = 60):
    """Send the heartbeat task and wait for the worker to record it: then it is up and consuming our queue."""
    from celery import current_app
    from django.utils import timezone

    from reports.models import WorkerHeartbeat

    since = timezone.now()
    current_app.signature("reports.heartbeat").apply_async()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if WorkerHeartbeat.objects.filter(seen_at__gte=since).exists():
            return
        time.sleep(0.1)
    raise SystemExit(f"the Celery worker did not answer within {timeout} s")


def _committed(action, **kwargs):
    """Call a maturity action inside our own transaction and return the moment it commits: our on_commit callback
    is registered first, so it runs before the action's own (the enqueue), at the commit itself."""
    from django.db import transaction
    from django.utils import timezone

    stamp = {}
    with transaction.atomic():
        transaction.on_commit(lambda: stamp.setdefault("at", timezone.now()))
        action(**kwargs)
    return stamp["at"]


def child_submit():
    """Submit a returned assessment (complete, in the open demo cycle) as its trust's lead, wait for both refreshes,
    then return it as its ICS's reviewer and wait for those refreshes and the national areas' window, so the next
    round starts quiet.
    One round to warm the worker up, then REPEATS measured."""
    from django.contrib.auth import get_user_model

    from maturity import actions
    from maturity.models import Assessment, CycleState, Status
    from reports.tasks import AREAS_WINDOW_SECONDS

    _wait_for_worker()
    users = get_user_model().objects
    candidates = (
        Assessment.objects.filter(status=Status.RETURNED, cycle__state=CycleState.OPEN, trust__isnull=False)
        .select_related("cycle", "trust", "ics")
        .order_by("pk")
    )
    # An original trust's (twins have no accounts): codes of 3 characters.
    assessment = next(a for a in candidates if len(a.trust.code) == 3)
    lead = users.get(username=f"lead-{assessment.trust.code.lower()}")
    reviewer = users.get(username=f"ics-{assessment.ics.code.lower()}")
    target, year = str(assessment.pk), str(assessment.cycle.year)

    rounds = []
    for _ in range(REPEATS + 1):
        assessment.refresh_from_db()
        committed = _committed(
            actions.submit_assessment,
            by=lead,
            assessment=assessment,
            expected_version=assessment.version,
            sign_off_name="Bench Executive",
            sign_off_role="Chief Executive",
            declared=True,
        )
        own = _wait_for_run("assessment", target, committed)
        areas = _wait_for_run("areas", year, committed)
        rounds.append({"assessment_ms": _ms(own - committed), "areas_ms": _ms(areas - committed)})

        assessment.refresh_from_db()
        returned = _committed(
            actions.return_assessment,
            by=reviewer,
            assessment=assessment,
            expected_version=assessment.version,
            comments=[actions.Comment(text="Returned by the benchmark to submit again.")],
        )
        _wait_for_run("assessment", target, returned)
        _wait_for_run("areas", year, returned)
        # Quiet again: the national areas' window has passed, so the next submission is one after a quiet spell (in
        # a burst its national areas would wait for the window's end, at most AREAS_WINDOW_SECONDS).
        time.sleep(AREAS_WINDOW_SECONDS)
    print(json.dumps({"assessment_id": assessment.pk, "trust": assessment.trust.code, "rounds": rounds[1:]}))


def _ms(delta) -> float:
    return round(delta.total_seconds() * 1000, 1)


# --- 4. Dashboards under load ------------------------------------------------------------------------------------


def _request(port: int, path: str, headers: dict, method: str = "GET", body: str | None = None):
    """One request on a fresh connection (gunicorn's sync workers close each one). Returns (status, headers, body)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def _cookies(headers) -> dict:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            found[key] = rest.split(";", 1)[0]
    return found


def log_in(port: int, username: str, password: str) -> str:
    """Log in through the form, as a browser does; returns the Cookie header of the session."""
    from urllib.parse import urlencode

    status, headers, body = _request(port, BASELINE_PAGE, {})
    cookies = _cookies(headers)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    form = urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
    status, headers, _ = _request(
        port,
        BASELINE_PAGE,
        {
            "Cookie": f"csrftoken={cookies['csrftoken']}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
        body=form,
    )
    session = _cookies(headers).get("sessionid")
    if status != 302 or not session:
        raise SystemExit(f"log-in as {username} failed: HTTP {status}")
    return f"sessionid={session}; csrftoken={cookies['csrftoken']}"


def load(port: int, path: str, cookie: str | None, requests: int, max_seconds: float) -> dict:
    """CLIENTS threads share `requests` GETs of `path` until done or `max_seconds` pass. Returns client-side
    latencies (ms) and statuses."""
    headers = {"Accept-Encoding": "gzip", **({"Cookie": cookie} if cookie else {})}
    lock = threading.Lock()
    issued = [0]
    latencies, statuses = [], []
    deadline = time.monotonic() + max_seconds

    def client():
        while time.monotonic() < deadline:
            with lock:
                if issued[0] >= requests:
                    return
                issued[0] += 1
            started = time.perf_counter()
            try:
                status, _, _ = _request(port, path, headers)
            except OSError as error:
                status = f"error: {error}"
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses.append(status)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(max_seconds + 70)  # a request in flight at the deadline may take up to its 60 s timeout
    return {"latencies": latencies, "statuses": statuses, "seconds": time.perf_counter() - started}


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def _server_times(log: Path, offset: int, path: str) -> tuple[list[float], int]:
    """Gunicorn's own time (ms) for each 200 response to `path` logged after `offset`; and the new offset."""
    text = log.read_text()
    times = []
    for line in text[offset:].splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == path and parts[1] == "200":
            times.append(int(parts[2]) / 1000)
    return times, len(text)


def measure_pages(url: str, scratch_dir: Path) -> dict:
    """Serve the scratch database with gunicorn as `make serve-prod` does and load each page."""
    env = env_for(url, debug=False, redis=True)
    manage(env, "collectstatic", "--no-input", "--verbosity", "0")
    port = free_port()
    log = scratch_dir / "gunicorn-access.log"
    log.write_text("")
    command = gunicorn_command(port) + [
        "--access-logfile",
        str(log),
        # Path, status and the worker's time for the request in microseconds: the server time, without the
        # client's threads or the listen queue.
        "--access-logformat",
        "%(U)s %(s)s %(D)s",
        # gunicorn's control socket defaults to one path per user: another engineer's gunicorn may hold it.
        "--no-control-socket",
    ]
    with open(scratch_dir / "gunicorn.log", "w") as server_log:
        server = subprocess.Popen(
            command, env=env, cwd=ROOT, start_new_session=True, stdout=server_log, stderr=subprocess.STDOUT
        )
    try:
        _wait_for_http(port, server)
        cookie = log_in(port, *LOGIN)
        results = {"clients": CLIENTS, "rounds": ROUNDS, "gunicorn": " ".join(command[1:])}
        loads = [(BASELINE_PAGE, None)] + [(page, cookie) for page in PAGES]
        for path, who in loads:
            print(f"    warm: {path}", flush=True)
            load(port, path, who, WARM_REQUESTS, WARM_SECONDS)  # workers, templates, the cache
        pooled = {path: {"server_ms": [], "latencies": [], "statuses": [], "seconds": 0.0} for path, _ in loads}
        for round_number in range(1, ROUNDS + 1):
            print(f"    round {round_number} of {ROUNDS}: each page, {CLIENTS} clients", flush=True)
            for path, who in loads:
                offset = len(log.read_text())
                run = load(port, path, who, REQUESTS_PER_PAGE // ROUNDS, MAX_SECONDS_PER_PAGE / ROUNDS)
                time.sleep(0.5)  # gunicorn writes the log line after the response
                server_ms, _ = _server_times(log, offset, path)
                pooled[path]["server_ms"] += server_ms
                pooled[path]["latencies"] += run["latencies"]
                pooled[path]["statuses"] += run["statuses"]
                pooled[path]["seconds"] += run["seconds"]
        for path, run in pooled.items():
            ok = [ms for ms, status in zip(run["latencies"], run["statuses"], strict=True) if status == 200]
            if not run["server_ms"]:
                raise SystemExit(f"{path}: no successful responses ({sorted(set(map(str, run['statuses'])))})")
            results[path] = {
                "requests": len(run["statuses"]),
                "errors": len(run["statuses"]) - len(ok),
                "seconds": round(run["seconds"], 1),
                "server_p95_ms": round(p95(run["server_ms"]), 1),
                "server_median_ms": round(statistics.median(run["server_ms"]), 1),
                "client_p95_ms": round(p95(ok), 1) if ok else None,
            }
        return results
    finally:
        stop(server)


def gunicorn_command(port: int) -> list[str]:
    """The Procfile's web command, as `make serve-prod` runs it (its ${NAME:-default}s from the environment or their
    defaults), bound to 127.0.0.1 on our port; its access log is replaced by ours."""
    line = next(line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:"))
    values = {"HOST": "127.0.0.1", "PORT": str(port)}

    def expand(match):
        return values.get(match[1]) or os.environ.get(match[1]) or match[2] or ""

    argv = shlex.split(re.sub(r"\$\{(\w+)(?::-([^}]*))?\}", expand, line.removeprefix("web:")))
    if argv[0] != "gunicorn":
        raise SystemExit(f"the Procfile's web process is not gunicorn: {line}")
    if "--access-logfile" in argv:
        index = argv.index("--access-logfile")
        del argv[index : index + 2]
    return [str(BIN / "gunicorn"), *argv[1:]]


def _wait_for_http(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        try:
            if _request(port, BASELINE_PAGE, {})[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer on port {port} within {timeout} s")


# --- Parent -----------------------------------------------------------------------------------------------------


def run_child(mode: str, env: dict) -> dict:
    result = subprocess.run(
        [PYTHON, "-m", "bench.read_side", "--child", mode],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench child {mode} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_submission(url: str, scratch_dir: Path) -> dict:
    """A real worker, as the Procfile's but with the solo pool (one task at a time, no forking), on our Redis."""
    env = env_for(url, debug=False, redis=True)
    flush_redis()
    with open(scratch_dir / "celery-worker.log", "w") as worker_log:
        worker = subprocess.Popen(
            [str(BIN / "celery"), "-A", "config", "worker", "--pool=solo", "--loglevel", "WARNING"],
            env=env,
            cwd=ROOT,
            start_new_session=True,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        try:
            return run_child("submit", env)
        finally:
            stop(worker, timeout=30)


def measure(url: str, scratch_dir: Path, rebuild_repeats: int = REBUILD_REPEATS) -> dict:
    """Every read-side figure of the scale in the scratch database at `url`."""
    figures = {}
    print(f"    rebuild vs SQL floor ({rebuild_repeats} rounds)", flush=True)
    env = env_for(url, debug=False, redis=False) | {"BENCH_REBUILD_REPEATS": str(rebuild_repeats)}
    figures["rebuild"] = run_child("rebuild", env)
    print("    submission with a Celery worker", flush=True)
    figures["submission"] = measure_submission(url, scratch_dir)
    print("    dashboards under gunicorn", flush=True)
    figures["pages"] = measure_pages(url, scratch_dir)
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        import django

        sys.path.insert(0, str(ROOT))
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        django.setup()
        {"rebuild": child_rebuild, "submit": child_submit}[sys.argv[2]]()
