"""`make bench`: every performance bar of DESIGN.md section 5 that the server side can measure, in one run, printed as
one table of ratios (what, scale, measured, baseline, ratio, bar, met?) and merged into bench/results.json.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/nhs_dma_bench make bench          # nhs, then 10x
    BENCH_SCALE=nhs make bench                                                          # nhs only
    BENCH_SCALE=sector make bench                                                       # nhs, then sector (opt-in)

BENCH_SCALE names the largest scale; nhs is always measured first, in the same run, because the submission bars are
"flat from nhs": the larger scale's figure is divided by nhs's. Each scale lives in its own scratch database beside
DATABASE_URL's (`<name>_bench_<scale>`), dropped at the end whatever happens; the Celery worker and gunicorn it
starts are always stopped. BENCH_SKIP_EXPORT=1 leaves out the CSV export benchmark (bench/export_memory.py, which
writes its own key, "export_csv", and its own detailed table). The nhs scale also times the first chart of /ics/QOP/
in Chromium with the CPU throttled 4× (bench/first_chart.py, key "first_chart"); BENCH_ONLY=first_chart runs only
that, on its own nhs scratch database (a few minutes, most of them building the data).

Without DATABASE_URL on PostgreSQL it says so and exits 0. Not a test: pytest never collects bench/."""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import first_chart, read_side, scales
from bench.common import PYTHON, RESULTS, ROOT, database_url, scratch_database

SCALES = {"nhs": ["nhs"], "10x": ["nhs", "10x"], "sector": ["nhs", "sector"]}
REBUILD_BAR = 1.5
ASSESSMENT_BAR_MS = 200
AREAS_BAR_MS = 5000
# "Flat" between scales, read as: the larger scale's median within 1.5 × nhs's.
FLAT_BAR = 1.5
PAGE_BAR = 2.0
EXPORT_BAR = 0.70
EXPORT_MEMORY_BAR_MB = 50


def run_export() -> dict | None:
    if os.environ.get("BENCH_SKIP_EXPORT"):
        return None
    print("== CSV export vs COPY (bench/export_memory.py)", flush=True)
    subprocess.run([PYTHON, "bench/export_memory.py"], cwd=ROOT, check=True)
    return json.loads(RESULTS.read_text()).get("export_csv")


def measure_scale(url: str, scale: str, logs: Path) -> dict:
    print(f"== scale {scale}", flush=True)
    with scratch_database(url, scale) as scratch_url:
        started = time.perf_counter()
        print("  building the data", flush=True)
        data = scales.build(scale, scratch_url)
        print(f"  built in {data['build_seconds']} s: {data}", flush=True)
        # A sector rebuild takes long enough (today) that one round is all a run can afford.
        figures = read_side.measure(
            scratch_url, logs, rebuild_repeats=1 if scale == "sector" else read_side.REBUILD_REPEATS
        )
        if scale == "nhs":
            figures["first_chart"] = measure_first_chart(scratch_url, logs)
        figures["data"] = data
        figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


def measure_first_chart(scratch_url: str, logs: Path) -> dict:
    print(f"  first chart, CPU {first_chart.THROTTLE}× slower (bench/first_chart.py)", flush=True)
    return first_chart.measure(scratch_url, logs)


def run_first_chart_only(url: str) -> int:
    """BENCH_ONLY=first_chart: the nhs data in its own scratch database, the first-chart figures, their row."""
    started = time.perf_counter()
    logs = Path(tempfile.mkdtemp(prefix="nhs_dma_bench_"))
    with scratch_database(url, "nhs") as scratch_url:
        print("== scale nhs: building the data", flush=True)
        scales.build("nhs", scratch_url)
        figures = measure_first_chart(scratch_url, logs)
    print_table(first_chart_rows("nhs", figures))
    seconds = round(time.perf_counter() - started)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing["first_chart"] = first_chart_entry(figures, seconds)
    RESULTS.write_text(json.dumps(existing, indent=2, default=str) + "\n")
    print(f"\nin {seconds // 60} min {seconds % 60} s; written to {RESULTS.relative_to(ROOT)} (key first_chart)")
    return 0


