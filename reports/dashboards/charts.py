"""Chart builders for the dashboards, drawn in the browser by plotly.js.

Each builder is a pure function: a pandas DataFrame with documented columns in, a `Chart` out. A chart carries the
figure as a plain JSON-ready dict in plotly.js's own schema (traces under "data", "layout"), drawn in the browser by
static/js/charts.js from a json_script tag, so no inline script. The figure is written as dicts and lists of plain
Python values rather than built with plotly's Python graph objects: those validate every property on every build,
which was most of the cost of an uncached dashboard, and the browser's plotly.js checks the figure anyway.

A chart also carries the table of exactly the plotted data, which the page shows as an accessible HTML table and
offers as CSV (`chart_csv`). The table is turned into plain data once, when the chart is built: headers and formatted
cells for the page (already rendered as the table's HTML), plain values for the CSV. Dashboards are cached, so a
cached chart is served with no pandas work and no cell-by-cell template rendering. No database here: views and Celery
tasks read summaries and pass frames in.

Colours come from the NHS identity palette, ordered so that the first colours stay distinguishable with the common
colour-vision deficiencies; lines and markers also differ by symbol and dash, and heatmap cells carry their value as
text, so no chart relies on colour alone.
"""

from __future__ import annotations

import csv
import io
import math
import re

import numpy as np
import pandas as pd
from django.template.loader import render_to_string
from django.utils.html import json_script
from django.utils.safestring import SafeString

# --- Palette -----------------------------------------------------------------------------------------------------

NHS_BLUE = "#005EB8"
NHS_DARK_BLUE = "#003087"
NHS_ORANGE = "#ED8B00"
NHS_AQUA_GREEN = "#00A499"
NHS_DARK_GREY = "#425563"
NHS_MID_GREY = "#768692"
NHS_PALE_GREY = "#E8EDEE"
NHS_WARM_YELLOW = "#FFB81C"
NHS_PURPLE = "#330072"
NHS_DARK_PINK = "#7C2855"
NHS_TEXT = "#212B32"

# Categorical colours in order of use. Blue and orange first (the safest pair for colour-blind readers), then colours
# that differ from them in lightness; warm yellow is late because it has little contrast on white.
PALETTE = (
    NHS_BLUE,
    NHS_ORANGE,
    NHS_AQUA_GREEN,
    NHS_DARK_GREY,
    NHS_PURPLE,
    NHS_WARM_YELLOW,
    NHS_DARK_PINK,
    NHS_MID_GREY,
)

# Single-hue sequential scale, light to dark NHS blue, for scores 1..5 on heatmaps.
SEQUENTIAL_BLUES = [
    [0.0, "#E6EFF8"],
    [0.25, "#A9C8EA"],
    [0.5, "#5B93D3"],
    [0.75, NHS_BLUE],
    [1.0, NHS_DARK_BLUE],
]

# Second cue besides colour for series drawn as lines or markers.
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "star", "hexagon")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")

FONT = {"family": '"Frutiger W01", Arial, sans-serif', "size": 14, "color": NHS_TEXT}

SCORE_TITLE = "Score (level 1 to 5)"
SCORE_TICKS = [1, 2, 3, 4, 5]
# Markers at level 1 or 5 would be cut in half on a range of exactly [1, 5]; bars start at 0 so their length is honest.
SCORE_RANGE = [0.75, 5.25]
SCORE_BAR_RANGE = [0, 5.25]

MISSING_TEXT = "No data"

_CHART_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Spreadsheet programs run a cell starting with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

TABLE_TEMPLATE = "reports/_chart_table.html"


# --- Chart ---------------------------------------------------------------------------------------------------------


class Chart:
    """A chart ready for the page, holding only plain Python data (it is cached with its dashboard):

    - `figure`: the plotly.js figure, {"data": [traces], "layout": {...}}, JSON-ready;
    - `headers` and `values`: the table of the plotted data, values as plain Python (missing as None), for CSV;
    - `columns` and `rows`: the same table formatted for people, each header {"text", "numeric"} and each cell
      {"text", "numeric", "missing"};
    - `table_html`: that table rendered once by reports/_chart_table.html, and `figure_script`: the figure as the
      json_script tag that charts.js reads; the chart include (reports/_chart.html) places both as they are.

    Built from a DataFrame `table`, converted once here; `.table` gives a DataFrame back for analysis and tests.
    Immutable once built, like the dataclass it replaces.
    """

    __slots__ = (
        "id",
        "title",
        "description",
        "figure",
        "headers",
        "values",
        "columns",
        "rows",
        "table_html",
        "figure_script",
    )

    def __init__(self, id: str, title: str, description: str, figure: dict, table: pd.DataFrame):
        # The id becomes HTML ids (chart-<id>, chart-<id>-data) and part of URLs.
        if not _CHART_ID.match(id):
            raise ValueError(f"chart id {id!r} must be lower-case letters, digits, '-' or '_'")
        headers = [str(name) for name in table.columns]
        columns = [_plain_column(table.iloc[:, i]) for i in range(table.shape[1])]
        values = [list(row) for row in zip(*columns, strict=True)] if columns else []
        rows = [[_format_cell(value) for value in row] for row in values]
        state = {
            "id": id,
            "title": title,
            "description": description,
            "figure": figure,
            "headers": headers,
            "values": values,
            "columns": [
                {"text": header, "numeric": _all_numbers(column)}
                for header, column in zip(headers, columns, strict=True)
            ],
            "rows": rows,
            "table_html": "",
            "figure_script": "",
        }
        self.__setstate__(state)
        if rows:
            # Only shown for a chart with data; escaped here once, as the template would on every view.
            object.__setattr__(
                self, "table_html", SafeString(render_to_string(TABLE_TEMPLATE, {"chart": self}).strip())
            )
            object.__setattr__(self, "figure_script", json_script(figure, f"chart-{id}-data"))

    def __repr__(self) -> str:
        return f"<Chart {self.id}: {len(self.rows)} rows>"

    def __getstate__(self):
        return {name: getattr(self, name) for name in self.__slots__}

    def __setstate__(self, state):
        if "table" in state:
            # Pickled by the earlier Chart, which held a DataFrame (a dashboard cached before a deploy): convert it.
            self.__init__(state["id"], state["title"], state["description"], state["figure"], state["table"])
            return
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value):
        # Frozen: the rendered table and figure script must stay those of the data.
        raise AttributeError(f"Chart is immutable; cannot set {name!r}")

    @property
    def is_empty(self) -> bool:
        return not self.rows

    @property
    def table(self) -> pd.DataFrame:
        """The table as a DataFrame, rebuilt from the plain values (pages and CSV don't use it)."""
        return pd.DataFrame(self.values, columns=self.headers)


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_missing(value) -> bool:
    return value is None or (not isinstance(value, (list, tuple, dict)) and bool(pd.isna(value)))


