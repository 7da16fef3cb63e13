"""Chart builders (reports.dashboards.charts), the chart include and the front-end wiring for plotly.js."""

import io
import json
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string

from reports.dashboards import charts

PILLARS = ["Well Led", "Ensure Smart Foundations", "Safe Practice"]


# --- Small frames, one per builder ---------------------------------------------------------------------------------


def pillar_frame():
    return pd.DataFrame(
        {
            "pillar_name": PILLARS,
            "score": [3.25, 2.5, 4.0],
            "ics_mean": [3.0, 2.75, 3.5],
            "england_median": [2.9, 2.6, 3.4],
            "peer_median": [3.1, 2.4, 3.6],
            "peer_q1": [2.8, 2.0, 3.2],
            "peer_q3": [3.5, 2.9, 4.0],
        }
    )


def trend_frame():
    return pd.DataFrame(
        {
            "cycle_year": [2024, 2025, 2024, 2025, 2023],
            "series": ["Overall", "Overall", "Well Led", "Well Led", "Overall"],
            "score": [2.5, 2.75, 3.0, 3.5, 2.0],
        }
    )


def gaps_frame():
    return pd.DataFrame(
        {
            "theme_name": ["Legacy IT", "EPR", "Cyber"],
            "description": ["Level 3 on legacy IT domains", "An EPR live in every care setting", "DSPT Standards Met"],
            "measured": [2.4, 3.0, 1.0],
            "target": [3.0, 3.0, 2.0],
            "gap": [0.6, 0.0, 1.0],
        }
    )


def indicator_frame():
    return pd.DataFrame(
        {
            "indicator_name": ["Unsupported devices", "Digital spend"],
            "value": [7.5, 3.2],
            "england_median": [4.0, 3.6],
            "unit": ["%", "% of turnover"],
        }
    )


def heatmap_frame():
    return pd.DataFrame(
        {
            "label": ["Trust B – Acute", "Trust B – Acute", "Trust A – Community", "Trust A – Community"],
            "pillar_name": ["Well Led", "Safe Practice", "Well Led", "Safe Practice"],
            "score": [4.5, 2.25, 1.0, np.nan],
        }
    )


def distribution_frame():
    rows = []
    for pillar in PILLARS[:2]:
        for group, shift in [("Greater Manchester", 0.5), ("England", 0.0)]:
            rows.append(
                {
                    "pillar_name": pillar,
                    "group": group,
                    "n": 12 if shift else 285,
                    "p10": 1.5 + shift,
                    "q1": 2.0 + shift,
                    "median": 2.5 + shift,
                    "q3": 3.0 + shift,
                    "p90": 3.5 + shift,
                    "mean": 2.6 + shift,
                }
            )
    return pd.DataFrame(rows)


def ranked_frame():
    return pd.DataFrame(
        {
            "name": ["North", "South", "East"],
            "mean": [2.5, 3.5, 3.0],
            "q1": [2.0, 3.0, 2.5],
            "q3": [3.0, 4.0, 3.25],
            "n": [10, 20, 15],
        }
    )


def deciles_frame():
    rows = [{"pillar_name": p, "decile": d, "value": 1 + d / 25 + i / 10} for i, p in enumerate(PILLARS[:2]) for d in
            (30, 10, 20)]  # fmt: skip
    return pd.DataFrame(rows)


DSPT_ORDER = ["Standards Exceeded", "Standards Met", "Approaching Standards", "Standards Not Met"]


def stacked_frame():
    return pd.DataFrame(
        {
            "group": ["London", "London", "London", "Midlands", "Midlands"],
            "category": ["Standards Met", "Standards Exceeded", "Not published", "Standards Met", "Standards Not Met"],
            "count": [10, 3, 1, 7, 2],
        }
    )


def histogram_frame():
    return pd.DataFrame({"label": ["A", "B", "C", "D", "E"], "value": [0.5, 3.0, 12.0, 19.5, np.nan]})


def movers_frame():
    return pd.DataFrame(
        {
            "name": ["Trust A", "Trust B", "Trust C"],
            "previous": [2.0, 3.0, 2.5],
            "current": [2.5, 2.75, 3.5],
            "change": [0.5, -0.25, 1.0],
        }
    )


BUILDS = {
    "pillar_comparison": lambda df: charts.pillar_comparison("pillars", df),
    "trend": lambda df: charts.trend("trend", df),
    "gaps": lambda df: charts.gaps("gaps", df),
    "indicator_comparison": lambda df: charts.indicator_comparison("indicators", df),
    "heatmap": lambda df: charts.heatmap("heatmap", df),
    "distribution": lambda df: charts.distribution("distribution", df),
    "ranked": lambda df: charts.ranked("ranked", df),
    "deciles": lambda df: charts.deciles("deciles", df),
    "stacked_counts": lambda df: charts.stacked_counts("dspt", df, category_order=DSPT_ORDER),
    "histogram": lambda df: charts.histogram("devices", df, value_title="Unsupported devices (%)"),
    "movers": lambda df: charts.movers("movers", df),
}
FRAMES = {
    "pillar_comparison": pillar_frame,
    "trend": trend_frame,
    "gaps": gaps_frame,
    "indicator_comparison": indicator_frame,
    "heatmap": heatmap_frame,
    "distribution": distribution_frame,
    "ranked": ranked_frame,
    "deciles": deciles_frame,
    "stacked_counts": stacked_frame,
    "histogram": histogram_frame,
    "movers": movers_frame,
}


def build(name, df=None):
    return BUILDS[name](FRAMES[name]() if df is None else df)


def rows(chart):
    """The table as plain Python lists, NaN as None, for comparing with expected rows."""
    return [
        [None if (isinstance(v, float) and math.isnan(v)) else v for v in row] for row in chart.table.values.tolist()
    ]


def assert_plain_json(value):
    """Only JSON types all the way down: no numpy scalars or arrays, no NaN."""
    if isinstance(value, dict):
        for item in value.values():
            assert_plain_json(item)
    elif isinstance(value, list):
        for item in value:
            assert_plain_json(item)
    else:
        assert value is None or type(value) in (str, int, float, bool), type(value)
        assert not (isinstance(value, float) and not math.isfinite(value))


