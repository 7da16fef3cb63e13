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
text, so no chart relies on colour alone. Every text colour in a figure is set here, never left to plotly.js's
automatic choice, so that its contrast with what lies behind it (at least 4.5:1, WCAG 1.4.3) can be checked from the
figure alone (tests/reports/test_chart_contrast.py); text drawn on a coloured fill is white or dark by that fill.

Rows about an organisation carry its ODS code (a frame's optional `code` column, shown as "ODS code"), so that a
chart's CSV joins with other data; the CSV also leads with the cycle and the source when the caller gives them.
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

# One hue from dark to light for ordered categories (a status scale), its stops spaced evenly in lightness (NHS dark
# blue, NHS blue, NHS light blue, a pale blue still visible on white) so that neighbouring steps stay apart.
ORDERED_BLUES = [
    [0.0, NHS_DARK_BLUE],
    [0.35, NHS_BLUE],
    [0.7, "#41B6E6"],
    [1.0, "#C6E2F5"],
]

# Second cue besides colour for series drawn as lines or markers.
SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "star", "hexagon")
DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot", "solid", "dash")

FONT = {"family": '"Frutiger W01", Arial, sans-serif', "size": 14, "color": NHS_TEXT}

SCORE_TITLE = "Score (level 1 to 5)"
SCORE_TICKS = [1, 2, 3, 4, 5]
# Scores are levels 1 to 5 with no zero, so they are drawn as positions (dots) on a 1-5 axis, never as bars from 0
# whose length would mean nothing. Markers at level 1 or 5 would be cut in half on a range of exactly [1, 5].
SCORE_RANGE = [0.75, 5.25]

MISSING_TEXT = "No data"
ODS_CODE = "ODS code"
# WCAG 2.2 AA for text (1.4.3): what every text colour in a figure keeps against what lies behind it.
MIN_TEXT_CONTRAST = 4.5
WHITE = "#FFFFFF"
BLACK = "#000000"

# Where a chart's data comes from, as its CSV says it (the "Source" column).
SOURCE_PUBLISHED = "NHS England published"
SOURCE_APPROVED = "Entered here (approved)"
SOURCE_PROVISIONAL = "Entered here (provisional)"
# An aggregate over returns entered here counts submitted (provisional) and approved returns alike.
SOURCE_ENTERED = "Entered here (submitted and approved returns; submitted ones are provisional)"

_CHART_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Spreadsheet programs run a cell starting with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

TABLE_TEMPLATE = "reports/_chart_table.html"


# --- Chart ---------------------------------------------------------------------------------------------------------


class Chart:
    """A chart ready for the page, holding only plain Python data (it is cached with its dashboard):

    - `figure`: the plotly.js figure, {"data": [traces], "layout": {...}}, JSON-ready;
    - `headers` and `values`: the table of the plotted data, values as plain Python (missing as None), for CSV;
    - `columns` and `rows`: the same table formatted for people, each header {"text", "numeric", "unit"} and each
      cell {"text", "numeric", "missing"}; a column's unit (`units`, e.g. {"Devices (%)": "%"}) follows its numbers;
    - `table_html`: that table rendered once by reports/_chart_table.html, and `figure_script`: the figure as the
      json_script tag that charts.js reads; the chart include (reports/_chart.html) places both as they are;
    - `long_categories`: True for charts whose categories are rows of names (trusts, ICSs, pillars, targets), which
      the page replaces by their table on narrow screens, where the names would leave no room to plot.

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
        "long_categories",
    )

    def __init__(
        self,
        id: str,
        title: str,
        description: str,
        figure: dict,
        table: pd.DataFrame,
        *,
        long_categories: bool = False,
        units: dict[str, str] | None = None,
    ):
        # The id becomes HTML ids (chart-<id>, chart-<id>-data) and part of URLs.
        if not _CHART_ID.match(id):
            raise ValueError(f"chart id {id!r} must be lower-case letters, digits, '-' or '_'")
        headers = [str(name) for name in table.columns]
        column_units = [(units or {}).get(header, "") for header in headers]
        columns = [_plain_column(table.iloc[:, i]) for i in range(table.shape[1])]
        values = [list(row) for row in zip(*columns, strict=True)] if columns else []
        rows = [[_format_cell(value, unit) for value, unit in zip(row, column_units, strict=True)] for row in values]
        state = {
            "id": id,
            "title": title,
            "description": description,
            "figure": figure,
            "headers": headers,
            "values": values,
            "columns": [
                {"text": header, "numeric": _all_numbers(column), "unit": unit}
                for header, column, unit in zip(headers, columns, column_units, strict=True)
            ],
            "rows": rows,
            "table_html": "",
            "figure_script": "",
            "long_categories": bool(long_categories),
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
        # A chart is only ever read back by the code that cached it: cache keys carry a digest of this module
        # (reports.dashboards.sections.CODE_TOKEN).
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


def _number_text(value) -> str | None:
    """A number as the table shows it (integers as integers, other numbers to 2 decimal places, yes/no for a
    flag), or None for a value that is not a number or flag. The CSV writes exactly this, so both agree. Takes the
    table's plain Python values (no numpy: a cached chart exports without it)."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.2f}"
    return None


