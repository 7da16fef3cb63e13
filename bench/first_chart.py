"""First chart on a slow CPU (DESIGN.md section 5; issue 9, "first chart fast"): in Chromium (Debian's, driven by
Playwright) with the CPU slowed 4× through the DevTools protocol (Emulation.setCPUThrottlingRate) and a fresh browser
context (cold cache) for every run, the time from navigation start to the first chart of /ics/QOP/ drawn and
painted, logged in as ics-qop, for a reader who scrolls to that chart as soon as the page is parsed (charts are drawn
as they come into view, and the dashboard opens on its headline). The first chart is the headline's pillar chart,
drawn on the server as SVG and painted with the page; the bench times plotly.js's first chart too, for the charts
below it. Against an empty page of the product under the
same throttle in the same run: the log-in page (the product's header, styles and scripts, no chart), painted after
its load event. The runs alternate between the two pages so both see the same machine.

Each moment is taken in the page, on the page's own clock (performance.now(), whose zero is navigation start), by a
script Playwright injects before the page's own (not subject to the page's CSP). "Painted" is the task after the
next animation frame: a frame's paint follows its animation-frame callbacks.

The pages are served by gunicorn as `make serve-prod` runs it, from a scratch database with the nhs scale's data,
warm (one visit of each page first): what is measured is the browser's side."""

import statistics
import subprocess
from pathlib import Path

from bench import read_side
from bench.common import ROOT, env_for, flush_redis, free_port, manage, stop

PAGE = "/ics/QOP/"
EMPTY_PAGE = "/accounts/login/"
LOGIN = ("ics-qop", "demo")
THROTTLE = 4
RUNS = 5
BAR_S = 1.5
VIEWPORT = {"width": 1280, "height": 900}
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
PLOTLY = ROOT / "static" / "dist" / "js" / "plotly.min.js"
# The first chart of any kind, and the first drawn by plotly.js (the charts below the headline).
CHART_MARKS = ("__benchFirstChart", "__benchFirstPlotly")

# Only the nodes each mutation adds are looked at: a query of the whole document on every mutation would slow the
# parsing of a long page, throttled, and so the figure.
TIMING_SCRIPT = """
(() => {
  const stamp = (key) => requestAnimationFrame(() => setTimeout(() => { window[key] = performance.now(); }, 0));
  const watch = (selector, key, then) => {
    const isChart = (node) => node.nodeType === 1 && (node.matches(selector) || node.querySelector(selector));
    new MutationObserver((records, observer) => {
      if (records.some((record) => Array.from(record.addedNodes).some(isChart))) {
        observer.disconnect();
        stamp(key);
        then?.();
      }
    }).observe(document, { childList: true, subtree: true });
  };
  // Any chart: drawn by plotly.js, or the headline's, drawn on the server (reports/dashboards/positions_svg.py);
  // then the reader goes on down to the charts plotly.js draws as they come into view.
  const toPlotly = () => document.querySelector(".app-chart")?.parentElement.scrollIntoView();
  watch(".app-chart .main-svg, svg.app-positions", "__benchFirstChart", () =>
    document.readyState === "loading" ? addEventListener("DOMContentLoaded", toPlotly) : toPlotly());
  watch(".app-chart .main-svg", "__benchFirstPlotly");
  addEventListener("load", () => stamp("__benchLoaded"));
  // The reader goes straight to the first chart (charts are drawn as they come into view).
  addEventListener("DOMContentLoaded", () =>
    document.querySelector("svg.app-positions, .app-chart")?.parentElement.scrollIntoView());
})();
"""


def _seconds_to(browser, base_url: str, path: str, cookies: list[dict], *marks: str) -> list[float]:
    """One cold visit of `path`, CPU throttled: seconds from navigation start to each of the page's `marks`."""
    context = browser.new_context(base_url=base_url, viewport=VIEWPORT)
    try:
        context.add_cookies(cookies)
        context.add_init_script(TIMING_SCRIPT)
        page = context.new_page()
        context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
        response = page.goto(path, wait_until="commit")
        if response is None or response.status != 200 or not page.url.endswith(path):
            raise SystemExit(f"{path}: HTTP {response and response.status} at {page.url}")
        for mark in marks:
            page.wait_for_function(f"() => window.{mark} !== undefined", timeout=120_000, polling=100)
        return [page.evaluate(f"window.{mark}") / 1000 for mark in marks]
    finally:
        context.close()


def _session_cookies(port: int) -> list[dict]:
    header = read_side.log_in(port, *LOGIN)
    pairs = (part.split("=", 1) for part in header.split("; "))
    return [{"name": name, "value": value, "domain": "127.0.0.1", "path": "/"} for name, value in pairs]


def measure(url: str, scratch_dir: Path, runs: int = RUNS) -> dict:
    """Serve the scratch database at `url` and time `runs` cold visits of each page, alternating."""
    from playwright.sync_api import sync_playwright

    env = env_for(url, debug=False, redis=True)
    flush_redis()
    manage(env, "collectstatic", "--no-input", "--verbosity", "0")
    port = free_port()
    command = read_side.gunicorn_command(port) + ["--no-control-socket"]
    with open(scratch_dir / "gunicorn-first-chart.log", "w") as server_log:
        server = subprocess.Popen(
            command, env=env, cwd=ROOT, start_new_session=True, stdout=server_log, stderr=subprocess.STDOUT
        )
    try:
        read_side._wait_for_http(port, server)
        cookies = _session_cookies(port)
        base_url = f"http://127.0.0.1:{port}"
        first_chart, first_plotly, empty = [], [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                # Warm: gunicorn's workers, the dashboard cache and the disk cache, not measured.
                _seconds_to(browser, base_url, PAGE, cookies, *CHART_MARKS)
                _seconds_to(browser, base_url, EMPTY_PAGE, [], "__benchLoaded")
                for number in range(runs):
                    empty.extend(_seconds_to(browser, base_url, EMPTY_PAGE, [], "__benchLoaded"))
                    chart, plotly = _seconds_to(browser, base_url, PAGE, cookies, *CHART_MARKS)
                    first_chart.append(chart)
                    first_plotly.append(plotly)
                    print(
                        f"    run {number + 1}: first chart {chart:.2f} s (first plotly.js chart {plotly:.2f} s), "
                        f"empty page {empty[-1]:.2f} s"
                    )
            finally:
                browser.close()
    finally:
        stop(server)
    median_chart, median_empty = statistics.median(first_chart), statistics.median(empty)
    return {
        "page": PAGE,
        "empty_page": EMPTY_PAGE,
        "cpu_throttle": THROTTLE,
        "runs": runs,
        "first_chart_s": [round(value, 3) for value in first_chart],
        "empty_page_s": [round(value, 3) for value in empty],
        "median_first_chart_s": round(median_chart, 3),
        "first_plotly_chart_s": [round(value, 3) for value in first_plotly],
        "median_first_plotly_chart_s": round(statistics.median(first_plotly), 3),
        "median_empty_page_s": round(median_empty, 3),
        "ratio": round(median_chart / median_empty, 2),
        "bar_s": BAR_S,
        "met": median_chart <= BAR_S,
        "plotly_bytes": PLOTLY.stat().st_size,
    }