# --- What every builder shares -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILDS)
def test_every_figure_is_plain_json_without_title_or_template(name):
    chart = build(name)
    assert_plain_json(chart.figure)
    json.dumps(chart.figure, allow_nan=False)
    layout = chart.figure["layout"]
    assert "title" not in layout  # the page shows the title as a heading
    assert "template" not in layout  # Plotly's default template would add ~10 KB per chart
    assert layout["autosize"] is True
    assert set(layout["margin"]) >= {"l", "r", "t", "b"}
    assert "Arial" in layout["font"]["family"]
    assert chart.title and chart.description
    assert not chart.is_empty


@pytest.mark.parametrize("name", BUILDS)
def test_every_builder_returns_an_empty_chart_for_an_empty_frame(name):
    empty = FRAMES[name]().iloc[0:0]
    chart = build(name, empty)
    assert chart.figure == {"data": [], "layout": {}}
    assert chart.table.empty
    assert chart.is_empty
    assert chart.rows == []
    assert chart.title and chart.description


@pytest.mark.parametrize("name", BUILDS)
def test_every_builder_takes_its_title_and_description_from_the_caller(name):
    function = getattr(charts, name)
    kwargs = {"category_order": DSPT_ORDER} if name == "stacked_counts" else {}
    if name == "histogram":
        kwargs["value_title"] = "Value"
    chart = function("custom", FRAMES[name](), title="My title", description="What it shows.", **kwargs)
    assert (chart.id, chart.title, chart.description) == ("custom", "My title", "What it shows.")


@pytest.mark.parametrize("name", [n for n in BUILDS if n != "gaps"])
def test_csv_reads_back_as_the_table(name):
    chart = build(name)
    read = pd.read_csv(io.StringIO(charts.chart_csv(chart)))
    pd.testing.assert_frame_equal(read, chart.table, check_dtype=False)


