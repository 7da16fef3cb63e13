// Draws the page's charts from the figure JSON that the page embeds beside each one with Django's json_script
// (<script type="application/json" id="chart-<id>-data">), so no inline script is needed: the CSP keeps
// script-src 'self'.
//
// As served, every chart's data table is open and its drawing area hidden (reports/_chart.html): that is the page
// without JavaScript, or when plotly.js cannot load. This module loads plotly.js only when the page has a chart to
// draw, then draws each chart as it comes near the viewport, one chart per animation frame so that the page keeps
// answering, and only then shows the drawing and closes its table. On a narrow screen (below 40em, which is 640 px
// at the default text size and also a 1280 px window zoomed to 200 %) a chart flagged as having long category names
// is not drawn: its table stays open instead.

const NARROW = window.matchMedia("(max-width: 40em)");
// Start drawing a little before a chart scrolls into view, so that it is there when it arrives.
const NEAR_VIEWPORT = "200px 0px";

const CONFIG = {
  displaylogo: false,
  responsive: true,
  // No mode bar: its buttons would be focusable inside an aria-hidden container (axe: aria-hidden-focus), and
  // plotly.js 4 adds a "Share chart" button that posts the data to a cloud service. Charts are for reading; the
  // table and the CSV link beside each chart carry the data. Should the bar ever be shown, these stay removed.
  displayModeBar: false,
  showSendToCloud: false,
  showTips: false,
  modeBarButtonsToRemove: [
    "zoom2d",
    "pan2d",
    "select2d",
    "lasso2d",
    "zoomIn2d",
    "zoomOut2d",
    "autoScale2d",
    "resetScale2d",
    "hoverClosestCartesian",
    "hoverCompareCartesian",
    "toggleSpikelines",
    "sendChartToCloud",
  ],
  // Box plots here are drawn from precomputed statistics whose whiskers are the 10th and 90th percentiles
  // (reports.charts.distribution), so the hover labels say so instead of Plotly's "lower fence" / "upper fence"
  // (or "min" / "max", which it shows when no data lies beyond the fences, as here).
  locale: "en-GB",
  locales: {
    "en-GB": {
      dictionary: {
        "q1:": "lower quartile:",
        "q3:": "upper quartile:",
        "lower fence:": "10th percentile:",
        "upper fence:": "90th percentile:",
        "min:": "10th percentile:",
        "max:": "90th percentile:",
      },
      format: {},
    },
  },
};

const charts = Array.from(document.querySelectorAll(".app-chart[data-chart-id]"));
const drawn = new Set();
const waiting = []; // charts near the viewport, not yet drawn, in the order they came near it
let plotly = null; // the promise of window.Plotly, once a chart needs it
let frameRequested = false;

function figureOf(chart) {
  const script = document.getElementById(`chart-${chart.dataset.chartId}-data`);
  return script ? JSON.parse(script.textContent) : null;
}

function tableOf(chart) {
  return document.getElementById(`chart-${chart.dataset.chartId}-table`);
}

// The element watched for nearing the viewport: the chart itself is hidden until drawn, and hidden elements never
// intersect anything.
function watchedOf(chart) {
  return chart.closest(".app-chart-figure") || chart.parentElement;
}

function givesWay(chart) {
  return chart.hasAttribute("data-long-categories") && NARROW.matches;
}

function loadPlotly() {
  if (!plotly) {
    const source = document.querySelector("script[data-plotly]").dataset.plotly;
    plotly = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = source;
      script.addEventListener("load", () =>
        window.Plotly ? resolve(window.Plotly) : reject(new Error(`${source} did not define Plotly`)),
      );
      script.addEventListener("error", () => reject(new Error(`${source} could not be loaded`)));
      document.head.append(script);
    });
    plotly.catch((error) => console.error("Charts left as tables:", error));
  }
  return plotly;
}

function requestFrame() {
  if (frameRequested || waiting.length === 0) {
    return;
  }
  frameRequested = true;
  loadPlotly().then(
    (Plotly) =>
      requestAnimationFrame(() => {
        frameRequested = false;
        const chart = waiting.shift();
        try {
          if (chart) {
            draw(chart, Plotly);
          }
        } finally {
          // Whatever became of this chart, the next one gets the next frame.
          requestFrame();
        }
      }),
    () => {
      frameRequested = false;
    },
  );
}

function enqueue(chart) {
  if (!drawn.has(chart) && !waiting.includes(chart) && !givesWay(chart)) {
    waiting.push(chart);
    requestFrame();
  }
}

function dequeue(chart) {
  const index = waiting.indexOf(chart);
  if (index !== -1) {
    waiting.splice(index, 1);
  }
}

// Shows the chart, draws it, then closes its table (unless the page keeps tables open, as the board pack does). If
// drawing fails, the chart is hidden again and the table stays open. One broken chart does not stop the others.
function draw(chart, Plotly) {
  // Drawn or not, it is done with: only a long-category chart is watched again (when the screen widens).
  nearViewport.unobserve(watchedOf(chart));
  const figure = figureOf(chart);
  if (!figure || !Array.isArray(figure.data) || figure.data.length === 0) {
    return;
  }
  drawn.add(chart);
  const failed = (error) => {
    drawn.delete(chart);
    chart.hidden = true;
    console.error(`Chart ${chart.dataset.chartId} could not be drawn`, error);
  };
  chart.hidden = false;
  try {
    Plotly.newPlot(chart, figure.data, figure.layout || {}, CONFIG).then(() => {
      const table = tableOf(chart);
      if (table && table.hasAttribute("data-close-when-drawn")) {
        table.open = false;
      }
    }, failed);
  } catch (error) {
    failed(error);
  }
}

// Back to the table: for a long-category chart when the screen becomes narrow.
function undraw(chart) {
  dequeue(chart);
  if (drawn.has(chart)) {
    drawn.delete(chart);
    window.Plotly.purge(chart);
    chart.hidden = true;
    const table = tableOf(chart);
    if (table) {
      table.open = true;
    }
  }
}

const byWatched = new Map(charts.map((chart) => [watchedOf(chart), chart]));
const nearViewport = new IntersectionObserver(
  (entries) => {
    for (const entry of entries) {
      const chart = byWatched.get(entry.target);
      if (entry.isIntersecting) {
        enqueue(chart);
      } else {
        // Scrolled past before its turn came: let the charts now in view go first.
        dequeue(chart);
      }
    }
  },
  { rootMargin: NEAR_VIEWPORT },
);

// Fetch plotly.js at once when a chart will be drawn, rather than when the first one comes into view a frame later.
if (charts.some((chart) => !givesWay(chart))) {
  loadPlotly();
}

for (const chart of charts) {
  // The board pack is printed whole: its charts are drawn one after another without waiting to be scrolled to.
  if (chart.dataset.draw === "at-once") {
    enqueue(chart);
  } else {
    nearViewport.observe(watchedOf(chart));
  }
}

NARROW.addEventListener("change", () => {
  for (const chart of charts.filter((each) => each.hasAttribute("data-long-categories"))) {
    if (NARROW.matches) {
      undraw(chart);
    } else if (chart.dataset.draw === "at-once") {
      enqueue(chart);
    } else {
      // Observing again reports whether it is near the viewport now.
      nearViewport.unobserve(watchedOf(chart));
      nearViewport.observe(watchedOf(chart));
    }
  }
});
