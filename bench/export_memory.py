"""Benchmark: the CSV export against PostgreSQL's own COPY, and its memory from 100 thousand rows to 1 million.

    make bench                                   # or: DATABASE_URL=postgres://… .venv/bin/python bench/export_memory.py

Needs PostgreSQL (DATABASE_URL); without it the script says so and exits 0. It creates a scratch database beside
DATABASE_URL's (`<name>_bench_export`, dropped at the end whatever happens), migrates it, and for each size fills
reports_pillarscore with INSERT … SELECT generate_series (synthetic rows shaped like the real ones), then measures,
each in a fresh subprocess so that peak memory is the export's own:

- export: GET /exports/pillar-scores.csv as an admin through Django's test client (the whole stack: middleware,
  login, the view, PostgreSQL's COPY in a worker thread), consuming the streamed body and discarding it; again with
  `Accept-Encoding: gzip`, as a browser asks (GZipMiddleware then compresses the stream in Python);
- copy: the floor, psycopg2's copy_expert of `COPY (SELECT <the same columns> FROM reports_pillarscore) TO STDOUT
  (FORMAT csv)` into /dev/null: no order, no formula guard, no Django.

The three run back to back, REPEATS rounds (BENCH_REPEATS, default 5): a ratio is the median over the rounds of
COPY's time ÷ the export's in the same round, so that both saw the same load on a shared machine; rows/s are the
best round's; peak memory is the largest seen. Sizes:

- 100,000 rows: the bar's starting point;
- 163,500 rows, the largest export of the design's `nhs` scale: 327 returns a cycle (285 provider × care-setting
  returns and 42 ICB returns, as NHS England published for 2025) × 50 domains × 10 cycles. That is domain-scores,
  the largest dataset (pillar-scores there is 327 × 8 × 10 = 26,160 rows); the same count of rows is measured here
  through pillar-scores, the contract's main dataset;
- 1,000,000 rows: far beyond `nhs`, to show that memory stays flat.

The bars (DESIGN.md section 5): export rows/s ≥ 70 % of COPY's; peak memory within 50 MB from 100 thousand rows
to the largest export. The table is printed and the figures merged into bench/results.json under "export_csv".
Not a test: pytest never collects this file (its name does not start with test_, and testpaths is tests/).
"""

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
NHS_RETURNS_A_CYCLE = 285 + 42
NHS_LARGEST_EXPORT = NHS_RETURNS_A_CYCLE * 50 * 10  # domain levels: returns × domains × cycles = 163,500
SIZES = {"100k": 100_000, "nhs": NHS_LARGEST_EXPORT, "1m": 1_000_000}
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
RATIO_BAR = 0.70
MEMORY_BAR_MB = 50
ADMIN = "bench-admin"
COLUMNS = (
    "cycle_year, region_code, region_name, ics_code, ics_name, org_code, org_name, org_type, trust_type, "
    "care_setting, pillar_code, pillar_name, score, source, status, is_demo"
)