def assert_plain_data(value):
    """Plain Python all the way down (what the cache pickles): no numpy or pandas objects."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str
            assert_plain_data(item)
    elif isinstance(value, list):
        for item in value:
            assert_plain_data(item)
    else:
        # type(), not isinstance: numpy's float64 is a float subclass. SafeString (the rendered HTML) is a str.
        assert value is None or type(value) in (int, float, bool) or isinstance(value, str), type(value)


@pytest.mark.parametrize("name", BUILDS)
def test_a_chart_holds_only_plain_data_computed_once(name):
    chart = build(name)
    state = chart.__getstate__()
    assert set(state) >= {"figure", "headers", "values", "columns", "rows", "table_html", "figure_script"}
    assert_plain_data(state)
    assert chart.headers == [column["text"] for column in chart.columns]
    assert len(chart.values) == len(chart.rows) and all(len(row) == len(chart.headers) for row in chart.values)
    with pytest.raises(AttributeError):
        chart.title = "Changed"  # frozen: the rendered table must stay that of the data


@pytest.mark.parametrize("name", BUILDS)
def test_a_cached_chart_renders_and_exports_without_pandas(name, monkeypatch):
    chart = build(name)
    html, csv_text = render(chart), charts.chart_csv(chart)
    cached = pickle.loads(pickle.dumps(chart, pickle.HIGHEST_PROTOCOL))
    monkeypatch.setattr(charts, "pd", None)  # any pandas call from here on fails
    monkeypatch.setattr(charts, "np", None)
    assert render(cached) == html
    assert charts.chart_csv(cached) == csv_text
    assert (cached.columns, cached.rows, cached.figure) == (chart.columns, chart.rows, chart.figure)


def test_a_chart_id_must_be_safe_in_html_ids_and_urls():
    with pytest.raises(ValueError):
        charts.pillar_comparison('x" onload="alert(1)', pillar_frame())


def test_palette_is_nhs_colours_blue_first():
    assert charts.PALETTE[0] == "#005EB8"
    assert charts.PALETTE[1] == "#ED8B00"
    assert len(set(charts.PALETTE)) == len(charts.PALETTE) >= 7


# --- Builders ------------------------------------------------------------------------------------------------------


def test_pillar_comparison_dots_on_a_1_to_5_axis_each_series_on_its_own_line():
    chart = charts.pillar_comparison("pillars", pillar_frame().assign(code="RMC"), org_label="This trust")
    own, ics, england, peers = chart.figure["data"]
    # Levels have no zero: every series is a dot on the 1-5 axis, none a bar from 0.
    assert all(t["type"] == "scatter" and t["mode"] == "markers" for t in chart.figure["data"])
    assert own["name"] == "This trust" and own["x"] == [3.25, 2.5, 4.0]
    assert own["text"] == PILLARS
    assert ics["name"] == "ICS mean" and ics["x"] == [3.0, 2.75, 3.5]
    assert england["name"] == "England median" and england["x"] == [2.9, 2.6, 3.4]
    assert peers["x"] == [3.1, 2.4, 3.6]
    # The peers' interquartile range as an asymmetric error bar around their median.
    assert peers["error_x"]["array"] == pytest.approx([0.4, 0.5, 0.4])
    assert peers["error_x"]["arrayminus"] == pytest.approx([0.3, 0.4, 0.4])
    # Within each pillar's row the four series sit on four lines, in the legend's order, inside the row.
    for row in range(len(PILLARS)):
        positions = [trace["y"][row] for trace in (own, ics, england, peers)]
        assert positions == sorted(positions) and len(set(positions)) == 4
        assert all(row - 0.5 < y < row + 0.5 for y in positions)

    layout = chart.figure["layout"]
    assert layout["xaxis"]["title"]["text"] == "Score (level 1 to 5)"
    assert layout["xaxis"]["range"] == [0.75, 5.25]
    assert layout["xaxis"]["tickvals"] == [1, 2, 3, 4, 5]
    yaxis = layout["yaxis"]
    assert yaxis["title"]["text"] == "Pillar"
    assert (yaxis["tickvals"], yaxis["ticktext"]) == ([0, 1, 2], PILLARS)
    assert yaxis["range"] == [2.5, -0.5]  # first pillar at the top
    assert len(layout["shapes"]) == 2  # a rule between each pair of pillars

    assert list(chart.table.columns) == [
        "Pillar",
        "This trust",
        "ICS mean",
        "England median",
        "Peer median",
        "Peer lower quartile",
        "Peer upper quartile",
        "ODS code",
    ]
    assert rows(chart)[0] == ["Well Led", 3.25, 3.0, 2.9, 3.1, 2.8, 3.5, "RMC"]


def test_pillar_comparison_markers_never_hide_each_other_even_when_equal():
    df = pillar_frame().assign(ics_mean=3.0, england_median=3.0, peer_median=3.0, score=3.0)
    points = {
        (x, y)
        for trace in charts.pillar_comparison("p", df).figure["data"]
        for x, y in zip(trace["x"], trace["y"], strict=True)
    }
    assert len(points) == 4 * len(PILLARS)


def test_pillar_comparison_leaves_out_missing_and_empty_comparators():
    df = pillar_frame().drop(columns=["ics_mean", "peer_q1", "peer_q3"])
    df["england_median"] = np.nan
    chart = charts.pillar_comparison("pillars", df, org_label="Manchester University NHS FT")
    assert [t["name"] for t in chart.figure["data"]] == [
        "Manchester University NHS FT",
        "Peer median (line: middle half of peers)",
    ]
    assert "error_x" not in chart.figure["data"][1]
    # Two series: two lines per pillar, still apart.
    own, peers = chart.figure["data"]
    assert own["y"][0] < peers["y"][0]
    assert list(chart.table.columns) == ["Pillar", "Manchester University NHS FT", "Peer median"]


def test_pillar_comparison_shows_a_missing_score_as_a_gap():
    df = pillar_frame()
    df.loc[1, "score"] = np.nan
    chart = charts.pillar_comparison("pillars", df)
    assert chart.figure["data"][0]["x"] == [3.25, None, 4.0]
    assert chart.rows[1][1] == {"text": "No data", "numeric": False, "missing": True}


def test_trend_one_line_per_series_over_whole_years():
    chart = build("trend")
    overall, well_led = chart.figure["data"]
    assert overall["type"] == "scatter" and overall["mode"] == "lines+markers"
    assert overall["name"] == "Overall"
    assert overall["x"] == [2023, 2024, 2025]  # sorted by year
    assert overall["y"] == [2.0, 2.5, 2.75]
    assert well_led["x"] == [2024, 2025] and well_led["y"] == [3.0, 3.5]
    assert overall["line"]["dash"] != well_led["line"]["dash"]  # told apart without colour
    assert overall["marker"]["symbol"] != well_led["marker"]["symbol"]

    layout = chart.figure["layout"]
    assert layout["xaxis"]["title"]["text"] == "Assessment cycle"
    assert layout["xaxis"]["tickvals"] == [2023, 2024, 2025]
    assert layout["xaxis"]["ticktext"] == ["2023", "2024", "2025"]
    assert layout["yaxis"]["range"] == [0.75, 5.25]
    assert layout["yaxis"]["tickvals"] == [1, 2, 3, 4, 5]
    assert "shapes" not in layout  # one run: nothing to separate

    # A row per cycle, so that each row can say where its scores come from.
    assert list(chart.table.columns) == ["Cycle", "Overall", "Well Led"]
    assert rows(chart) == [[2023, 2.0, None], [2024, 2.5, 3.0], [2025, 2.75, 3.5]]


def test_trend_joins_only_cycles_of_one_comparable_run():
    published, here = "NHS England's published scores", "Scores on this service's framework"
    df = pd.DataFrame(
        {
            "cycle_year": [2024, 2025, 2026, 2024, 2026],
            "series": ["Overall", "Overall", "Overall", "Well Led", "Well Led"],
            "score": [2.0, 2.5, 3.25, 1.5, 3.0],
            "run": [published, published, here, published, here],
            "source": [charts.SOURCE_PUBLISHED] * 2
            + [charts.SOURCE_PROVISIONAL]
            + [charts.SOURCE_PUBLISHED]
            + [charts.SOURCE_PROVISIONAL],
            "code": "RMC",
        }
    )
    chart = charts.trend("trend", df)
    overall, well_led = chart.figure["data"]
    # A null point between 2025 and 2026 breaks the line: those scores are not comparable.
    assert overall["x"] == [2024, 2025, None, 2026] and overall["y"] == [2.0, 2.5, None, 3.25]
    assert overall["connectgaps"] is False
    assert well_led["x"] == [2024, None, 2026]
    layout = chart.figure["layout"]
    (rule,) = layout["shapes"]
    assert rule["x0"] == rule["x1"] == 2025.5 and rule["line"]["dash"] == "dot"
    labels = [(a["x"], a["text"].replace("<br>", " ")) for a in layout["annotations"]]
    assert labels == [(2024.5, published), (2026, here)]
    assert list(chart.table.columns) == ["Cycle", "Source", "Overall", "Well Led", "ODS code"]
    assert rows(chart)[2] == [2026, charts.SOURCE_PROVISIONAL, 3.25, 3.0, "RMC"]


def test_gaps_horizontal_bars_with_the_target_in_hover_and_table():
    chart = build("gaps")
    (bar,) = chart.figure["data"]
    assert bar["type"] == "bar" and bar["orientation"] == "h"
    assert bar["x"] == [0.6, 0.0, 1.0]
    assert bar["y"] == ["Legacy IT", "EPR", "Cyber"]
    assert bar["text"] == ["0.60", "Target met", "1.00"]
    assert bar["customdata"][0] == ["Level 3 on legacy IT domains", "2.40", "3.00"]
    assert "Target: %{customdata[0]}" in bar["hovertemplate"]
    assert chart.figure["layout"]["xaxis"]["title"]["text"] == "Gap to target (0 = target met)"
    assert list(chart.table.columns) == ["Theme", "Target", "Measured", "Target value", "Gap to target"]
    assert rows(chart)[1] == ["EPR", "An EPR live in every care setting", 3.0, 3.0, 0.0]


def test_gaps_accept_a_status_as_the_measure():
    df = gaps_frame().astype({"measured": object, "target": object})
    df.loc[2, ["measured", "target"]] = ["Approaching Standards", "Standards Met"]
    chart = charts.gaps("gaps", df)
    assert chart.figure["data"][0]["customdata"][2] == ["DSPT Standards Met", "Approaching Standards", "Standards Met"]
    assert chart.rows[2][2] == {"text": "Approaching Standards", "numeric": False, "missing": False}


def test_indicator_comparison_bars_against_england_markers_with_units():
    chart = build("indicator_comparison")
    bar, england = chart.figure["data"]
    assert bar["type"] == "bar" and bar["x"] == [7.5, 3.2]
    assert bar["y"] == ["Unsupported devices (%)", "Digital spend (% of turnover)"]
    assert england["type"] == "scatter" and england["mode"] == "markers"
    assert england["name"] == "England median" and england["x"] == [4.0, 3.6]
    assert chart.figure["layout"]["xaxis"]["title"]["text"] == "Value (unit in each label)"
    assert list(chart.table.columns) == ["Indicator", "This organisation", "England median", "Unit"]
    assert rows(chart) == [["Unsupported devices", 7.5, 4.0, "%"], ["Digital spend", 3.2, 3.6, "% of turnover"]]


def test_heatmap_scores_in_rows_as_given_with_values_written_in_the_cells():
    chart = build("heatmap")
    heat, text = chart.figure["data"]
    assert heat["type"] == "heatmap"
    assert heat["y"] == ["Trust B – Acute", "Trust A – Community"]  # the given order, not alphabetical
    assert heat["x"] == ["Well Led", "Safe Practice"]
    assert heat["z"] == [[4.5, 2.25], [1.0, None]]
    assert (heat["zmin"], heat["zmax"]) == (1, 5)
    assert "texttemplate" not in heat  # plotly.js would colour the text itself
    assert heat["colorscale"][0][1] == "#E6EFF8" and heat["colorscale"][-1][1] == "#003087"  # light to dark blue
    # The scores as a text trace over the cells, white on dark cells and dark on light ones; none on a missing cell.
    assert text["mode"] == "text" and text["hoverinfo"] == "skip"
    assert list(zip(text["x"], text["y"], text["text"], strict=True)) == [
        ("Well Led", "Trust B – Acute", "4.50"),
        ("Safe Practice", "Trust B – Acute", "2.25"),
        ("Well Led", "Trust A – Community", "1.00"),
    ]
    assert text["textfont"]["color"] == ["#FFFFFF", charts.NHS_TEXT, charts.NHS_TEXT]
    layout = chart.figure["layout"]
    assert layout["yaxis"]["autorange"] == "reversed"
    assert layout["yaxis"]["title"]["text"] == "Organisation"
    assert layout["xaxis"]["title"]["text"] == "Pillar"
    assert list(chart.table.columns) == ["Organisation", "Well Led", "Safe Practice"]
    assert rows(chart) == [["Trust B – Acute", 4.5, 2.25], ["Trust A – Community", 1.0, None]]
    assert chart.long_categories


def test_heatmap_reference_rows_below_a_rule_and_codes_in_the_table():
    df = heatmap_frame().assign(code=["RB1", "RB1", "RA1", "RA1"])
    references = pd.DataFrame(
        {
            "label": ["Greater Manchester mean", "Greater Manchester mean", "England mean", "England mean"],
            "pillar_name": ["Well Led", "Safe Practice", "Well Led", "Safe Practice"],
            "score": [2.75, 2.0, 3.0, 2.5],
            "code": ["QOP", "QOP", None, None],
        }
    )
    chart = charts.heatmap("heatmap", df, references=references)
    heat = chart.figure["data"][0]
    assert heat["y"] == ["Trust B – Acute", "Trust A – Community", "Greater Manchester mean", "England mean"]
    assert heat["z"][2:] == [[2.75, 2.0], [3.0, 2.5]]
    yaxis = chart.figure["layout"]["yaxis"]
    assert yaxis["ticktext"][2:] == ["<b>Greater Manchester mean</b>", "<b>England mean</b>"]
    (rule,) = chart.figure["layout"]["shapes"]
    assert rule["y0"] == rule["y1"] == 1.5  # between the organisations and the references
    # The table lists the organisations, each with its ODS code, for joining.
    assert rows(chart) == [["Trust B – Acute", 4.5, 2.25, "RB1"], ["Trust A – Community", 1.0, None, "RA1"]]


def test_distribution_box_plots_from_precomputed_statistics():
    chart = build("distribution")
    manchester, england = chart.figure["data"]
    assert manchester["type"] == "box" and manchester["orientation"] == "h"
    assert manchester["name"] == "Greater Manchester" and england["name"] == "England"
    assert manchester["y"] == PILLARS[:2]
    assert manchester["q1"] == [2.5, 2.5]
    assert manchester["median"] == [3.0, 3.0]
    assert manchester["q3"] == [3.5, 3.5]
    assert manchester["lowerfence"] == [2.0, 2.0]  # the 10th percentile
    assert manchester["upperfence"] == [4.0, 4.0]  # the 90th percentile
    assert manchester["mean"] == [3.1, 3.1]
    assert england["q1"] == [2.0, 2.0]
    assert manchester["line"]["color"] != england["line"]["color"]
    layout = chart.figure["layout"]
    assert layout["boxmode"] == "group"
    assert layout["xaxis"]["range"] == [0.75, 5.25]
    assert layout["yaxis"]["categoryarray"] == PILLARS[:2]
    assert list(chart.table.columns) == [
        "Pillar",
        "Group",
        "Assessments",
        "10th percentile",
        "Lower quartile",
        "Median",
        "Upper quartile",
        "90th percentile",
        "Mean",
    ]
    assert rows(chart)[0] == ["Well Led", "Greater Manchester", 12, 2.0, 2.5, 3.0, 3.5, 4.0, 3.1]
    assert chart.rows[0][2]["text"] == "12"  # a count stays an integer


def test_ranked_sorted_by_mean_with_the_interquartile_range():
    chart = charts.ranked("ranked", ranked_frame(), name_title="ICS", highlight="East")
    (dots,) = chart.figure["data"]
    assert dots["type"] == "scatter" and dots["mode"] == "markers"
    assert dots["y"] == ["South", "East", "North"]
    assert dots["x"] == [3.5, 3.0, 2.5]
    assert dots["error_x"]["array"] == [0.5, 0.25, 0.5]
    assert dots["error_x"]["arrayminus"] == [0.5, 0.5, 0.5]
    assert dots["customdata"][0] == [3.0, 4.0, 20]
    assert dots["marker"]["color"] == ["#005EB8", "#ED8B00", "#005EB8"]
    assert chart.figure["layout"]["xaxis"]["range"] == [0.75, 5.25]
    assert chart.figure["layout"]["yaxis"]["autorange"] == "reversed"
    assert list(chart.table.columns) == ["ICS", "Mean score", "Lower quartile", "Upper quartile", "Assessments"]
    assert rows(chart) == [["South", 3.5, 3.0, 4.0, 20], ["East", 3.0, 2.5, 3.25, 15], ["North", 2.5, 2.0, 3.0, 10]]


def test_deciles_one_strip_per_pillar():
    fiftieth = pd.DataFrame({"pillar_name": PILLARS[:2], "decile": 50, "value": [3.0, 3.25]})
    df = pd.concat([deciles_frame(), fiftieth]).assign(
        q1=lambda f: f["pillar_name"].map({PILLARS[0]: 1.5, PILLARS[1]: 1.6}),
        q3=lambda f: f["pillar_name"].map({PILLARS[0]: 2.9, PILLARS[1]: 3.1}),
        code="Y62",
    )
    chart = charts.deciles("deciles", df)
    band, quartiles, ticks, median = chart.figure["data"]
    # One row per pillar: a band from the first to the last decile, the quartiles, each decile and the median.
    assert band["x"] == [1.4, 3.0, None, 1.5, 3.25, None]
    assert band["y"] == ["Well Led", "Well Led", None, "Ensure Smart Foundations", "Ensure Smart Foundations", None]
    assert quartiles["x"] == [1.5, 2.9, None, 1.6, 3.1, None]
    assert ticks["mode"] == "markers" and ticks["x"][:4] == pytest.approx([1.4, 1.8, 2.2, 3.0])
    assert ticks["text"][:2] == ["10th percentile", "20th percentile"]
    assert median["x"] == [3.0, 3.25] and median["y"] == PILLARS[:2]
    layout = chart.figure["layout"]
    assert layout["xaxis"]["range"] == [0.75, 5.25]
    assert layout["yaxis"]["categoryarray"] == PILLARS[:2]
    assert list(chart.table.columns) == [
        "Pillar",
        "10th percentile",
        "20th percentile",
        "30th percentile",
        "50th percentile",
        "Lower quartile",
        "Upper quartile",
        "ODS code",
    ]
    assert rows(chart)[1] == pytest.approx(["Ensure Smart Foundations", 1.5, 1.9, 2.3, 3.25, 1.6, 3.1, "Y62"])


def test_stacked_counts_in_the_given_category_order_with_fixed_colours():
    chart = charts.stacked_counts("dspt", stacked_frame(), category_order=DSPT_ORDER, group_title="Region")
    data = chart.figure["data"]
    # "Approaching Standards" has no rows; a category outside the order comes last.
    assert [t["name"] for t in data] == ["Standards Exceeded", "Standards Met", "Standards Not Met", "Not published"]
    assert all(t["type"] == "bar" and t["orientation"] == "h" for t in data)
    assert data[0]["y"] == ["London", "Midlands"]
    assert data[1]["x"] == [10, 7]
    assert data[0]["x"] == [3, 0]
    assert data[0]["text"] == ["3", ""]  # no label on an empty segment
    # Colours follow the position in category_order, so they are the same on every chart.
    assert [t["marker"]["color"] for t in data] == [
        charts.PALETTE[0],
        charts.PALETTE[1],
        charts.PALETTE[3],
        charts.PALETTE[4],
    ]
    assert chart.figure["layout"]["barmode"] == "stack"
    assert chart.figure["layout"]["legend"]["traceorder"] == "normal"
    assert list(chart.table.columns) == ["Region", *[t["name"] for t in data]]
    assert rows(chart) == [["London", 3, 10, 0, 1], ["Midlands", 0, 7, 2, 0]]


def test_stacked_counts_take_named_colours():
    chart = charts.stacked_counts(
        "dspt", stacked_frame(), category_order=DSPT_ORDER, colours={"Standards Met": "#00A499"}
    )
    assert chart.figure["data"][1]["marker"]["color"] == "#00A499"


def test_histogram_of_values_in_round_bins():
    chart = build("histogram")
    (hist,) = chart.figure["data"]
    assert hist["type"] == "histogram"
    assert sorted(hist["x"]) == [0.5, 3.0, 12.0, 19.5]  # the missing value is left out
    assert hist["xbins"] == {"start": 0, "end": 20, "size": 2}
    layout = chart.figure["layout"]
    assert layout["xaxis"]["title"]["text"] == "Unsupported devices (%)"
    assert layout["yaxis"]["title"]["text"] == "Number of organisations"
    assert list(chart.table.columns) == ["Name", "Unsupported devices (%)"]
    assert rows(chart) == [["D", 19.5], ["C", 12.0], ["B", 3.0], ["A", 0.5]]


@pytest.mark.parametrize(
    ("values", "start", "end", "size"),
    [
        ([0.0, 100.0], 0, 110, 10),
        ([2.0, 2.0], 2, 3, 1),
        ([0.12, 0.31], 0.12, 0.32, 0.02),
        ([5.0, 17.0], 4, 18, 2),
    ],
)
def test_histogram_bins_cover_every_value(values, start, end, size):
    df = pd.DataFrame({"label": [str(v) for v in values], "value": values})
    bins = charts.histogram("h", df, value_title="Value").figure["data"][0]["xbins"]
    assert bins["start"] == pytest.approx(start)
    assert bins["end"] == pytest.approx(end)
    assert bins["size"] == pytest.approx(size)
    assert bins["start"] <= min(values) and max(values) < bins["end"]


def test_histogram_of_only_missing_values_is_empty():
    df = pd.DataFrame({"label": ["A"], "value": [np.nan]})
    assert charts.histogram("h", df, value_title="Value").is_empty


def test_movers_dumbbells_sorted_by_change():
    chart = charts.movers("movers", movers_frame(), previous_label="2024", current_label="2025")
    connectors, previous, current = chart.figure["data"]
    assert connectors["mode"] == "lines" and connectors["hoverinfo"] == "skip"
    assert connectors["x"] == [2.5, 3.5, None, 2.0, 2.5, None, 3.0, 2.75, None]
    assert connectors["y"] == ["Trust C", "Trust C", None, "Trust A", "Trust A", None, "Trust B", "Trust B", None]
    assert previous["name"] == "2024" and previous["x"] == [2.5, 2.0, 3.0]
    assert current["name"] == "2025" and current["x"] == [3.5, 2.5, 2.75]
    assert current["y"] == ["Trust C", "Trust A", "Trust B"]
    assert "%{customdata[2]:+.2f}" in current["hovertemplate"]
    assert chart.figure["layout"]["xaxis"]["range"] == [0.75, 5.25]
    assert list(chart.table.columns) == ["Name", "2024", "2025", "Change"]
    assert rows(chart) == [["Trust C", 2.5, 3.5, 1.0], ["Trust A", 2.0, 2.5, 0.5], ["Trust B", 3.0, 2.75, -0.25]]


def test_ranked_draws_reference_lines_and_lists_them_after_the_ranking():
    df = ranked_frame().assign(code=["Y63", "Y59", "Y61"])
    references = pd.DataFrame(
        {"name": ["England"], "code": [None], "mean": [2.875], "q1": [2.0], "q3": [3.5], "n": [210]}
    )
    chart = charts.ranked("ranked", df, references=references, name_title="Region")
    (line,) = chart.figure["layout"]["shapes"]
    assert (line["x0"], line["x1"], line["yref"], line["y0"], line["y1"]) == (2.875, 2.875, "paper", 0, 1)
    assert line["name"] == "England mean (2.88)" and line["showlegend"] is True
    assert line["line"]["dash"] == "dash"  # told from the dots' lines without colour
    assert chart.figure["layout"]["showlegend"] is True
    assert chart.figure["data"][0]["y"] == ["South", "East", "North"]  # references are not ranked
    assert list(chart.table.columns) == [
        "Region",
        "Mean score",
        "Lower quartile",
        "Upper quartile",
        "Assessments",
        "ODS code",
    ]
    assert [row[0] for row in rows(chart)] == ["South", "East", "North", "England"]
    assert [row[-1] for row in rows(chart)] == ["Y59", "Y61", "Y63", None]
    assert chart.long_categories


def test_ranked_without_references_has_no_lines_or_legend():
    chart = build("ranked")
    assert chart.figure["layout"]["shapes"] == [] and chart.figure["layout"]["showlegend"] is False
    assert "ODS code" not in chart.headers  # no codes given, no empty column


def test_stacked_counts_ordered_use_one_hue_darkest_first_in_the_whole_order():
    chart = charts.stacked_counts("dspt", stacked_frame(), category_order=DSPT_ORDER, ordered=True)
    colours = {t["name"]: t["marker"]["color"] for t in chart.figure["data"]}
    scale = charts.ordered_colours(len(DSPT_ORDER) + 1)  # "Not published" comes after the order
    assert colours == {
        "Standards Exceeded": scale[0],
        "Standards Met": scale[1],
        "Standards Not Met": scale[3],
        "Not published": scale[4],
    }
    lightness = [charts.relative_luminance(colour) for colour in scale]
    assert lightness == sorted(lightness)  # darkest first, each step lighter
    # Neighbouring steps stay apart by lightness alone.
    assert all(charts.contrast_ratio(a, b) >= 1.3 for a, b in zip(scale, scale[1:], strict=False))
    # Unordered categories keep the categorical palette.
    unordered = charts.stacked_counts("dspt", stacked_frame(), category_order=DSPT_ORDER)
    assert unordered.figure["data"][0]["marker"]["color"] == charts.PALETTE[0]


def test_stacked_counts_write_counts_white_or_dark_by_the_segment():
    chart = charts.stacked_counts("dspt", stacked_frame(), category_order=DSPT_ORDER, ordered=True)
    for trace in chart.figure["data"]:
        text_colour = trace["insidetextfont"]["color"]
        assert text_colour in ("#FFFFFF", charts.NHS_TEXT, "#000000")
        assert charts.contrast_ratio(text_colour, trace["marker"]["color"]) >= 4.5
    data = chart.figure["data"]
    assert data[0]["insidetextfont"]["color"] == "#FFFFFF" and data[-1]["insidetextfont"]["color"] == charts.NHS_TEXT


def test_stacked_counts_carry_group_codes():
    df = stacked_frame().assign(code=["Y56", "Y56", "Y56", "Y60", "Y60"])
    chart = charts.stacked_counts("dspt", df, category_order=DSPT_ORDER, group_title="Region")
    assert [(row[0], row[-1]) for row in rows(chart)] == [("London", "Y56"), ("Midlands", "Y60")]
    assert chart.long_categories


@pytest.mark.parametrize(
    ("values", "ticks"),
    [
        ([0.5, 3.0, 12.0, 19.5], {"tick0": 0, "dtick": 1}),  # a bin holds at most 1: whole-number ticks every 1
        ([5.0] * 30 + [7.0], {"tickformat": "d"}),
    ],
)
def test_histogram_counts_have_whole_number_ticks(values, ticks):
    df = pd.DataFrame({"label": [str(i) for i in range(len(values))], "value": values})
    yaxis = charts.histogram("h", df, value_title="Value").figure["layout"]["yaxis"]
    assert {key: yaxis[key] for key in ticks} == ticks
    assert "dtick" not in yaxis or yaxis["dtick"] == 1


def test_histogram_of_percentages_prints_them_with_percent_and_carries_codes():
    df = histogram_frame().assign(code=["RA1", "RB1", "RC1", "RD1", "RE1"])
    chart = charts.histogram("devices", df, value_title="Unsupported devices (%)", label_title="Trust")
    assert [[cell["text"] for cell in row] for row in chart.rows][0] == ["D", "19.50%", "RD1"]
    assert chart.headers == ["Trust", "Unsupported devices (%)", "ODS code"]
    assert chart.long_categories


def test_movers_carry_codes_and_are_long_category_charts():
    chart = charts.movers("movers", movers_frame().assign(code=["RA1", "RB1", "RC1"]))
    assert [row[-1] for row in rows(chart)] == ["RC1", "RA1", "RB1"]
    assert chart.long_categories


@pytest.mark.parametrize(
    ("name", "long"),
    [("trend", False), ("pillar_comparison", True), ("distribution", True), ("deciles", True), ("gaps", True),
     ("indicator_comparison", True), ("ranked", True), ("heatmap", True), ("histogram", True), ("movers", True)],
)  # fmt: skip
def test_charts_with_many_category_rows_say_so(name, long):
    chart = build(name)
    assert chart.long_categories is long
    assert chart.__getstate__()["long_categories"] is long


def test_contrast_ratio_and_text_colour_follow_wcag():
    assert charts.contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21)
    assert charts.contrast_ratio("#005EB8", "#FFFFFF") == pytest.approx(6.38, abs=0.01)
    assert charts.text_colour_on("#FFFFFF") == charts.NHS_TEXT
    assert charts.text_colour_on(charts.NHS_DARK_BLUE) == "#FFFFFF"
    # Every colour of the heatmap's scale gets text of at least 4.5:1.
    for step in range(101):
        cell = charts.colour_at(charts.SEQUENTIAL_BLUES, step / 100)
        assert charts.contrast_ratio(charts.text_colour_on(cell), cell) >= 4.5, cell


def test_colour_at_interpolates_the_scale_in_rgb():
    scale = [[0.0, "#000000"], [0.5, "#FF0000"], [1.0, "#FFFFFF"]]
    assert charts.colour_at(scale, 0) == "#000000"
    assert charts.colour_at(scale, 0.25) == "#800000"
    assert charts.colour_at(scale, 0.75) == "#FF8080"
    assert charts.colour_at(scale, 1) == "#FFFFFF"


def figure_variants():
    """Every builder's figure, and the variants that draw more: references, runs, ordered colours."""
    references = pd.DataFrame({"name": ["England"], "mean": [3.0], "q1": [2.5], "q3": [3.5], "n": [200]})
    heat_references = heatmap_frame().assign(label="England mean")
    runs = trend_frame().assign(run=lambda f: np.where(f["cycle_year"] < 2025, "Published", "Entered here"))
    return [
        *(build(name) for name in BUILDS),
        charts.ranked("r", ranked_frame(), references=references),
        charts.heatmap("h", heatmap_frame(), references=heat_references),
        charts.trend("t", runs),
        charts.stacked_counts("s", stacked_frame(), category_order=DSPT_ORDER, ordered=True),
    ]