def _format_cell(value, unit: str = "") -> dict:
    """One table cell for the template: a number as `_number_text` gives it, followed by its column's unit."""
    if _is_missing(value):
        return {"text": MISSING_TEXT, "numeric": False, "missing": True}
    text = _number_text(value)
    if text is None:
        return {"text": str(value), "numeric": False, "missing": False}
    numeric = not isinstance(value, bool)
    return {"text": f"{text}{unit}" if numeric else text, "numeric": numeric, "missing": False}


def table_columns(chart: Chart) -> list[dict]:
    """Column headers for the template, each {"text", "numeric", "unit"}: numeric when every value is a number."""
    return chart.columns


def table_rows(chart: Chart) -> list[list[dict]]:
    """The table as plain lists of cells, each {"text", "numeric", "missing"}, for templates that can't read pandas."""
    return chart.rows


def chart_csv(chart: Chart, *, cycle: int | None = None, published: bool | None = None) -> str:
    """The chart's table as CSV text (the view encodes it as UTF-8), with a "Cycle" and a "Source" column on every
    row when they are given and the table has none of its own (a trend's rows are cycles, each with its source).
    The source is NHS England's published results for a `published` cycle, else the returns entered here. They
    come last, after the table's columns, so that a reader of the table's columns by position still finds them.

    Numbers are rounded exactly as the table shows them (to 2 decimal places; integers as they are) and written
    without their unit or trailing zeros (2.5, 12), so they stay plain numbers in a spreadsheet; flags as Yes or No;
    a missing value as an empty cell. Text cells that a spreadsheet would run as a formula get a leading
    apostrophe; numbers, including negative ones, are left alone."""
    source = None if published is None else (SOURCE_PUBLISHED if published else SOURCE_ENTERED)
    trailing = [
        (header, value)
        for header, value in (("Cycle", cycle), ("Source", source))
        if value is not None and header not in chart.headers
    ]
    buffer = io.StringIO()
    # CRLF line ends (RFC 4180) also make the writer quote any cell holding a bare CR or LF.
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([_neutralise(header) for header in [*chart.headers, *(h for h, _ in trailing)]])
    tail = [_csv_cell(value) for _, value in trailing]
    writer.writerows([[*(_csv_cell(value) for value in row), *tail] for row in chart.values])
    return buffer.getvalue()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return _neutralise(value)
    if isinstance(value, float):
        # round() to the table's 2 places; repr gives the shortest text for that, free of float noise.
        return repr(round(value, 2) + 0.0)  # + 0.0: no "-0.0" for a value that rounds to zero
    return _number_text(value) or str(value)


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


def _score_axis(*, title: str = SCORE_TITLE) -> dict:
    return _axis(title, range=list(SCORE_RANGE), tickmode="array", tickvals=list(SCORE_TICKS), zeroline=False)


def _category_axis(title: str, *, top_down: bool = True, **extra) -> dict:
    # Categories on a vertical axis read top-down in the order given (Plotly's default draws the first at the bottom).
    axis = _axis(title, type="category", showgrid=False, **extra)
    if top_down:
        axis["autorange"] = "reversed"
    return axis


# Long names wrap at this many characters: about 360 px of margin at 14 px, which leaves the plot most of the page's
# column at 1280 px; automargin then fits the wrapped names whole. Every ICS name fits on one line; "Trust –
# Care setting" labels take two.
LABEL_WIDTH = 52


def _label_axis(title: str, labels: list, **extra) -> dict:
    """A top-down category axis of long names, each wrapped over lines at LABEL_WIDTH characters."""
    return _category_axis(
        title,
        tickmode="array",
        tickvals=list(labels),
        ticktext=[_wrap(label, LABEL_WIDTH) for label in labels],
        **extra,
    )


def _labels_height(labels: list, per_row: int, extra: int = 130, minimum: int = 300) -> int:
    """The height for one row per label. Category rows are evenly spaced, so each row is as tall as the label with
    the most wrapped lines needs, and no two labels overlap."""
    lines = max((_wrap(label, LABEL_WIDTH).count("<br>") + 1 for label in labels), default=1)
    return _rows_height(len(labels), per_row=max(per_row, 18 * lines + 10), extra=extra, minimum=minimum)


def _with_code(table: pd.DataFrame, codes) -> pd.DataFrame:
    """The table with an "ODS code" column, for joining its CSV with other data. Last, so that the columns people
    read first (and readers of earlier CSVs) keep their places. `codes` are one per table row, or None when the
    frame gave none (the table is left as it is)."""
    if codes is None:
        return table
    table[ODS_CODE] = [None if _is_missing(code) else str(code) for code in codes]
    return table


def _codes(df: pd.DataFrame):
    """The frame's optional `code` column (ODS codes) as plain values, or None when it has none."""
    return _values(df["code"]) if "code" in df.columns else None


# --- Colour and contrast -------------------------------------------------------------------------------------------