# Rows shaped like the summary table's: 8 metrics per return, 327 returns a cycle in 42 ICSs and 7 regions, scores
# with a float's full digits (as pillar means have), and one organisation in 50 named with a leading "=" so that the
# formula guard has work to do.
FILL_SQL = """
SELECT setseed(0.25);
TRUNCATE reports_pillarscore;
INSERT INTO reports_pillarscore (
    cycle_year, region_code, region_name, ics_code, ics_name, org_code, org_name, org_type, trust_type, care_setting,
    source, status, is_demo, pillar_code, pillar_name, pillar_position, score, assessment_id
)
SELECT
    2016 + (g / 8 / 327) %% 10,
    'Y' || (56 + org %% 7),
    'NHS England Region ' || (org %% 7),
    'Q' || chr(65 + org %% 42 %% 26) || chr(65 + org %% 42 / 26),
    'NHS Place ' || (org %% 42) || ' Integrated Care Board',
    'R' || lpad(org::text, 3, '0'),
    CASE WHEN org %% 50 = 0 THEN '=' ELSE '' END || 'Place ' || org || ' Hospitals NHS Foundation Trust',
    'trust',
    'acute',
    'acute',
    'return',
    'approved',
    false,
    (ARRAY['overall', 'well_led', 'smart_foundations', 'safe_practice', 'support_workforce', 'empower_people',
           'improve_care', 'healthy_populations'])[g %% 8 + 1],
    (ARRAY['Overall', 'Well Led', 'Ensure Smart Foundations', 'Safe Practice', 'Support Workforce',
           'Empower People', 'Improve Care', 'Healthy Populations'])[g %% 8 + 1],
    g %% 8,
    1 + random() * 4,
    %(assessment)s
FROM generate_series(0, %(rows)s - 1) AS g, LATERAL (SELECT (g / 8) %% 327 AS org) AS o;
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


# --- Children: one measurement each, printing JSON ------------------------------------------------------------------


def django_setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def child_seed():
    """What the rows point at: one assessment (every row shares it: the export reads no joins) and an admin."""
    django_setup()
    from django.contrib.auth import get_user_model

    from maturity.models import Assessment, Cycle, CycleKind, CycleState, Source, Status
    from trusts.models import ICS, CareSetting, Region, Trust, TrustType

    CareSetting.objects.ensure_all()
    region = Region.objects.create(code="Y56", ons_code="E40000003", name="London")
    ics = ICS.objects.create(code="QMJ", ons_code="E54000028", name="NHS North Central London ICB", region=region)
    trust = Trust.objects.create(code="R000", name="Bench Trust", trust_type=TrustType.ACUTE, ics=ics)
    cycle = Cycle.objects.create(year=2016, kind=CycleKind.PUBLISHED_HISTORY, state=CycleState.PUBLISHED)
    assessment = Assessment.objects.create(
        cycle=cycle,
        trust=trust,
        care_setting_id=CareSetting.ACUTE,
        ics=ics,
        region=region,
        source=Source.PUBLISHED,
        status=Status.PUBLISHED,
    )
    get_user_model().objects.create_superuser(ADMIN, password=None)
    print(json.dumps({"assessment": assessment.pk}))


def child_export(gzip: bool):
    django_setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    headers = {"HTTP_ACCEPT_ENCODING": "gzip"} if gzip else {}
    client = Client(HTTP_HOST="localhost")
    client.force_login(get_user_model().objects.get(username=ADMIN))

    def download(query: dict) -> tuple[int, int]:
        response = client.get("/exports/pillar-scores.csv", query, **headers)
        assert response.status_code == 200, response.status_code
        assert (response.get("Content-Encoding") == "gzip") == gzip
        size = lines = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\n")
        response.close()
        return size, lines

    download({"cycle": "2100"})  # warm-up: imports, first query, the session; no rows
    before = peak_rss_mb()
    started = time.perf_counter()
    size, lines = download({})
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {"seconds": seconds, "bytes": size, "lines": lines, "rss_before_mb": before, "peak_mb": peak_rss_mb()}
        )
    )


def child_copy():
    import psycopg2

    connection = psycopg2.connect(os.environ["BENCH_DSN"])
    before = peak_rss_mb()
    started = time.perf_counter()
    with connection.cursor() as cursor, open(os.devnull, "wb") as sink:
        cursor.copy_expert(f"COPY (SELECT {COLUMNS} FROM reports_pillarscore) TO STDOUT (FORMAT csv)", sink)
    seconds = time.perf_counter() - started
    connection.close()
    print(json.dumps({"seconds": seconds, "rss_before_mb": before, "peak_mb": peak_rss_mb()}))


# --- Parent -------------------------------------------------------------------------------------------------------


def run_child(mode: str, env: dict) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"bench child {mode} failed:\n{result.stdout}\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def interleaved(modes: tuple[str, ...], env: dict) -> dict[str, list[dict]]:
    """REPEATS rounds of one run of each mode, back to back, so that each round's runs share the machine's load of
    the moment: the ratio of a round compares like with like even when other work comes and goes."""
    runs = {mode: [] for mode in modes}
    for _ in range(REPEATS):
        for mode in modes:
            runs[mode].append(run_child(mode, env))
    return runs


def paired_ratio(copies: list[dict], exports: list[dict]) -> float:
    return statistics.median(copy["seconds"] / export["seconds"] for copy, export in zip(copies, exports, strict=True))


def connect(dsn: str):
    import psycopg2

    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    return connection


def measure(dsn: str, env: dict, assessment: int) -> dict:
    results = {}
    for label, rows in SIZES.items():
        print(f"  {label}: filling {rows:,} rows…", flush=True)
        connection = connect(dsn)
        with connection.cursor() as cursor:
            cursor.execute(FILL_SQL, {"rows": rows, "assessment": assessment})
            cursor.execute("VACUUM ANALYZE reports_pillarscore")
            cursor.execute("SELECT pg_total_relation_size('reports_pillarscore')")
            table_mb = cursor.fetchone()[0] / 2**20
        connection.close()
        print(f"  {label}: measuring COPY, the export and the gzipped export ({REPEATS} runs each)…", flush=True)
        runs = interleaved(("copy", "export", "export-gzip"), env)
        for run in runs["export"]:
            if run["lines"] != rows + 1:
                raise SystemExit(f"the export wrote {run['lines']:,} lines for {rows:,} rows and a header")
        best = {mode: min(run["seconds"] for run in mode_runs) for mode, mode_runs in runs.items()}
        results[label] = {
            "rows": rows,
            "table_mb": round(table_mb, 1),
            "csv_mb": round(runs["export"][0]["bytes"] / 2**20, 1),
            "copy_rows_per_s": round(rows / best["copy"]),
            "export_rows_per_s": round(rows / best["export"]),
            "export_gzip_rows_per_s": round(rows / best["export-gzip"]),
            "ratio": round(paired_ratio(runs["copy"], runs["export"]), 3),
            "ratio_gzip": round(paired_ratio(runs["copy"], runs["export-gzip"]), 3),
            "ratio_of_best": round(best["copy"] / best["export"], 3),
            "export_peak_mb": round(max(run["peak_mb"] for run in runs["export"]), 1),
            "export_gzip_peak_mb": round(max(run["peak_mb"] for run in runs["export-gzip"]), 1),
            "export_rss_before_mb": round(max(run["rss_before_mb"] for run in runs["export"]), 1),
            "copy_peak_mb": round(max(run["peak_mb"] for run in runs["copy"]), 1),
        }
    return results


def report(sizes: dict) -> dict:
    small = sizes["100k"]
    growth = {label: round(figures["export_peak_mb"] - small["export_peak_mb"], 1) for label, figures in sizes.items()}
    summary = {
        "ratio_nhs": sizes["nhs"]["ratio"],
        "ratio_1m": sizes["1m"]["ratio"],
        "ratio_min": min(figures["ratio"] for figures in sizes.values()),
        "ratio_bar": RATIO_BAR,
        "memory_growth_mb_nhs_minus_100k": growth["nhs"],
        "memory_growth_mb_1m_minus_100k": growth["1m"],
        "memory_bar_mb": MEMORY_BAR_MB,
    }
    summary["passes"] = summary["ratio_min"] >= RATIO_BAR and max(growth.values()) <= MEMORY_BAR_MB

    header = (
        f"{'size':>6} {'rows':>10} {'CSV MB':>7} {'COPY rows/s':>12} {'export rows/s':>14} {'ratio':>6} "
        f"{'gzip rows/s':>12} {'ratio':>6} {'peak MB':>8} {'+MB vs 100k':>12}"
    )
    print()
    print("CSV export of pillar-scores vs COPY (SELECT …) TO STDOUT (FORMAT csv) into /dev/null")
    print(header)
    print("-" * len(header))
    for label, f in sizes.items():
        print(
            f"{label:>6} {f['rows']:>10,} {f['csv_mb']:>7} {f['copy_rows_per_s']:>12,} {f['export_rows_per_s']:>14,} "
            f"{f['ratio']:>6.2f} {f['export_gzip_rows_per_s']:>12,} {f['ratio_gzip']:>6.2f} "
            f"{f['export_peak_mb']:>8} {growth[label]:>12}"
        )
    print()
    print(
        f"Bars: export ≥ {RATIO_BAR:.0%} of COPY's rows/s (lowest: {summary['ratio_min']:.0%}); peak memory within "
        f"{MEMORY_BAR_MB} MB from 100k rows (1M: {growth['1m']:+} MB) → {'PASS' if summary['passes'] else 'FAIL'}"
    )
    return summary


def main():
    import dj_database_url

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench/export_memory.py: skipped: set DATABASE_URL to a PostgreSQL database (the export's COPY path).")
        return
    config = dj_database_url.parse(url)
    scratch = f"{config['NAME']}_bench_export"
    server_dsn = _dsn(config, "postgres")
    scratch_dsn = _dsn(config, scratch)
    scratch_url = url.rsplit("/", 1)[0] + f"/{scratch}"
    env = {
        **os.environ,
        "DATABASE_URL": scratch_url,
        "BENCH_DSN": scratch_dsn,
        # Production-like: no DEBUG (which would keep every query), no TLS redirect for the local client.
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-not-secret",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_COOKIES": "false",
        "REDIS_URL": "",
    }
    _recreate(server_dsn, scratch)
    try:
        print(f"export benchmark in scratch database {scratch}: migrating…", flush=True)
        for command in (["migrate", "--no-input", "-v0"], ["createcachetable"]):  # sessions go through the cache
            subprocess.run([sys.executable, "manage.py", *command], env=env, cwd=ROOT, check=True)
        assessment = run_child("seed", env)["assessment"]
        sizes = measure(scratch_dsn, env, assessment)
    finally:
        _drop(server_dsn, scratch)
    summary = report(sizes)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing["export_csv"] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dataset": "pillar-scores",
        "repeats": REPEATS,
        "nhs_largest_export_rows": NHS_LARGEST_EXPORT,
        "sizes": sizes,
        **summary,
    }
    RESULTS.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"written to {RESULTS.relative_to(ROOT)} (key export_csv)")


def _dsn(config: dict, name: str) -> str:
    parts = {"dbname": name, "user": config.get("USER"), "password": config.get("PASSWORD")}
    parts |= {"host": config.get("HOST"), "port": config.get("PORT")}
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def _recreate(server_dsn: str, name: str) -> None:
    connection = connect(server_dsn)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def _drop(server_dsn: str, name: str) -> None:
    connection = connect(server_dsn)
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    connection.close()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        mode = sys.argv[2]
        if mode == "seed":
            child_seed()
        elif mode == "copy":
            child_copy()
        else:
            child_export(gzip=mode == "export-gzip")
    else:
        main()