def test_every_figure_is_valid_in_plotlys_schema():
    import plotly.graph_objects as go

    for chart in figure_variants():
        go.Figure(chart.figure)  # raises on any property Plotly does not know or a value of the wrong type


# --- Table rows and CSV --------------------------------------------------------------------------------------------


def test_table_rows_format_numbers_for_people():
    chart = build("ranked")
    assert chart.columns == [
        {"text": "Name", "numeric": False, "unit": ""},
        {"text": "Mean score", "numeric": True, "unit": ""},
        {"text": "Lower quartile", "numeric": True, "unit": ""},
        {"text": "Upper quartile", "numeric": True, "unit": ""},
        {"text": "Assessments", "numeric": True, "unit": ""},
    ]
    assert [cell["text"] for cell in chart.rows[2]] == ["North", "2.50", "2.00", "3.00", "10"]
    assert charts.table_rows(chart) == chart.rows
    assert all(cell["numeric"] for cell in chart.rows[0][1:])


def test_tables_print_flags_as_yes_or_no_and_a_unit_after_its_numbers():
    table = pd.DataFrame({"Trust": ["A", "B"], "Meets it": [True, False], "Devices (%)": [12.5, None]})
    chart = charts.Chart("t", "T", "D", {"data": [], "layout": {}}, table, units={"Devices (%)": "%"})
    assert [[cell["text"] for cell in row] for row in chart.rows] == [["A", "Yes", "12.50%"], ["B", "No", "No data"]]
    assert chart.columns[2] == {"text": "Devices (%)", "numeric": True, "unit": "%"}
    assert '<td class="nhsuk-table__cell">Yes</td>' in chart.table_html
    # The CSV keeps the number a number, and the flag as the table says it.
    assert charts.chart_csv(chart).splitlines()[1:] == ["A,Yes,12.5", "B,No,"]


