"""The ICS board pack laid out as a board paper: page 1 its headline and summary (placed by the page), then each
section with its lead chart, the EPR, cyber and legacy IT sections with their lead chart's table kept beside it,
and an appendix with the table of every chart, numbered so the body can point to it. A pure function of the
dashboard: what is drawn where, no new figures."""

from dataclasses import dataclass, field

from reports.dashboards.charts import Chart
from reports.dashboards.sections import Dashboard, Section

# Where reports/_board_pack.html leaves room, after the appendix (the body keeps to six pages), for what is drawn on
# every request rather than cached with the dashboard: the member trusts' improvement plans, which change with no
# summary.
LIVE_PART_SLOT = "<!-- board-pack-live-part -->"


@dataclass
class PackSection:
    section: Section
    lead: Chart | None
    # A gap section's lead table (who misses which target, by how much) is the point of the page: it stays with its
    # chart. Other lead charts' tables are in the appendix with the rest.
    lead_table: bool
    # The overview and each gap section open a page; the shorter sections after them share one.
    starts_page: bool
    # Numbers of this section's tables in the appendix, for the "see A3, A4" line.
    appendix_numbers: list[int] = field(default_factory=list)


@dataclass
class AppendixTable:
    number: int
    chart: Chart


@dataclass
class BoardPack:
    sections: list[PackSection]
    appendix: list[AppendixTable]


def board_pack(dashboard: Dashboard) -> BoardPack:
    gap_anchors = set(dashboard.theme_anchors().values())
    sections, appendix = [], []
    for section in dashboard.sections:
        drawn = [chart for chart in section.charts if not chart.is_empty]
        lead = drawn[0] if drawn and section.lead_chart_in_pack else None
        is_gap = section.anchor in gap_anchors
        pack = PackSection(section, lead, lead_table=is_gap, starts_page=is_gap or not sections)
        for chart in drawn:
            if chart is lead and pack.lead_table:
                continue
            appendix.append(AppendixTable(len(appendix) + 1, chart))
            pack.appendix_numbers.append(len(appendix))
        sections.append(pack)
    return BoardPack(sections, appendix)