def first_chart_entry(figures: dict, seconds: int) -> dict:
    return {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "run_seconds": seconds, **figures}


# --- The table ------------------------------------------------------------------------------------------------------


def _row(what, scale, measured, baseline, ratio, bar, met):
    return {"what": what, "scale": scale, "measured": measured, "baseline": baseline, "ratio": ratio, "bar": bar,
            "met": met}  # fmt: skip


def rows_for(results: dict, export: dict | None) -> list[dict]:
    rows = []
    nhs = results.get("nhs")
    for scale, figures in results.items():
        rebuild = figures["rebuild"]
        ratios = [r / f for r, f in zip(rebuild["rebuild_s"], rebuild["floor_s"], strict=True)]
        ratio = statistics.median(ratios)
        rows.append(
            _row(
                f"summaries rebuild vs SQL floor (median of {len(ratios)})",
                scale,
                f"{statistics.median(rebuild['rebuild_s']):.2f} s",
                f"{statistics.median(rebuild['floor_s']) * 1000:.0f} ms",
                ratio,
                f"≤ {REBUILD_BAR}×",
                ratio <= REBUILD_BAR,
            )
        )
        pillar_ratios = [r / f for r, f in zip(rebuild["rebuild_s"], rebuild["pillar_floor_s"], strict=True)]
        rows.append(
            _row(
                "  (for reference) rebuild vs pillar means + percentiles only",
                scale,
                f"{statistics.median(rebuild['rebuild_s']):.2f} s",
                f"{statistics.median(rebuild['pillar_floor_s']) * 1000:.0f} ms",
                statistics.median(pillar_ratios),
                "—",
                None,
            )
        )
        for key, label, bar_ms in [
            ("assessment_ms", "submission → assessment, trust, ICS rows", ASSESSMENT_BAR_MS),
            ("areas_ms", "submission → region, England rows", AREAS_BAR_MS),
        ]:
            values = [round_[key] for round_ in figures["submission"]["rounds"]]
            median = statistics.median(values)
            measured = f"{median:.0f} ms (min {min(values):.0f})"
            if scale == "nhs" or nhs is None:
                rows.append(_row(label, scale, measured, "absolute", None, f"≤ {bar_ms} ms", median <= bar_ms))
            else:
                base = statistics.median(r[key] for r in nhs["submission"]["rounds"])
                ratio = median / base
                met = median <= bar_ms and ratio <= FLAT_BAR
                rows.append(
                    _row(label, scale, measured, f"nhs {base:.0f} ms", ratio, f"≤ {bar_ms} ms, ≤ {FLAT_BAR}× nhs", met)
                )
        pages = figures["pages"]
        base = pages[read_side.BASELINE_PAGE]["server_p95_ms"]
        for page in read_side.PAGES:
            p95 = pages[page]["server_p95_ms"]
            rows.append(
                _row(
                    f"p95 {page} vs {read_side.BASELINE_PAGE}, {pages['clients']} clients",
                    scale,
                    f"{p95:.0f} ms",
                    f"{base:.0f} ms",
                    p95 / base,
                    f"≤ {PAGE_BAR}×",
                    p95 / base <= PAGE_BAR,
                )
            )
    if nhs and "first_chart" in nhs:
        rows.extend(first_chart_rows("nhs", nhs["first_chart"]))
    if export:
        # The export's own ratio: the median over its rounds of COPY's time ÷ the export's, at the nhs scale's largest
        # export and at 1 million rows; rows/s are the best rounds'.
        for label in ("nhs", "1m"):
            size = export["sizes"][label]
            rows.append(
                _row(
                    f"CSV export rows/s vs COPY (median of {export['repeats']})",
                    f"{size['rows']:,} rows",
                    f"{size['export_rows_per_s']:,}/s",
                    f"{size['copy_rows_per_s']:,}/s",
                    size["ratio"],
                    f"≥ {EXPORT_BAR}×",
                    size["ratio"] >= EXPORT_BAR,
                )
            )
        growth = export["memory_growth_mb_1m_minus_100k"]
        rows.append(
            _row(
                "CSV export peak memory, 1M vs 100k rows",
                "1M rows",
                f"+{growth} MB",
                f"{export['sizes']['100k']['export_peak_mb']} MB",
                None,
                f"≤ +{EXPORT_MEMORY_BAR_MB} MB",
                growth <= EXPORT_MEMORY_BAR_MB,
            )
        )
    return rows