def test_csv_neutralises_formulas_in_text_but_not_numbers():
    table = pd.DataFrame(
        {
            "=Name": ["=1+1", "+44 161", "-x", "@SUM(A1)", "\tTab", "\rReturn", "Plain – text"],
            "Change": [-1.5, 2.0, 0.0, -3.0, 1.0, 1.0, 1.0],
        }
    )
    chart = charts.Chart("t", "T", "D", {"data": [], "layout": {}}, table)
    read = pd.read_csv(io.StringIO(charts.chart_csv(chart)))
    assert list(read.columns) == ["'=Name", "Change"]
    assert read["'=Name"].tolist() == ["'=1+1", "'+44 161", "'-x", "'@SUM(A1)", "'\tTab", "'\rReturn", "Plain – text"]
    assert read["Change"].tolist() == [-1.5, 2.0, 0.0, -3.0, 1.0, 1.0, 1.0]
    assert ",-1.5\r\n" in charts.chart_csv(chart)  # numbers are written as they are


def test_csv_rounds_numbers_as_the_table_shows_them():
    table = pd.DataFrame({"Trust": ["A", "B"], "Score": [2.3333333333333335, -0.001], "Assessments": [12, 5]})
    chart = charts.Chart("t", "T", "D", {"data": [], "layout": {}}, table)
    assert [cell["text"] for cell in chart.rows[0]] == ["A", "2.33", "12"]
    assert charts.chart_csv(chart).splitlines() == ["Trust,Score,Assessments", "A,2.33,12", "B,0.0,5"]