def _rgb(colour: str) -> tuple[float, float, float]:
    """'#RRGGBB' or 'rgb(r,g,b)' / 'rgba(r,g,b,a)' as (r, g, b) in 0..255 (alpha is not needed: text never sits
    on a translucent fill here)."""
    colour = colour.strip()
    if colour.startswith("#"):
        return tuple(float(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    parts = colour[colour.index("(") + 1 : colour.index(")")].split(",")
    return tuple(float(part) for part in parts[:3])


def _hex(rgb) -> str:
    return "#" + "".join(f"{round(channel):02X}" for channel in rgb)


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""
    linear = [c / 255 for c in _rgb(colour)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in linear]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(background: str) -> str:
    """Dark NHS text or white, whichever reads better on `background`; black where neither reaches 4.5:1 (a
    mid-tone fill: between white and black text one always does, at 4.58:1 or more)."""
    best = max((NHS_TEXT, WHITE), key=lambda colour: contrast_ratio(colour, background))
    return best if contrast_ratio(best, background) >= MIN_TEXT_CONTRAST else BLACK


def colour_at(scale: list, fraction: float) -> str:
    """The colour at `fraction` (0..1) of a colourscale [[position, colour], ...], interpolated channel by channel
    in RGB as plotly.js does, so text drawn on a heatmap cell can be chosen for the colour the cell is drawn in."""
    fraction = min(1.0, max(0.0, fraction))
    for (low, low_colour), (high, high_colour) in zip(scale, scale[1:], strict=False):
        if fraction <= high:
            share = 0.0 if high == low else (fraction - low) / (high - low)
            return _hex(a + (b - a) * share for a, b in zip(_rgb(low_colour), _rgb(high_colour), strict=True))
    return _hex(_rgb(scale[-1][1]))


def ordered_colours(count: int) -> list[str]:
    """`count` shades of blue along ORDERED_BLUES, darkest first, for categories with an order (a status scale): one
    hue, so the order reads as lightness and survives colour-vision deficiencies."""
    if count == 1:
        return [NHS_BLUE]
    return [colour_at(ORDERED_BLUES, i / (count - 1)) for i in range(count)]


def _layout(*, height: int = 400, legend: bool = True, **extra) -> dict:
    return {
        "autosize": True,
        "height": height,
        "margin": {"l": 10, "r": 20, "t": 30, "b": 50, "pad": 4},
        "font": dict(FONT),
        "paper_bgcolor": WHITE,
        "plot_bgcolor": WHITE,
        # namelength -1: show series names in full in hover labels rather than cut at 15 characters.
        "hoverlabel": {"font": dict(FONT), "bgcolor": WHITE, "bordercolor": NHS_TEXT, "namelength": -1},
        "showlegend": legend,
        "legend": {
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "bgcolor": WHITE,
            "font": dict(FONT),
        },
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
    ("ics_mean", "ICS mean", "ICS mean", _marker(NHS_ORANGE, "diamond", 12)),
    ("england_median", "England median", "England median", _marker(NHS_TEXT, "square", 10)),
    ("peer_median", "Peer median", "Peer median (line: middle half of peers)", _marker(NHS_AQUA_GREEN, "circle", 10)),
)

# How far apart (in rows of the pillar axis) the organisation and its comparators sit within one pillar's row.
_ROW_SPREAD = 0.72


def pillar_comparison(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Pillar scores against comparators",
    description: str = (
        "This organisation's score on each pillar (blue dot) with its ICS, England and similar trusts, each on its "
        "own line within the pillar."
    ),
    org_label: str = "This organisation",
) -> Chart:
    """Columns: pillar_name, score, and optionally code (the organisation's ODS code), ics_mean, england_median,
    peer_median, peer_q1, peer_q3. Comparators that are missing or all empty are left out of the chart and the table.

    Scores are levels 1 to 5, so every series is a dot on a 1-5 axis: a bar from 0 would give level 1 a length, and
    a bar from 1 would hide the comparators behind it. Within each pillar's row the organisation and each comparator
    sit on their own line (the pillar axis is numeric, one unit per pillar), so no marker hides another even when the
    values are equal."""
    columns = ["Pillar", org_label]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    pillars = _values(df["pillar_name"])
    series = [("score", org_label, org_label, _marker(NHS_BLUE, "circle", 13))]
    series += [entry for entry in _PILLAR_COMPARATORS if _has(df, entry[0])]
    step = _ROW_SPREAD / len(series)
    data, table = [], {"Pillar": pillars}
    for slot, (column, header, name, marker) in enumerate(series):
        values = _values(df[column])
        offset = (slot - (len(series) - 1) / 2) * step
        trace = {
            "type": "scatter",
            "name": name,
            "x": values,
            "y": [row + offset for row in range(len(pillars))],
            "text": pillars,
            "mode": "markers",
            "marker": {**marker, "line": dict(marker["line"])},
            "hovertemplate": f"%{{text}}<br>{header}: %{{x:.2f}}<extra></extra>",
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
                "width": 4,
            }
            trace["customdata"] = [[a, b] for a, b in zip(_values(q1), _values(q3), strict=True)]
            trace["hovertemplate"] = (
                "%{text}<br>Peer median: %{x:.2f}<br>Middle half of peers: %{customdata[0]:.2f} to "
                "%{customdata[1]:.2f}<extra></extra>"
            )
            table["Peer lower quartile"] = _values(q1)
            table["Peer upper quartile"] = _values(q3)
        data.append(trace)

    layout = _layout(
        height=_rows_height(len(pillars), per_row=22 + 14 * len(series)),
        xaxis=_score_axis(),
        yaxis=_axis(
            "Pillar",
            tickmode="array",
            tickvals=list(range(len(pillars))),
            ticktext=pillars,
            # Reversed: the first pillar at the top, as on the category axes elsewhere.
            range=[len(pillars) - 0.5, -0.5],
            showgrid=False,
        ),
        # A rule between pillars, so that each pillar's lines read as one group.
        shapes=[
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": row + 0.5,
                "y1": row + 0.5,
                "line": {"color": NHS_PALE_GREY, "width": 1},
            }
            for row in range(len(pillars) - 1)
        ],
    )
    layout["legend"]["traceorder"] = "normal"
    return Chart(
        id, title, description, _figure(data, layout), _with_code(pd.DataFrame(table), _codes(df)), long_categories=True
    )


def trend(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Scores over time",
    description: str = "The score in each year's assessment cycle.",
) -> Chart:
    """Columns: cycle_year, series (a pillar name or "Overall"), score, and optionally run (the name of the run of
    comparable cycles that the cycle belongs to, e.g. "NHS England's published scores"), source (where the cycle's
    score comes from) and code (the organisation's ODS code). One line per series, in the order given.

    A line joins only cycles of the same run: scores of different frameworks are not comparable, so a line between
    them would draw a change that did not happen. Each run is labelled above its cycles and a dotted rule separates
    runs. The table has a row per cycle, with its source."""
    if _is_blank(df):
        return _empty(id, title, description, ["Cycle"])

    years = sorted(int(y) for y in df["cycle_year"].unique())
    by_year = df.drop_duplicates("cycle_year").set_index("cycle_year")
    run_of = {year: _plain(by_year.at[year, "run"]) if "run" in df.columns else None for year in years}
    data = []
    table = {"Cycle": years}
    if "source" in df.columns:
        table["Source"] = [_plain(by_year.at[year, "source"]) for year in years]
    for i, name in enumerate(_unique(df["series"])):
        part = df[df["series"] == name].sort_values("cycle_year")
        scores = dict(zip((int(y) for y in part["cycle_year"]), _values(part["score"]), strict=True))
        x, y, previous = [], [], None
        for year in sorted(scores):
            if previous is not None and run_of[year] != run_of[previous]:
                x.append(None)  # a null point breaks the line between runs
                y.append(None)
            x.append(year)
            y.append(scores[year])
            previous = year
        colour = PALETTE[i % len(PALETTE)]
        data.append(
            {
                "type": "scatter",
                "name": str(name),
                "x": x,
                "y": y,
                "mode": "lines+markers",
                "connectgaps": False,
                "line": {"color": colour, "width": 3, "dash": DASHES[i % len(DASHES)]},
                "marker": _marker(colour, SYMBOLS[i % len(SYMBOLS)], 10),
                "hovertemplate": "%{fullData.name}: %{y:.2f}<extra></extra>",
            }
        )
        table[str(name)] = [scores.get(year) for year in years]

    runs = _runs(years, run_of)
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
    if len(runs) > 1:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "x",
                "x0": (before[-1] + after[0]) / 2,
                "x1": (before[-1] + after[0]) / 2,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": NHS_DARK_GREY, "width": 1.5, "dash": "dot"},
            }
            for (_, before), (_, after) in zip(runs, runs[1:], strict=False)
        ]
        layout["annotations"] = [
            {
                "text": _wrap(label, 24),
                "xref": "x",
                "x": (run_years[0] + run_years[-1]) / 2,
                "yref": "paper",
                "y": 1,
                "yanchor": "top",
                "showarrow": False,
                "bgcolor": WHITE,
                "font": {**FONT, "size": 12},
            }
            for label, run_years in runs
            if label
        ]
    table = pd.DataFrame(table)
    chart_table = _with_code(table, [_plain(df["code"].iloc[0])] * len(years) if "code" in df.columns else None)
    return Chart(
        id, title, description, _figure(data, layout), _floats(chart_table, [str(s) for s in _unique(df["series"])])
    )