def _scalar(value):
    """A table value as plain Python: numpy scalars as Python ones, NaN and NA as None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, int):
        return value
    return None if _is_missing(value) else value


def _plain(value):
    """A figure value as plain Python: as `_scalar`, and infinities as None too (JSON has no NaN or Infinity)."""
    value = _scalar(value)
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _plain_column(series: pd.Series) -> list:
    # tolist() gives the values as the column's dtype holds them (an int column with gaps is float in pandas).
    return [_scalar(value) for value in series.tolist()]


def _all_numbers(values: list) -> bool:
    """A column is numeric when every value in it is a number (and there is at least one)."""
    present = [v for v in values if v is not None]
    return bool(present) and all(_is_number(v) for v in present)


def _format_cell(value) -> dict:
    """One table cell for the template: integers as integers, other numbers to 2 decimal places."""
    if _is_missing(value):
        return {"text": MISSING_TEXT, "numeric": False, "missing": True}
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return {"text": str(int(value)), "numeric": True, "missing": False}
    if _is_number(value):
        return {"text": f"{float(value):.2f}", "numeric": True, "missing": False}
    return {"text": str(value), "numeric": False, "missing": False}


def table_columns(chart: Chart) -> list[dict]:
    """Column headers for the template, each {"text", "numeric"}: numeric when every value in it is a number."""
    return chart.columns


def table_rows(chart: Chart) -> list[list[dict]]:
    """The table as plain lists of cells, each {"text", "numeric", "missing"}, for templates that can't read pandas."""
    return chart.rows


def chart_csv(chart: Chart) -> str:
    """The chart's table as CSV text (the view encodes it as UTF-8). Text cells that a spreadsheet would run as a
    formula get a leading apostrophe; numbers, including negative ones, are left alone. Numbers are written as
    Python (and pandas) write them: 2.5, 3.0, 12; a missing value as an empty cell."""
    buffer = io.StringIO()
    # CRLF line ends (RFC 4180) also make the writer quote any cell holding a bare CR or LF.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([_neutralise(header) for header in chart.headers])
    writer.writerows([[_csv_cell(value) for value in row] for row in chart.values])
    return buffer.getvalue()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    return _neutralise(value) if isinstance(value, str) else str(value)