def test_csv_carries_the_cycle_and_source_on_every_row_after_the_table():
    chart = build("ranked", ranked_frame().assign(code=["Y63", "Y59", "Y61"]))
    lines = charts.chart_csv(chart, cycle=2026, published=False).splitlines()
    assert lines[0] == "Name,Mean score,Lower quartile,Upper quartile,Assessments,ODS code,Cycle,Source"
    assert lines[1] == f"South,3.5,3.0,4.0,20,Y59,2026,{charts.SOURCE_ENTERED}"
    assert all(line.endswith(f",2026,{charts.SOURCE_ENTERED}") for line in lines[1:])
    published = charts.chart_csv(chart, cycle=2025, published=True).splitlines()
    assert published[1].endswith(f",2025,{charts.SOURCE_PUBLISHED}")


def test_csv_of_a_table_with_its_own_cycles_and_sources_adds_none():
    runs = trend_frame().assign(source=charts.SOURCE_PUBLISHED)
    lines = charts.chart_csv(charts.trend("t", runs), cycle=2026, published=False).splitlines()
    assert lines[0] == "Cycle,Source,Overall,Well Led"
    assert lines[1] == f"2023,{charts.SOURCE_PUBLISHED},2.0,"


def test_csv_of_an_empty_chart_is_its_header():
    assert charts.chart_csv(build("ranked", ranked_frame().iloc[0:0])) == (
        "Name,Mean score,Lower quartile,Upper quartile,Assessments\r\n"
    )