def first_chart_rows(scale: str, figures: dict) -> list[dict]:
    """The first chart (the headline's, drawn on the server), and for reference the first drawn by plotly.js."""
    empty = figures["median_empty_page_s"]
    plotly = figures["median_first_plotly_chart_s"]
    return [
        _row(
            f"first chart of {figures['page']}, CPU {figures['cpu_throttle']}× slower, vs {figures['empty_page']} "
            f"(median of {figures['runs']})",
            scale,
            f"{figures['median_first_chart_s']:.2f} s",
            f"{empty:.2f} s",
            figures["ratio"],
            f"≤ {figures['bar_s']} s",
            figures["met"],
        ),
        _row(
            "(first chart drawn by plotly.js, for reference)",
            scale,
            f"{plotly:.2f} s",
            f"{empty:.2f} s",
            round(plotly / empty, 2),
            "—",
            None,
        ),
    ]


def print_table(rows: list[dict]) -> None:
    columns = ["what", "scale", "measured", "baseline", "ratio", "bar", "met?"]
    cells = [
        [
            row["what"],
            row["scale"],
            row["measured"],
            row["baseline"],
            "—" if row["ratio"] is None else f"{row['ratio']:.2f}×",
            row["bar"],
            "—" if row["met"] is None else ("yes" if row["met"] else "NO"),
        ]
        for row in rows
    ]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    print()
    print("  ".join(column.ljust(width) for column, width in zip(columns, widths, strict=True)))
    print("  ".join("-" * width for width in widths))
    for line in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))


def main() -> int:
    url = database_url()
    if url is None:
        print("bench/run.py: skipped: set DATABASE_URL to a PostgreSQL database (the benchmarks need PostgreSQL).")
        return 0
    only = os.environ.get("BENCH_ONLY")
    if only:
        if only != "first_chart":
            print(f"bench/run.py: BENCH_ONLY can only be first_chart, not {only!r}")
            return 2
        return run_first_chart_only(url)
    scale = os.environ.get("BENCH_SCALE", "10x")
    if scale not in SCALES:
        print(f"bench/run.py: BENCH_SCALE must be one of {', '.join(SCALES)}, not {scale!r}")
        return 2
    started = time.perf_counter()
    export = run_export()
    logs = Path(tempfile.mkdtemp(prefix="nhs_dma_bench_"))  # the worker's and gunicorn's logs, kept for a look
    results = {name: measure_scale(url, name, logs) for name in SCALES[scale]}
    rows = rows_for(results, export)
    print_table(rows)
    seconds = round(time.perf_counter() - started)
    print(f"\n{len(rows)} figures in {seconds // 60} min {seconds % 60} s; logs in {logs}")

    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if "first_chart" in results["nhs"]:
        existing["first_chart"] = first_chart_entry(results["nhs"]["first_chart"], seconds)
    existing["read_side"] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "bench_scale": scale,
        "run_seconds": seconds,
        "scales": results,
        "table": rows,
    }
    RESULTS.write_text(json.dumps(existing, indent=2, default=str) + "\n")
    print(f"written to {RESULTS.relative_to(ROOT)} (keys read_side, first_chart and export_csv)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