def _runs(years: list[int], run_of: dict) -> list[tuple[str | None, list[int]]]:
    """Consecutive cycles of the same run, in order: [(run name, [years])]."""
    runs: list[tuple[str | None, list[int]]] = []
    for year in years:
        if runs and runs[-1][0] == run_of[year]:
            runs[-1][1].append(year)
        else:
            runs.append((run_of[year], [year]))
    return runs


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
    return Chart(id, title, description, _figure(data, layout), pd.DataFrame(table), long_categories=True)


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
    return Chart(id, title, description, _figure(data, layout), table, long_categories=True)


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
    return Chart(id, title, description, _figure(data, layout), table, long_categories=True)


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
    return Chart(id, title, description, _figure(data, layout), pd.DataFrame(table), long_categories=True)


def heatmap(
    id: str,
    df: pd.DataFrame,
    *,
    references: pd.DataFrame | None = None,
    title: str = "Pillar scores by organisation",
    description: str = "Each organisation's score on each pillar; darker is higher, and each cell shows its score.",
    row_title: str = "Organisation",
) -> Chart:
    """Columns: label (a row, e.g. "Trust name – Acute"), pillar_name, score, and optionally code (the row's ODS
    code). Rows and pillars in the order given; a missing score is an empty cell. `references` (same columns, e.g.
    "England mean", "Greater Manchester mean") are rows to read the others against: drawn last, in bold, below a
    rule. The table lists the organisations only, one row each, as their CSV is joined on them; a reference row's
    values belong in a table of its own (the caller's spread chart).

    Each cell's score is written in it by a text trace over the heatmap, white or dark by the colour of that cell
    (plotly.js's own heatmap text takes one colour, which some cells of a blue scale would not carry)."""
    if _is_blank(df):
        return _empty(id, title, description, [row_title])

    references = references if not _is_blank(references) else df.iloc[0:0]
    both = pd.concat([df, references], ignore_index=True)
    organisations, reference_rows = _unique(df["label"]), _unique(references["label"])
    rows, pillars = organisations + reference_rows, _unique(both["pillar_name"])
    grid = both.pivot_table(index="label", columns="pillar_name", values="score", aggfunc="first", sort=False)
    grid = grid.reindex(index=rows, columns=pillars)
    z = [_values(row) for row in grid.to_numpy().tolist()]
    scale = [list(stop) for stop in SEQUENTIAL_BLUES]

    cells = [
        (pillar, row, score)
        for row, values in zip(rows, z, strict=True)
        for pillar, score in zip(pillars, values, strict=True)
        if score is not None
    ]
    data = [
        {
            "type": "heatmap",
            "z": z,
            "x": pillars,
            "y": rows,
            "zmin": 1,
            "zmax": 5,
            "colorscale": scale,
            "xgap": 2,
            "ygap": 2,
            "hoverongaps": False,
            "hovertemplate": "%{y}<br>%{x}: %{z:.2f}<extra></extra>",
            "colorbar": {
                "title": {"text": "Score"},
                "tickvals": list(SCORE_TICKS),
                "thickness": 14,
                "outlinewidth": 0,
            },
        },
        {
            "type": "scatter",
            "mode": "text",
            "x": [pillar for pillar, _, _ in cells],
            "y": [row for _, row, _ in cells],
            "text": [f"{score:.2f}" for _, _, score in cells],
            "textfont": {
                "family": FONT["family"],
                "size": 13,
                "color": [text_colour_on(colour_at(scale, (score - 1) / 4)) for _, _, score in cells],
            },
            "hoverinfo": "skip",
            "showlegend": False,
        },
    ]
    reference = set(reference_rows)
    layout = _layout(
        height=_rows_height(len(rows), per_row=44, extra=160),
        legend=False,
        xaxis=_category_axis(
            "Pillar",
            top_down=False,
            side="top",
            # No tickangle: level while the wrapped names fit their columns, tilted by plotly.js where they would
            # overlap (a narrow window, the A4 board pack).
            tickmode="array",
            tickvals=pillars,
            ticktext=[_wrap(p, 10) for p in pillars],
            tickfont={**FONT, "size": 12},
            categoryorder="array",
            categoryarray=pillars,
        ),
        # Long row labels ("Trust name – Care setting") wrap rather than squeeze the cells.
        yaxis=_category_axis(
            row_title,
            tickmode="array",
            tickvals=rows,
            ticktext=[f"<b>{_wrap(r, 34)}</b>" if r in reference else _wrap(r, 34) for r in rows],
            categoryorder="array",
            categoryarray=rows,
        ),
    )
    if organisations and reference_rows:
        layout["shapes"] = [
            {
                "type": "line",
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": len(organisations) - 0.5,
                "y1": len(organisations) - 0.5,
                "line": {"color": NHS_TEXT, "width": 2},
            }
        ]
    # The pillar axis is at the top: room for its wrapped labels there, nothing needed below the cells.
    layout["margin"].update({"t": 90, "b": 10})
    table = grid.loc[organisations].reset_index(names=row_title)
    table.columns = [row_title, *[str(p) for p in pillars]]
    codes = _codes(df)
    if codes is not None:
        by_label = dict(zip(_values(df["label"]), codes, strict=True))
        codes = [by_label[row] for row in organisations]
    table = _with_code(_floats(table, table.columns[1:]), codes)
    return Chart(id, title, description, _figure(data, layout), table, long_categories=True)


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
    """Columns: pillar_name, group (e.g. "Greater Manchester", "England"), n, p10, q1, median, q3, p90, mean, and
    optionally code (the group's ODS code) — box plots from precomputed statistics, one colour per group, pillars
    top-down in the order given."""
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
    return Chart(id, title, description, _figure(data, layout), _with_code(table, _codes(df)), long_categories=True)