# --- Template include ----------------------------------------------------------------------------------------------


def render(chart, csv_url="/ics/QOP/charts/pillars.csv"):
    return render_to_string("reports/_chart.html", {"chart": chart, "csv_url": csv_url})


def test_include_renders_title_description_chart_json_table_and_csv_link():
    chart = build("pillar_comparison")
    html = render(chart)
    assert '<h3 class="nhsuk-heading-s nhsuk-u-margin-bottom-2" id="chart-pillars-title">' in html
    assert "Pillar scores against comparators</h3>" in html
    assert chart.description.replace("'", "&#x27;") in html
    drawing = 'id="chart-pillars" data-chart-id="pillars" data-long-categories aria-hidden="true" hidden></div>'
    assert f'<div class="app-chart" {drawing}' in html

    script = re.search(r'<script id="chart-pillars-data" type="application/json">(.*?)</script>', html, re.S)
    assert script and json.loads(script.group(1)) == chart.figure

    assert "Show the data as a table" in html
    assert '<caption class="nhsuk-table__caption nhsuk-table__caption--s" id="chart-pillars-caption">' in html
    assert '<th scope="col" class="nhsuk-table__header">Pillar</th>' in html
    assert '<th scope="col" class="nhsuk-table__header nhsuk-table__header--numeric">ICS mean</th>' in html
    assert '<th scope="row" class="nhsuk-table__header">Well Led</th>' in html
    assert '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">3.25</td>' in html
    assert html.count('<tr class="nhsuk-table__row">') == 1 + len(PILLARS)
    assert '<a class="nhsuk-link" href="/ics/QOP/charts/pillars.csv" download>Download this data (CSV)' in html


