"""The board pack's layout (config.pages.board_pack): which chart leads each section, which tables stay beside their
chart, and the numbered appendix the body points to."""

import pandas as pd

from config.pages.board_pack import board_pack
from reports.dashboards.charts import Chart
from reports.dashboards.sections import Dashboard, Section


def chart(id: str, rows: int = 2) -> Chart:
    figure = {"data": [{"type": "bar", "x": list(range(rows)), "y": list(range(rows))}], "layout": {}}
    return Chart(id, id.capitalize(), "", figure, pd.DataFrame({"x": list(range(rows))}))


def test_each_section_leads_with_its_first_chart_and_every_other_table_is_numbered_in_the_appendix():
    dashboard = Dashboard(
        year=2026,
        cycles=[2026],
        sections=[
            Section("Member trusts against the seven pillars", charts=[chart("heatmap"), chart("distribution")]),
            Section("EPR gap", charts=[chart("epr-targets"), chart("epr-below-1"), chart("epr-suppliers")]),
            Section("Cyber gap", charts=[chart("cyber-targets", rows=0), chart("dspt")]),
            Section("Submission progress", charts=[chart("progress")]),
            Section("Movement since the previous cycle", notes=["No earlier comparable cycle."]),
        ],
    )

    pack = board_pack(dashboard)

    assert [part.lead.id if part.lead else None for part in pack.sections] == [
        "heatmap",
        "epr-targets",
        "dspt",  # an empty chart never leads
        "progress",
        None,
    ]
    # A gap section's lead table stays with its chart; every other table is in the appendix, in page order.
    assert [part.lead_table for part in pack.sections] == [False, True, True, False, False]
    assert [(table.number, table.chart.id) for table in pack.appendix] == [
        (1, "heatmap"),
        (2, "distribution"),
        (3, "epr-below-1"),
        (4, "epr-suppliers"),
        (5, "progress"),
    ]
    assert [part.appendix_numbers for part in pack.sections] == [[1, 2], [3, 4], [], [5], []]
    # The overview and each gap section open a page; the short sections after them share one.
    assert [part.starts_page for part in pack.sections] == [True, True, True, False, False]
