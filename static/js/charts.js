// Draws every chart on the page from the figure JSON that the page embeds beside it with Django's json_script
// (<script type="application/json" id="chart-<id>-data">), so no inline script is needed: the CSP keeps
// script-src 'self'. plotly.js is loaded just before this module by reports/_chart_scripts.html and defines
// window.Plotly. Without it (script blocked, old browser) the charts stay empty and the data tables beside them
// still carry everything.

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

function readFigure(chartId) {
  const script = document.getElementById(`chart-${chartId}-data`);
  return script ? JSON.parse(script.textContent) : null;
}

function drawChart(element) {
  const figure = readFigure(element.dataset.chartId);
  if (!figure || !Array.isArray(figure.data) || figure.data.length === 0) {
    return;
  }
  // One broken chart must not stop the others from drawing.
  window.Plotly.newPlot(element, figure.data, figure.layout || {}, CONFIG).catch((error) => {
    console.error(`Chart ${element.dataset.chartId} could not be drawn`, error);
  });
}

if (window.Plotly) {
  document.querySelectorAll(".app-chart[data-chart-id]").forEach((element) => {
    try {
      drawChart(element);
    } catch (error) {
      console.error(`Chart ${element.dataset.chartId} could not be drawn`, error);
    }
  });
}