def test_include_escapes_text_and_keeps_the_json_inert():
    df = pillar_frame()
    df.loc[0, "pillar_name"] = "</script><script>alert(1)</script>"
    html = render(charts.pillar_comparison("pillars", df, title="<b>Title</b>"))
    assert "<b>Title</b>" not in html and "&lt;b&gt;Title&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html


def test_include_for_an_empty_chart_says_so_and_draws_nothing():
    html = render(build("heatmap", heatmap_frame().iloc[0:0]))
    assert "Pillar scores by organisation" in html
    assert "No data for this chart yet." in html
    assert "app-chart" in html  # the figure's own class
    assert "data-chart-id" not in html and "application/json" not in html
    assert "<table" not in html and "Download this data" not in html


def test_chart_scripts_load_only_the_chart_module_which_fetches_plotly_itself():
    html = render_to_string("reports/_chart_scripts.html")
    # charts.js fetches plotly.js only when the page has a chart to draw; the URL is the hashed one in production.
    assert (
        '<script type="module" src="/static/js/charts.js" data-plotly="/static/dist/js/plotly.min.js"></script>' in html
    )
    assert html.count("<script") == 1  # nothing else, nothing inline


# --- Front-end wiring ----------------------------------------------------------------------------------------------


def built_bundle_banner() -> str:
    served = finders.find("dist/js/plotly.min.js")
    if served is None:
        pytest.skip("static files not built (npm run build)")
    return Path(served).read_text(encoding="utf-8")[:200]


def test_the_plotly_bundle_has_exactly_the_trace_types_the_charts_draw():
    # What the build bundled, as the built file's banner says, against what the chart builders actually draw.
    banner = built_bundle_banner()
    assert banner.startswith("/*! plotly.js v")
    bundled = set(re.search(r"\(([a-z ]+)\)", banner).group(1).split()) | {"scatter"}  # scatter is in the core
    drawn = {trace.get("type", "scatter") for name in BUILDS for trace in build(name).figure["data"]}
    # A trace type drawn but not bundled leaves its charts blank; one bundled but not drawn is bytes for nothing.
    assert bundled == drawn


def test_python_plotly_bundle_is_not_served():
    # Python's plotly package ships the full plotly.min.js (~1.4 MB gzip); only our partial bundle is a static file.
    assert finders.find("plotly.min.js") is None
    assert finders.find("package_data/plotly.min.js") is None
    assert built_bundle_banner().startswith("/*! plotly.js v")