def _translucent(colour: str, alpha: float = 0.35) -> str:
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red},{green},{blue},{alpha})"


# Reference lines on rankings: England first, then the area the ranking is within (a region).
_REFERENCE_DASHES = ("dash", "dot", "dashdot")
_REFERENCE_COLOURS = (NHS_TEXT, NHS_DARK_PINK, NHS_PURPLE)


def ranked(
    id: str,
    df: pd.DataFrame,
    *,
    references: pd.DataFrame | None = None,
    title: str = "Mean score, highest first",
    description: str = (
        "Each area's mean score (dot) and the middle half of its assessments (line), highest first; dashed lines "
        "mark the reference means."
    ),
    name_title: str = "Name",
    highlight: str | None = None,
) -> Chart:
    """Columns: name, mean, q1, q3, n, and optionally code (the area's ODS code). Sorted by mean, highest at the
    top; `highlight` marks one name in orange. `references` (same columns, e.g. England) are drawn as vertical
    lines at their means, named in the legend with their value, and listed after the ranked rows of the table."""
    columns = [name_title, "Mean score", "Lower quartile", "Upper quartile", "Assessments"]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    df = df.sort_values("mean", ascending=False, kind="stable")
    references = references if not _is_blank(references) else df.iloc[0:0]
    names, mean, q1, q3 = _values(df["name"]), df["mean"], df["q1"], df["q3"]
    colours = [NHS_ORANGE if name == highlight else NHS_BLUE for name in names]
    symbols = ["diamond" if name == highlight else "circle" for name in names]
    data = [
        {
            "type": "scatter",
            "name": "Mean score (line: middle half of assessments)",
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
    shapes = [
        {
            "type": "line",
            "name": f"{name} mean ({value:.2f})",
            "showlegend": True,
            "xref": "x",
            "x0": value,
            "x1": value,
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "layer": "below",
            "line": {
                "color": _REFERENCE_COLOURS[i % len(_REFERENCE_COLOURS)],
                "width": 2,
                "dash": _REFERENCE_DASHES[i % len(_REFERENCE_DASHES)],
            },
        }
        for i, (name, value) in enumerate(zip(_values(references["name"]), _values(references["mean"]), strict=True))
        if value is not None
    ]
    layout = _layout(
        height=_labels_height(names, per_row=26, extra=150),
        legend=bool(shapes),
        xaxis=_score_axis(title="Mean score (level 1 to 5)"),
        yaxis=_label_axis(name_title, names),
        shapes=shapes,
    )
    both = pd.concat([df, references], ignore_index=True)
    table = pd.DataFrame(
        {
            name_title: _values(both["name"]),
            "Mean score": _values(both["mean"]),
            "Lower quartile": _values(both["q1"]),
            "Upper quartile": _values(both["q3"]),
            "Assessments": pd.array(_values(both["n"]), dtype="Int64"),
        }
    )
    chart_table = _with_code(table, _codes(both))
    return Chart(id, title, description, _figure(data, layout), chart_table, long_categories=True)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def deciles(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Deciles of pillar scores",
    description: str = (
        "For each pillar, a strip of how its scores spread: the pale band runs from the 10th to the 90th "
        "percentile, the darker band is the middle half, ticks mark each decile and the dot is the median."
    ),
) -> Chart:
    """Columns: pillar_name, decile (10..90), value, and optionally q1 and q3 (the pillar's quartiles) and code (the
    area's ODS code), the same on each of a pillar's rows. One row per pillar, top-down in the order given, each a
    strip on the same 1-5 axis: eight pillars' lines across the deciles crossed and hid each other, while strips
    side by side compare the pillars' spreads at a glance."""
    if _is_blank(df):
        return _empty(id, title, description, ["Pillar"])

    points = sorted(int(d) for d in df["decile"].unique())
    pillars = _unique(df["pillar_name"])
    quartiles = _has(df, "q1") and _has(df, "q3")
    by_pillar = {
        pillar: dict(zip((int(d) for d in part["decile"]), _values(part["value"]), strict=True))
        for pillar, part in df.groupby("pillar_name", sort=False)
    }
    first = df.drop_duplicates("pillar_name").set_index("pillar_name")

    def band(low, high, name, colour, width):
        x, y = [], []
        for pillar in pillars:
            x += [low(pillar), high(pillar), None]
            y += [pillar, pillar, None]
        return {
            "type": "scatter",
            "name": name,
            "x": x,
            "y": y,
            "mode": "lines",
            "line": {"color": colour, "width": width},
            "hoverinfo": "skip",
        }

    data = [band(lambda p: by_pillar[p].get(points[0]), lambda p: by_pillar[p].get(points[-1]),
                 f"{_ordinal(points[0])} to {_ordinal(points[-1])} percentile", "#A9C8EA", 14)]  # fmt: skip
    if quartiles:
        data.append(
            band(
                lambda p: _plain(first.at[p, "q1"]),
                lambda p: _plain(first.at[p, "q3"]),
                "Middle half (quartiles)",
                "#5B93D3",
                14,
            )
        )
    data.append(
        {
            "type": "scatter",
            "name": "Deciles",
            "x": [by_pillar[p].get(d) for p in pillars for d in points],
            "y": [p for p in pillars for _ in points],
            "text": [f"{_ordinal(d)} percentile" for _ in pillars for d in points],
            "mode": "markers",
            "marker": {
                "symbol": "line-ns",
                "size": 14,
                "color": NHS_DARK_GREY,
                "line": {"color": NHS_DARK_GREY, "width": 1.5},
            },
            "hovertemplate": "%{y}<br>%{text}: %{x:.2f}<extra></extra>",
        }
    )
    if 50 in points:
        data.append(
            {
                "type": "scatter",
                "name": "Median",
                "x": [by_pillar[p].get(50) for p in pillars],
                "y": pillars,
                "mode": "markers",
                "marker": _marker(NHS_ORANGE, "diamond", 14),
                "hovertemplate": "%{y}<br>Median: %{x:.2f}<extra></extra>",
            }
        )
    layout = _layout(
        height=_rows_height(len(pillars), per_row=46, extra=150),
        xaxis=_score_axis(),
        yaxis=_category_axis("Pillar", categoryorder="array", categoryarray=pillars),
    )
    layout["legend"]["traceorder"] = "normal"
    headers = [f"{_ordinal(d)} percentile" for d in points]
    rows = [[pillar, *[by_pillar[pillar].get(d) for d in points]] for pillar in pillars]
    table = _floats(pd.DataFrame(rows, columns=["Pillar", *headers]), headers)
    if quartiles:
        table["Lower quartile"] = [_plain(first.at[p, "q1"]) for p in pillars]
        table["Upper quartile"] = [_plain(first.at[p, "q3"]) for p in pillars]
    codes = [_plain(first.at[p, "code"]) for p in pillars] if "code" in df.columns else None
    return Chart(id, title, description, _figure(data, layout), _with_code(table, codes), long_categories=True)


def stacked_counts(
    id: str,
    df: pd.DataFrame,
    *,
    category_order: list[str],
    ordered: bool = False,
    title: str = "Counts by status",
    description: str = "How many in each area are in each status.",
    group_title: str = "Area",
    count_title: str = "Number",
    colours: dict[str, str] | None = None,
) -> Chart:
    """Columns: group (a row, e.g. an area), category (e.g. a DSPT or assessment status), count, and optionally
    code (the group's ODS code). Categories stack in `category_order`, each with a fixed colour picked by its
    position in the whole order (unless `colours` names one), so the same status has the same colour on every chart.
    Categories not in the order come last.

    `ordered=True` is for categories that form a scale (DSPT status best to worst, a return's progress): shades of
    one blue, darkest first, so the order reads as lightness; otherwise the categorical PALETTE. The count written
    in each segment is white or dark by the segment's colour."""
    if _is_blank(df):
        return _empty(id, title, description, [group_title, *category_order])

    present = set(_values(df["category"]))
    extra = sorted(present - set(category_order), key=str)
    order = [c for c in category_order if c in present] + extra
    all_categories = list(category_order) + extra
    scale = (
        ordered_colours(len(all_categories))
        if ordered
        else [PALETTE[i % len(PALETTE)] for i in range(len(all_categories))]
    )
    groups = _unique(df["group"])
    counts = (
        df.pivot_table(index="group", columns="category", values="count", aggfunc="sum", sort=False)
        .reindex(index=groups, columns=order)
        .fillna(0)
        .astype(int)
    )

    data = []
    for category in order:
        colour = (colours or {}).get(category) or scale[all_categories.index(category)]
        values = [int(v) for v in counts[category].tolist()]
        data.append(
            {
                "type": "bar",
                "name": str(category),
                "x": values,
                "y": groups,
                "orientation": "h",
                "marker": {"color": colour, "line": {"color": WHITE, "width": 1}},
                "text": [str(v) if v else "" for v in values],
                "textposition": "inside",
                "insidetextanchor": "middle",
                "insidetextfont": {**FONT, "color": text_colour_on(colour)},
                "hovertemplate": "%{y}<br>%{fullData.name}: %{x}<extra></extra>",
            }
        )
    layout = _layout(
        height=_labels_height(groups, per_row=36),
        barmode="stack",
        uniformtext={"minsize": 11, "mode": "hide"},
        xaxis=_axis(count_title, rangemode="tozero"),
        yaxis=_label_axis(group_title, groups),
    )
    # Plotly lists a stack's legend backwards by default; keep the order the caller gave.
    layout["legend"]["traceorder"] = "normal"
    table = counts.reset_index(names=group_title)
    table.columns = [group_title, *[str(c) for c in order]]
    codes = _codes(df.drop_duplicates("group").set_index("group").reindex(groups).reset_index())
    return Chart(
        id, title, description, _figure(data, layout), _with_code(table, codes), long_categories=len(groups) > 1
    )


VERIFIED_SHARE_TITLE = "Scores backed by verified evidence (%)"


def verified_evidence(
    id: str,
    df: pd.DataFrame,
    *,
    title: str = "Scores backed by verified evidence",
    description: str = (
        "Each pillar's share of scores whose evidence a reviewer verified, with the mean score over every answer "
        "and over the verified answers only."
    ),
) -> Chart:
    """Columns: pillar_name, share (0 to 1: the share of scores backed by verified evidence), score (the mean over
    every answer), verified_score (the mean over verified answers only; missing when none, or when too few returns
    have one to show), n (returns), and optionally code. The chart draws the shares as bars on a 0-100 % axis; the
    table carries both means beside them, which is the comparison the section's sentence makes."""
    columns = ["Pillar", VERIFIED_SHARE_TITLE, "Mean score, every answer", "Mean score, verified answers only"]
    if _is_blank(df):
        return _empty(id, title, description, columns)
    pillars = _values(df["pillar_name"])
    shares = [None if value is None else value * 100 for value in _values(df["share"])]
    data = [
        {
            "type": "bar",
            "name": VERIFIED_SHARE_TITLE,
            "x": shares,
            "y": pillars,
            "orientation": "h",
            "marker": {"color": NHS_BLUE},
            "hovertemplate": "%{y}<br>Backed by verified evidence: %{x:.0f} %<extra></extra>",
        }
    ]
    layout = _layout(
        height=_labels_height(pillars, per_row=30),
        legend=False,
        xaxis=_axis(VERIFIED_SHARE_TITLE, range=[0, 100], ticksuffix=" %"),
        yaxis=_label_axis("Pillar", pillars),
    )
    table = pd.DataFrame(
        {
            "Pillar": pillars,
            VERIFIED_SHARE_TITLE: shares,
            "Mean score, every answer": _values(df["score"]),
            "Mean score, verified answers only": _values(df["verified_score"]),
        }
    )
    if _has(df, "n"):
        table["Assessments"] = _values(df["n"])
    return Chart(
        id,
        title,
        description,
        _figure(data, layout),
        _with_code(table, _codes(df)),
        long_categories=True,
        units={VERIFIED_SHARE_TITLE: "%"},
    )


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
    """Columns: label, value, and optionally code (the label's ODS code). Bins of a round width starting at a multiple
    of it; the table lists every value, highest first, with "%" after it when the value title ends in "(%)"."""
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
    # Counts are whole numbers: ticks every 1 while the tallest bin is small (plotly.js would pick 0.5 and print
    # 0, 1, 1, 2, 2 through a whole-number format), and whole-number ticks of its own choosing above that.
    tallest = int(np.histogram(df["value"], bins=np.linspace(start, end, round((end - start) / size) + 1))[0].max())
    count_ticks = {"tick0": 0, "dtick": 1} if tallest <= 10 else {"tickformat": "d"}
    layout = _layout(
        legend=False,
        bargap=0.05,
        xaxis=_axis(value_title, range=[start, end]),
        yaxis=_axis(count_title, rangemode="tozero", **count_ticks),
    )
    table = _with_code(pd.DataFrame({label_title: _values(df["label"]), value_title: values}), _codes(df))
    unit = {value_title: "%"} if value_title.endswith("(%)") else None
    return Chart(id, title, description, _figure(data, layout), table, long_categories=True, units=unit)


def scatter(
    id: str,
    df: pd.DataFrame,
    *,
    x_title: str,
    y_title: str,
    title: str,
    description: str,
    label_title: str = "Name",
    x_reference: float | None = None,
) -> Chart:
    """Columns: label, x, y, and optionally n (the assessments behind an aggregate point) and code (ODS code). One
    marker per row, named in its hover; `x_reference` draws a dashed vertical line (a benchmark). The table lists
    every point, highest x first, with "%" after x when its title ends in "(%)"."""
    columns = [label_title, x_title, y_title]
    if _is_blank(df):
        return _empty(id, title, description, columns)

    df = df.sort_values("x", ascending=False, kind="stable")
    labels, xs, ys = _values(df["label"]), _values(df["x"]), _values(df["y"])
    data = [
        {
            "type": "scatter",
            "name": label_title,
            "x": xs,
            "y": ys,
            "text": labels,
            "mode": "markers",
            "marker": _marker(NHS_BLUE),
            "hovertemplate": f"%{{text}}<br>{x_title}: %{{x:.1f}}<br>{y_title}: %{{y:.2f}}<extra></extra>",
        }
    ]
    shapes = []
    if x_reference is not None:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": x_reference,
                "x1": x_reference,
                "y0": 0,
                "y1": 1,
                "line": {"color": NHS_DARK_PINK, "dash": "dash", "width": 2},
            }
        )
    layout = _layout(
        legend=False,
        shapes=shapes,
        xaxis=_axis(x_title, rangemode="tozero"),
        yaxis=_score_axis(title=y_title),
    )
    table = {label_title: labels, x_title: xs, y_title: ys}
    if "n" in df.columns:
        table["Assessments"] = _values(df["n"])
    unit = {x_title: "%"} if x_title.endswith("(%)") else None
    return Chart(id, title, description, _figure(data, layout), _with_code(pd.DataFrame(table), _codes(df)), units=unit)


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
    """Columns: name, previous, current, change, and optionally code (the ODS code). A dumbbell per row, sorted by
    change, biggest rise at the top."""
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
        height=_labels_height(names, per_row=30),
        xaxis=_score_axis(),
        yaxis=_label_axis(name_title, names),
    )
    table = pd.DataFrame({name_title: names, previous_label: previous, current_label: current, "Change": change})
    chart_table = _with_code(table, _codes(df))
    return Chart(id, title, description, _figure(data, layout), chart_table, long_categories=True)


def _floats(table: pd.DataFrame, columns) -> pd.DataFrame:
    """Wide tables built from rows of Python values: make score columns float (None → NaN) for CSV and formatting."""
    for column in columns:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    return table