def _neutralise(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


# --- Shared helpers ------------------------------------------------------------------------------------------------


def _values(series) -> list:
    """Plain Python values for the figure and table: no numpy types, NaN as None (null in JSON, a gap in the chart)."""
    return [_plain(v) for v in (series.tolist() if isinstance(series, pd.Series) else series)]


def _figure(data: list[dict], layout: dict) -> dict:
    return {"data": data, "layout": layout}


def _empty(id: str, title: str, description: str, columns: list[str]) -> Chart:
    return Chart(id, title, description, {"data": [], "layout": {}}, pd.DataFrame(columns=columns))


def _is_blank(df: pd.DataFrame | None) -> bool:
    return df is None or df.empty


def _has(df: pd.DataFrame, column: str) -> bool:
    """A comparator column counts only when it is there and holds at least one value."""
    return column in df.columns and bool(df[column].notna().any())


def _unique(series) -> list:
    """Distinct values in order of first appearance: rows and series keep the order the caller gave."""
    return list(dict.fromkeys(_values(series)))


def _wrap(label: str, width: int = 14) -> str:
    """Break a long category label over lines (<br>), so pillar names don't need rotating."""
    words, lines, line = str(label).split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


def _axis(title: str, **extra) -> dict:
    return {
        # A standoff makes Plotly place the title clear of long tick labels and widen the margin to fit both.
        "title": {"text": title, "standoff": 12},
        "automargin": True,
        "gridcolor": NHS_PALE_GREY,
        "linecolor": NHS_MID_GREY,
        "zeroline": False,
        "fixedrange": True,  # no accidental zoom by dragging; the table has the detail
        **extra,
    }


def _score_axis(*, bars: bool = False, title: str = SCORE_TITLE) -> dict:
    return _axis(
        title,
        range=list(SCORE_BAR_RANGE if bars else SCORE_RANGE),
        tickmode="array",
        tickvals=list(SCORE_TICKS),
        zeroline=False,
    )


def _category_axis(title: str, *, top_down: bool = True, **extra) -> dict:
    # Categories on a vertical axis read top-down in the order given (Plotly's default draws the first at the bottom).
    axis = _axis(title, type="category", showgrid=False, **extra)
    if top_down:
        axis["autorange"] = "reversed"
    return axis


def _layout(*, height: int = 400, legend: bool = True, **extra) -> dict:
    return {
        "autosize": True,
        "height": height,
        "margin": {"l": 10, "r": 20, "t": 30, "b": 50, "pad": 4},
        "font": dict(FONT),
        "paper_bgcolor": "#FFFFFF",
        "plot_bgcolor": "#FFFFFF",
        # namelength -1: show series names in full in hover labels rather than cut at 15 characters.
        "hoverlabel": {"font": dict(FONT), "bgcolor": "#FFFFFF", "bordercolor": NHS_TEXT, "namelength": -1},
        "showlegend": legend,
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        "dragmode": False,
        **extra,
    }


def _rows_height(n_rows: int, per_row: int = 34, extra: int = 130, minimum: int = 300) -> int:
    """Horizontal charts grow with their rows so labels never overlap."""
    return max(minimum, n_rows * per_row + extra)


def _marker(colour: str, symbol: str = "circle", size: int = 11) -> dict:
    # A dark outline keeps light markers (orange, yellow) visible against white and against bars.
    return {"color": colour, "symbol": symbol, "size": size, "line": {"color": NHS_TEXT, "width": 1}}


def _text_or_number(value) -> str:
    return _format_cell(value)["text"]


# --- Builders ------------------------------------------------------------------------------------------------------

_PILLAR_COMPARATORS = (
    # column, table header, legend name, marker
    ("ics_mean", "ICS mean", "ICS mean", _marker(NHS_ORANGE, "diamond", 13)),
    (
        "england_median",
        "England median",
        "England median",
        {"color": NHS_TEXT, "symbol": "line-ns-open", "size": 18, "line": {"color": NHS_TEXT, "width": 3}},
    ),
    ("peer_median", "Peer median", "Peer median (bar: middle half of peers)", _marker(NHS_AQUA_GREEN, "circle", 11)),
)


def pillar_comparison(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Pillar scores against comparators",
    description: str = "This organisation's score on each pillar (bars) with its ICS, England and similar trusts.",
    org_label: str = "This organisation",
) -> Chart:
    """Columns: pillar_name, score, and optionally ics_mean, england_median, peer_median, peer_q1, peer_q3.
    Comparators that are missing or all empty are left out of the chart and the table."""
    columns = ["Pillar", org_label]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    pillars = _values(df["pillar_name"])
    scores = _values(df["score"])
    data = [
        {
            "type": "bar",
            "name": org_label,
            "x": scores,
            "y": pillars,
            "orientation": "h",
            "marker": {"color": NHS_BLUE},
            "width": 0.6,
            "hovertemplate": f"%{{y}}<br>{org_label}: %{{x:.2f}}<extra></extra>",
        }
    ]
    table = {"Pillar": pillars, org_label: scores}

    for column, header, name, marker in _PILLAR_COMPARATORS:
        if not _has(df, column):
            continue
        values = _values(df[column])
        trace = {
            "type": "scatter",
            "name": name,
            "x": values,
            "y": pillars,
            "mode": "markers",
            "marker": {**marker, "line": dict(marker["line"])},
            "hovertemplate": f"%{{y}}<br>{header}: %{{x:.2f}}<extra></extra>",
        }
        table[header] = values
        if column == "peer_median" and _has(df, "peer_q1") and _has(df, "peer_q3"):
            # The peers' interquartile range as an error bar around their median.
            median, q1, q3 = df["peer_median"], df["peer_q1"], df["peer_q3"]
            trace["error_x"] = {
                "type": "data",
                "symmetric": False,
                "array": _values(q3 - median),
                "arrayminus": _values(median - q1),
                "color": NHS_TEXT,
                "thickness": 1.5,
                "width": 6,
            }
            trace["customdata"] = [[a, b] for a, b in zip(_values(q1), _values(q3), strict=True)]
            trace["hovertemplate"] = (
                "%{y}<br>Peer median: %{x:.2f}<br>Middle half of peers: %{customdata[0]:.2f} to %{customdata[1]:.2f}"
                "<extra></extra>"
            )
            table["Peer lower quartile"] = _values(q1)
            table["Peer upper quartile"] = _values(q3)
        data.append(trace)

    layout = _layout(
        height=_rows_height(len(pillars), per_row=48),
        xaxis=_score_axis(bars=True),
        yaxis=_category_axis("Pillar"),
    )
    return Chart(id, title, description, _figure(data, layout), pd.DataFrame(table))


def trend(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Scores over time",
    description: str = "The score in each year's assessment cycle.",
    series_title: str = "Measure",
) -> Chart:
    """Columns: cycle_year, series (a pillar name or "Overall"), score. One line per series, in the order given."""
    if _is_blank(df):
        return _empty(id, title, description, [series_title])

    years = sorted(int(y) for y in df["cycle_year"].unique())
    data, rows = [], []
    for i, name in enumerate(_unique(df["series"])):
        part = df[df["series"] == name].sort_values("cycle_year")
        part_years = [int(y) for y in part["cycle_year"]]
        scores = _values(part["score"])
        data.append(
            {
                "type": "scatter",
                "name": str(name),
                "x": part_years,
                "y": scores,
                "mode": "lines+markers",
                "line": {"color": PALETTE[i % len(PALETTE)], "width": 3, "dash": DASHES[i % len(DASHES)]},
                "marker": _marker(PALETTE[i % len(PALETTE)], SYMBOLS[i % len(SYMBOLS)], 10),
                "hovertemplate": "%{fullData.name}: %{y:.2f}<extra></extra>",
            }
        )
        by_year = dict(zip(part_years, scores, strict=True))
        rows.append([name, *[by_year.get(year) for year in years]])

    layout = _layout(
        xaxis=_axis(
            "Assessment cycle",
            tickmode="array",
            tickvals=years,
            ticktext=[str(y) for y in years],
            range=[years[0] - 0.5, years[-1] + 0.5],
            showgrid=False,
        ),
        yaxis=_score_axis(),
        hovermode="x unified",
    )
    table = pd.DataFrame(rows, columns=[series_title, *[str(y) for y in years]])
    return Chart(id, title, description, _figure(data, layout), _floats(table, [str(y) for y in years]))


MET_OR_NOT = "met or not"


def _gap_title(unit: str | None) -> str:
    """The gap's axis and column title, with its unit: a level gap and a percentage-point gap never share one."""
    if unit is None:
        return "Gap to target"
    if unit == MET_OR_NOT:
        return "Target met or not"
    return f"Gap to target ({unit})"


def _yes_no(value) -> str | None:
    return None if _is_missing(value) else ("Yes" if value else "No")


def gaps(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Gaps to target",
    description: str = "How far each theme is from its target this cycle; 0 means the target is met.",
    category_title: str = "Theme",
    description_title: str = "Target",
    unit: str | None = None,
) -> Chart:
    """Columns: theme_name (a row: a theme, a target, or an organisation), description (shown under
    `description_title`), measured, target, gap (0 when the target is met); optionally met (True/False, shown as
    Yes/No) and england_share_met (the share of England's returns meeting the target, as a percentage).

    Every row is in one `unit` ("levels", "percentage points"…), named on the axis and in the gap's column, so gaps
    in different units are never drawn on one axis: give each unit its own chart. MET_OR_NOT is for targets that
    are met or not (one of a list of values): the axis then reads Met / Not met rather than a size."""
    gap_title = _gap_title(unit)
    columns = [category_title, description_title, "Measured", "Target value"]
    columns.append("Target met" if unit == MET_OR_NOT else gap_title)
    if _is_blank(df):
        return _empty(id, title, description, columns)

    themes = _values(df["theme_name"])
    gap_values = _values(df["gap"])
    if unit == MET_OR_NOT:
        labels = [MISSING_TEXT if g is None else ("Target met" if g <= 0 else "Not met") for g in gap_values]
    else:
        labels = [MISSING_TEXT if g is None else ("Target met" if g <= 0 else f"{g:.2f}") for g in gap_values]
    customdata = [
        [str(target_text), _text_or_number(measured), _text_or_number(target)]
        for target_text, measured, target in zip(df["description"], df["measured"], df["target"], strict=True)
    ]
    data = [
        {
            "type": "bar",
            "name": gap_title,
            "x": gap_values,
            "y": themes,
            "orientation": "h",
            "marker": {"color": NHS_BLUE},
            "width": 0.6,
            "text": labels,
            "textposition": "outside",
            "cliponaxis": False,
            "customdata": customdata,
            "hovertemplate": (
                f"%{{y}}<br>{description_title}: %{{customdata[0]}}<br>Measured: %{{customdata[1]}}"
                "<br>Target value: %{customdata[2]}<br>Gap: %{text}<extra></extra>"
            ),
        }
    ]
    if unit == MET_OR_NOT:
        xaxis = _axis(gap_title, range=[0, 1.3], tickmode="array", tickvals=[0, 1], ticktext=["Met", "Not met"])
    else:
        within = f"{unit}; 0 = target met" if unit else "0 = target met"
        xaxis = _axis(f"Gap to target ({within})", rangemode="tozero")
    layout = _layout(
        height=_rows_height(len(themes), per_row=48),
        legend=False,
        xaxis=xaxis,
        yaxis=_category_axis(category_title),
    )
    table = {
        category_title: themes,
        description_title: _values(df["description"]),
        "Measured": _values(df["measured"]),
        "Target value": _values(df["target"]),
    }
    if unit == MET_OR_NOT:
        # The gap of such a target is only 0 or 1: the table says it in words.
        met = _values(df["met"]) if "met" in df.columns else [None if g is None else g <= 0 for g in gap_values]
        table["Target met"] = [_yes_no(value) for value in met]
    else:
        table[gap_title] = gap_values
        if "met" in df.columns:
            table["Target met"] = [_yes_no(value) for value in _values(df["met"])]
    if _has(df, "england_share_met"):
        table["England: share of returns meeting it (%)"] = _values(df["england_share_met"])
    return Chart(id, title, description, _figure(data, layout), pd.DataFrame(table))


def gap_targets(
    id: str,
    df: pd.DataFrame,
    *,
    counted: str = "trusts",
    title: str = "Share meeting each target",
    description: str = "For each target, the share meeting it and, of those missing it, the mean gap in its unit.",
) -> Chart:
    """Columns: target (its name), goal (the target value in words), unit (the gap's unit, or MET_OR_NOT),
    with_value, meeting, missing (counts of `counted`: "trusts", or "returns" where only aggregates over returns
    may be shown), share_meeting (a percentage) and mean_gap (the mean, over those missing it, of their gap: for
    trusts each trust's largest; empty for targets met or not).

    The chart draws only the shares, one unit (%) for every target whatever the unit of its gap; the gaps, each in
    its own unit, are in the table and in each target's own chart."""
    noun = counted.capitalize()
    share_title = f"Share of {counted} meeting it (%)"
    columns = [
        "Target",
        "Target value",
        "Unit of the gap",
        f"{noun} with a value",
        f"{noun} meeting it",
        share_title,
        f"{noun} missing it",
        f"Mean gap of {counted} missing it",
    ]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    targets = _values(df["target"])
    shares = _values(df["share_meeting"])
    meeting, with_value = _values(df["meeting"]), _values(df["with_value"])
    data = [
        {
            "type": "bar",
            "name": share_title,
            "x": shares,
            "y": targets,
            "orientation": "h",
            "marker": {"color": NHS_BLUE},
            "width": 0.6,
            "text": [f"{m} of {n}" for m, n in zip(meeting, with_value, strict=True)],
            "textposition": "outside",
            "cliponaxis": False,
            "hovertemplate": f"%{{y}}<br>{share_title}: %{{x:.0f}}<br>%{{text}} {counted}<extra></extra>",
        }
    ]
    layout = _layout(
        height=_rows_height(len(targets), per_row=48),
        legend=False,
        xaxis=_axis(share_title, range=[0, 110], tickmode="array", tickvals=[0, 25, 50, 75, 100]),
        yaxis=_category_axis("Target"),
    )
    table = pd.DataFrame(
        {
            "Target": targets,
            "Target value": _values(df["goal"]),
            "Unit of the gap": ["none: met or not" if u == MET_OR_NOT else u for u in _values(df["unit"])],
            f"{noun} with a value": pd.array(with_value, dtype="Int64"),
            f"{noun} meeting it": pd.array(meeting, dtype="Int64"),
            share_title: shares,
            f"{noun} missing it": pd.array(_values(df["missing"]), dtype="Int64"),
            f"Mean gap of {counted} missing it": _values(df["mean_gap"]),
        }
    )
    return Chart(id, title, description, _figure(data, layout), table)


def gap_below(
    id: str,
    df: pd.DataFrame,
    *,
    unit: str,
    title: str = "Trusts below target",
    description: str = "Each trust that misses this target, and by how much: its largest gap over its care settings.",
) -> Chart:
    """Columns: org_name, ods_code, settings (the care settings below target, in words), measured (the worst
    return's), goal (the target value in words), gap (the trust's largest gap, in `unit`; for a target met or
    not, MET_OR_NOT, the number of its care settings missing it). Largest gap first, then by name."""
    size_title = "Care settings missing it" if unit == MET_OR_NOT else f"Largest gap to target ({unit})"
    columns = ["Trust", "ODS code", "Care settings below target", "Measured", "Target value", size_title]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    df = df.sort_values(["gap", "org_name"], ascending=[False, True], kind="stable")
    names, sizes = _values(df["org_name"]), _values(df["gap"])
    data = [
        {
            "type": "bar",
            "name": size_title,
            "x": sizes,
            "y": names,
            "orientation": "h",
            "marker": {"color": NHS_BLUE},
            "width": 0.6,
            "text": [_text_or_number(size) for size in sizes],
            "textposition": "outside",
            "cliponaxis": False,
            "customdata": [[str(s), _text_or_number(m)] for s, m in zip(df["settings"], df["measured"], strict=True)],
            "hovertemplate": (
                f"%{{y}}<br>Below target: %{{customdata[0]}}<br>Measured: %{{customdata[1]}}<br>{size_title}: %{{x}}"
                "<extra></extra>"
            ),
        }
    ]
    extra = {"tickformat": "d", "dtick": 1} if unit == MET_OR_NOT else {}
    layout = _layout(
        height=_rows_height(len(names), per_row=40),
        legend=False,
        xaxis=_axis(size_title, rangemode="tozero", **extra),
        yaxis=_category_axis("Trust"),
    )
    table = pd.DataFrame(
        {
            "Trust": names,
            "ODS code": _values(df["ods_code"]),
            "Care settings below target": _values(df["settings"]),
            "Measured": _values(df["measured"]),
            "Target value": _values(df["goal"]),
            size_title: pd.array(sizes, dtype="Int64") if unit == MET_OR_NOT else sizes,
        }
    )
    return Chart(id, title, description, _figure(data, layout), table)


def indicator_comparison(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Contextual indicators against England",
    description: str = "This organisation's value for each indicator (bars) with the England median (marks).",
    org_label: str = "This organisation",
) -> Chart:
    """Columns: indicator_name, value, england_median, unit. Units differ, so each label carries its unit."""
    columns = ["Indicator", org_label, "England median", "Unit"]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    units = ["" if _is_missing(u) else str(u) for u in df["unit"]] if "unit" in df.columns else [""] * len(df)
    labels = [f"{name} ({unit})" if unit else str(name) for name, unit in zip(df["indicator_name"], units, strict=True)]
    values = _values(df["value"])
    data = [
        {
            "type": "bar",
            "name": org_label,
            "x": values,
            "y": labels,
            "orientation": "h",
            "marker": {"color": NHS_BLUE},
            "width": 0.6,
            "hovertemplate": f"%{{y}}<br>{org_label}: %{{x:.2f}}<extra></extra>",
        }
    ]
    table = {"Indicator": _values(df["indicator_name"]), org_label: values}
    if _has(df, "england_median"):
        medians = _values(df["england_median"])
        data.append(
            {
                "type": "scatter",
                "name": "England median",
                "x": medians,
                "y": labels,
                "mode": "markers",
                "marker": _marker(NHS_ORANGE, "diamond", 13),
                "hovertemplate": "%{y}<br>England median: %{x:.2f}<extra></extra>",
            }
        )
        table["England median"] = medians
    table["Unit"] = units

    layout = _layout(
        height=_rows_height(len(labels), per_row=48),
        xaxis=_axis("Value (unit in each label)", rangemode="tozero"),
        yaxis=_category_axis("Indicator"),
    )
    return Chart(id, title, description, _figure(data, layout), pd.DataFrame(table))


def heatmap(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Pillar scores by organisation",
    description: str = "Each organisation's score on each pillar; darker is higher, and each cell shows its score.",
    row_title: str = "Organisation",
) -> Chart:
    """Columns: label (a row, e.g. "Trust name – Acute"), pillar_name, score. Rows and pillars in the order given;
    a missing score is an empty cell."""
    if _is_blank(df):
        return _empty(id, title, description, [row_title])

    rows, pillars = _unique(df["label"]), _unique(df["pillar_name"])
    grid = df.pivot_table(index="label", columns="pillar_name", values="score", aggfunc="first", sort=False)
    grid = grid.reindex(index=rows, columns=pillars)
    z = [_values(row) for row in grid.to_numpy().tolist()]

    data = [
        {
            "type": "heatmap",
            "z": z,
            "x": pillars,
            "y": rows,
            "zmin": 1,
            "zmax": 5,
            "colorscale": [list(stop) for stop in SEQUENTIAL_BLUES],
            "xgap": 2,
            "ygap": 2,
            "hoverongaps": False,
            "texttemplate": "%{z:.2f}",
            "hovertemplate": "%{y}<br>%{x}: %{z:.2f}<extra></extra>",
            "colorbar": {
                "title": {"text": "Score"},
                "tickvals": list(SCORE_TICKS),
                "thickness": 14,
                "outlinewidth": 0,
            },
        }
    ]
    layout = _layout(
        height=_rows_height(len(rows), per_row=44, extra=160),
        legend=False,
        xaxis=_category_axis(
            "Pillar",
            top_down=False,
            side="top",
            tickangle=0,
            tickmode="array",
            tickvals=pillars,
            ticktext=[_wrap(p, 10) for p in pillars],
            tickfont={"size": 12},
        ),
        # Long row labels ("Trust name – Care setting") wrap rather than squeeze the cells.
        yaxis=_category_axis(row_title, tickmode="array", tickvals=rows, ticktext=[_wrap(r, 34) for r in rows]),
    )
    # The pillar axis is at the top: room for its wrapped labels there, nothing needed below the cells.
    layout["margin"].update({"t": 90, "b": 10})
    table = grid.reset_index(names=row_title)
    table.columns = [row_title, *[str(p) for p in pillars]]
    return Chart(id, title, description, _figure(data, layout), _floats(table, table.columns[1:]))


_DISTRIBUTION_STATS = (
    # column, table header
    ("n", "Assessments"),
    ("p10", "10th percentile"),
    ("q1", "Lower quartile"),
    ("median", "Median"),
    ("q3", "Upper quartile"),
    ("p90", "90th percentile"),
    ("mean", "Mean"),
)


def distribution(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Spread of pillar scores",
    description: str = (
        "How scores spread on each pillar: the box is the middle half of assessments, the line the median, "
        "the dashed line the mean and the whiskers the 10th to 90th percentiles."
    ),
) -> Chart:
    """Columns: pillar_name, group (e.g. "Greater Manchester", "England"), n, p10, q1, median, q3, p90, mean — box
    plots from precomputed statistics, one colour per group, pillars top-down in the order given."""
    columns = ["Pillar", "Group", *[header for _, header in _DISTRIBUTION_STATS]]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    pillars = _unique(df["pillar_name"])
    data = []
    for i, group in enumerate(_unique(df["group"])):
        part = df[df["group"] == group]
        colour = PALETTE[i % len(PALETTE)]
        data.append(
            {
                "type": "box",
                "name": str(group),
                "y": _values(part["pillar_name"]),
                "orientation": "h",
                "q1": _values(part["q1"]),
                "median": _values(part["median"]),
                "q3": _values(part["q3"]),
                "lowerfence": _values(part["p10"]),
                "upperfence": _values(part["p90"]),
                "mean": _values(part["mean"]),
                "boxmean": True,
                "boxpoints": False,
                "line": {"color": colour, "width": 2},
                "fillcolor": _translucent(colour),
                # The hover labels say "10th percentile" etc. through the locale strings that charts.js registers.
                "hoverinfo": "x+name",
                "xhoverformat": ".2f",
            }
        )
    layout = _layout(
        height=_rows_height(len(pillars), per_row=70),
        boxmode="group",
        xaxis=_score_axis(),
        yaxis=_category_axis("Pillar", categoryorder="array", categoryarray=pillars),
    )
    table = pd.DataFrame(
        {
            "Pillar": _values(df["pillar_name"]),
            "Group": _values(df["group"]),
            **{header: _values(df[column]) for column, header in _DISTRIBUTION_STATS},
        }
    )
    table["Assessments"] = table["Assessments"].astype("Int64")
    return Chart(id, title, description, _figure(data, layout), table)


def _translucent(colour: str, alpha: float = 0.35) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


def ranked(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Mean score, highest first",
    description: str = "Each area's mean score (dot) and the middle half of its assessments (line), highest first.",
    name_title: str = "Name",
    highlight: str | None = None,
) -> Chart:
    """Columns: name, mean, q1, q3, n. Sorted by mean, highest at the top; `highlight` marks one name in orange."""
    columns = [name_title, "Mean score", "Lower quartile", "Upper quartile", "Assessments"]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    df = df.sort_values("mean", ascending=False, kind="stable")
    names, mean, q1, q3 = _values(df["name"]), df["mean"], df["q1"], df["q3"]
    colours = [NHS_ORANGE if name == highlight else NHS_BLUE for name in names]
    symbols = ["diamond" if name == highlight else "circle" for name in names]
    data = [
        {
            "type": "scatter",
            "name": "Mean score",
            "x": _values(mean),
            "y": names,
            "mode": "markers",
            "marker": {**_marker(NHS_BLUE, size=11), "color": colours, "symbol": symbols},
            "error_x": {
                "type": "data",
                "symmetric": False,
                "array": _values(q3 - mean),
                "arrayminus": _values(mean - q1),
                "color": NHS_DARK_GREY,
                "thickness": 2,
                "width": 0,
            },
            "customdata": [list(row) for row in zip(_values(q1), _values(q3), _values(df["n"]), strict=True)],
            "hovertemplate": (
                "%{y}<br>Mean: %{x:.2f}<br>Middle half: %{customdata[0]:.2f} to %{customdata[1]:.2f}"
                "<br>Assessments: %{customdata[2]}<extra></extra>"
            ),
        }
    ]
    layout = _layout(
        height=_rows_height(len(names), per_row=26),
        legend=False,
        xaxis=_score_axis(title="Mean score (level 1 to 5)"),
        yaxis=_category_axis(name_title),
    )
    table = pd.DataFrame(
        {
            name_title: names,
            "Mean score": _values(mean),
            "Lower quartile": _values(q1),
            "Upper quartile": _values(q3),
            "Assessments": pd.array(_values(df["n"]), dtype="Int64"),
        }
    )
    return Chart(id, title, description, _figure(data, layout), table)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def deciles(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Deciles of pillar scores",
    description: str = (
        "For each pillar, the score below which 10%, 20% … 90% of assessments fall; a higher line is a stronger pillar."
    ),
) -> Chart:
    """Columns: pillar_name, decile (10..90), value. One line per pillar across the deciles: a pillar's line shows
    its whole spread at once and the lines compare pillars, which small multiples would make harder."""
    if _is_blank(df):
        return _empty(id, title, description, ["Pillar"])

    points = sorted(int(d) for d in df["decile"].unique())
    data, rows = [], []
    for i, pillar in enumerate(_unique(df["pillar_name"])):
        part = df[df["pillar_name"] == pillar].sort_values("decile")
        colour = PALETTE[i % len(PALETTE)]
        part_deciles = [int(d) for d in part["decile"]]
        values = _values(part["value"])
        data.append(
            {
                "type": "scatter",
                "name": str(pillar),
                "x": part_deciles,
                "y": values,
                "mode": "lines+markers",
                "line": {"color": colour, "width": 2.5, "dash": DASHES[i % len(DASHES)]},
                "marker": _marker(colour, SYMBOLS[i % len(SYMBOLS)], 9),
                "hovertemplate": "%{fullData.name}: %{y:.2f}<extra></extra>",
            }
        )
        by_decile = dict(zip(part_deciles, values, strict=True))
        rows.append([pillar, *[by_decile.get(d) for d in points]])

    headers = [f"{_ordinal(d)} percentile" for d in points]
    layout = _layout(
        height=460,
        xaxis=_axis(
            "Percentile of assessments",
            tickmode="array",
            tickvals=points,
            ticktext=[_ordinal(d) for d in points],
            range=[points[0] - 5, points[-1] + 5],
            showgrid=False,
        ),
        yaxis=_score_axis(),
        hovermode="x unified",
    )
    table = pd.DataFrame(rows, columns=["Pillar", *headers])
    return Chart(id, title, description, _figure(data, layout), _floats(table, headers))


def stacked_counts(
    id: str,
    df: pd.DataFrame,
    *,
    category_order: list[str],
    title: str = "Counts by status",
    description: str = "How many in each area are in each status.",
    group_title: str = "Area",
    count_title: str = "Number",
    colours: dict[str, str] | None = None,
) -> Chart:
    """Columns: group (a row, e.g. an area), category (e.g. a DSPT or assessment status), count. Categories stack in
    `category_order`, each with a fixed colour (its position in the order picks it from PALETTE unless `colours`
    names one), so the same status has the same colour on every chart. Categories not in the order come last."""
    if _is_blank(df):
        return _empty(id, title, description, [group_title, *category_order])

    present = set(_values(df["category"]))
    extra = sorted(present - set(category_order), key=str)
    order = [c for c in category_order if c in present] + extra
    all_categories = list(category_order) + extra
    groups = _unique(df["group"])
    counts = (
        df.pivot_table(index="group", columns="category", values="count", aggfunc="sum", sort=False)
        .reindex(index=groups, columns=order)
        .fillna(0)
        .astype(int)
    )

    data = []
    for category in order:
        colour = (colours or {}).get(category) or PALETTE[all_categories.index(category) % len(PALETTE)]
        values = [int(v) for v in counts[category].tolist()]
        data.append(
            {
                "type": "bar",
                "name": str(category),
                "x": values,
                "y": groups,
                "orientation": "h",
                "marker": {"color": colour, "line": {"color": "#FFFFFF", "width": 1}},
                "text": [str(v) if v else "" for v in values],
                "textposition": "inside",
                "insidetextanchor": "middle",
                "hovertemplate": "%{y}<br>%{fullData.name}: %{x}<extra></extra>",
            }
        )
    layout = _layout(
        height=_rows_height(len(groups), per_row=36),
        barmode="stack",
        uniformtext={"minsize": 11, "mode": "hide"},
        xaxis=_axis(count_title, rangemode="tozero"),
        yaxis=_category_axis(group_title),
    )
    # Plotly lists a stack's legend backwards by default; keep the order the caller gave.
    layout["legend"]["traceorder"] = "normal"
    table = counts.reset_index(names=group_title)
    table.columns = [group_title, *[str(c) for c in order]]
    return Chart(id, title, description, _figure(data, layout), table)


def _nice_bin_size(span: float, target_bins: int = 10) -> float:
    """A round bin width (1, 2, 2.5 or 5 × a power of ten) giving about `target_bins` bins over `span`."""
    if span <= 0:
        return 1.0
    raw = span / target_bins
    power = 10 ** math.floor(math.log10(raw))
    return next(step * power for step in (1, 2, 2.5, 5, 10) if step * power >= raw)


def histogram(
    id: str,
    df: pd.DataFrame,
    *,
    value_title: str,
    title: str = "Distribution",
    description: str = "How many organisations fall in each band of values.",
    label_title: str = "Name",
    count_title: str = "Number of organisations",
) -> Chart:
    """Columns: label, value. Bins of a round width starting at a multiple of it; the table lists every value,
    highest first."""
    columns = [label_title, value_title]
    if _is_blank(df) or df["value"].notna().sum() == 0:
        return _empty(id, title, description, columns)

    df = df[df["value"].notna()].sort_values("value", ascending=False, kind="stable")
    low, high = float(df["value"].min()), float(df["value"].max())
    size = _nice_bin_size(high - low)
    # Rounding drops float noise (0.30000000000000004) that would show in hover labels.
    start = round(math.floor(low / size) * size, 10)
    # One more bin than the span needs, so the maximum falls inside the last bin rather than on its open edge.
    end = round(start + size * (math.floor((high - start) / size) + 1), 10)
    values = _values(df["value"])
    data = [
        {
            "type": "histogram",
            "name": value_title,
            "x": values,
            "xbins": {"start": start, "end": end, "size": size},
            "autobinx": False,
            "marker": {"color": NHS_BLUE, "line": {"color": "#FFFFFF", "width": 1}},
            "hovertemplate": f"{value_title}: %{{x}}<br>{count_title}: %{{y}}<extra></extra>",
        }
    ]
    layout = _layout(
        legend=False,
        bargap=0.05,
        xaxis=_axis(value_title, range=[start, end]),
        yaxis=_axis(count_title, rangemode="tozero", tickformat="d"),
    )
    table = pd.DataFrame({label_title: _values(df["label"]), value_title: values})
    return Chart(id, title, description, _figure(data, layout), table)


def movers(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Biggest changes since the previous cycle",
    description: str = "Each organisation's previous score (hollow dot) and current score (filled dot), biggest rise "
    "first.",
    name_title: str = "Name",
    previous_label: str = "Previous",
    current_label: str = "Current",
) -> Chart:
    """Columns: name, previous, current, change. A dumbbell per row, sorted by change, biggest rise at the top."""
    columns = [name_title, previous_label, current_label, "Change"]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    df = df.sort_values("change", ascending=False, kind="stable")
    names, previous, current, change = (_values(df[c]) for c in ("name", "previous", "current", "change"))
    connector_x, connector_y = [], []
    for name, before, after in zip(names, previous, current, strict=True):
        connector_x += [before, after, None]
        connector_y += [name, name, None]
    customdata = [list(row) for row in zip(previous, current, change, strict=True)]
    hover = (
        f"%{{y}}<br>{previous_label}: %{{customdata[0]:.2f}}<br>{current_label}: %{{customdata[1]:.2f}}"
        "<br>Change: %{customdata[2]:+.2f}<extra></extra>"
    )
    data = [
        {
            "type": "scatter",
            "x": connector_x,
            "y": connector_y,
            "mode": "lines",
            "line": {"color": NHS_MID_GREY, "width": 3},
            "hoverinfo": "skip",
            "showlegend": False,
        },
        {
            "type": "scatter",
            "name": previous_label,
            "x": previous,
            "y": names,
            "mode": "markers",
            "marker": {
                "color": "#FFFFFF",
                "symbol": "circle",
                "size": 11,
                "line": {"color": NHS_DARK_GREY, "width": 2},
            },
            "customdata": customdata,
            "hovertemplate": hover,
        },
        {
            "type": "scatter",
            "name": current_label,
            "x": current,
            "y": names,
            "mode": "markers",
            "marker": _marker(NHS_BLUE, "circle", 12),
            "customdata": customdata,
            "hovertemplate": hover,
        },
    ]
    layout = _layout(
        height=_rows_height(len(names), per_row=30),
        xaxis=_score_axis(),
        yaxis=_category_axis(name_title),
    )
    table = pd.DataFrame({name_title: names, previous_label: previous, current_label: current, "Change": change})
    return Chart(id, title, description, _figure(data, layout), table)


def _floats(table: pd.DataFrame, columns) -> pd.DataFrame:
    """Wide tables built from rows of Python values: make score columns float (None → NaN) for CSV and formatting."""
    for column in columns:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return table
