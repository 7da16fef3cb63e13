"""Money and people: digital spend against the 5 % of budget benchmark and DDaT vacancy rates, the barriers NHS
England's reviews name, and whether spending more goes with higher scores. Pure functions over frames the dashboard
sections have already read, scoped to the viewer."""

import pandas as pd

from reports.summaries.rules import SPEND_BENCHMARK
from trusts.permissions import MIN_GROUP

SPEND = "digital_spend_pct"
VACANCIES = "ddat_vacancy_pct"
PHRASES = {SPEND: "digital spend as a share of budget", VACANCIES: "DDaT vacancy rate"}
# A difference in mean overall score smaller than this (a tenth of a level) is read as no clear link.
CLEAR_DIFFERENCE = 0.1


def link_sentence(points: pd.DataFrame, who: str) -> str:
    """The plain-English answer to "do those that spend more score higher?" over points with columns spend and
    score (one per trust, or per ICS; `who` names them in the plural as mid-sentence: "trusts", "ICSs"): the
    difference between the mean scores of those at or above the 5 % benchmark and those below, or "no clear link"
    when it is under a tenth of a level or one side is empty."""
    points = points.dropna(subset=["spend", "score"])
    if points.empty:
        return "No digital spend beside a score can be shown here, so no link can be read."
    at_or_above = points[points["spend"] >= SPEND_BENCHMARK]["score"]
    below = points[points["spend"] < SPEND_BENCHMARK]["score"]
    if at_or_above.empty or below.empty:
        side = "5 % or more" if below.empty else "less than 5 %"
        return f"No clear link can be read: all {who} shown spend {side} of their budget on digital."
    difference = at_or_above.mean() - below.mean()
    who = who[0].upper() + who[1:]
    if abs(difference) < CLEAR_DIFFERENCE:
        return f"No clear link: {who} spending 5 % or more score about the same as those spending less."
    direction = "higher" if difference > 0 else "lower"
    return f"{who} spending 5 % or more score {abs(difference):.1f} {direction} on average than those spending less."


def figure_sentences(stats: pd.DataFrame, hidden: set[str], place: str) -> list[str]:
    """One line per indicator for the area, from its AreaStat rows the viewer may read (columns metric_code, n,
    mean, median, share_met); `hidden` the indicators with a figure the viewer may not read (too few returns)."""
    shown = stats.set_index("metric_code") if not stats.empty else pd.DataFrame()
    lines = []
    for code in (SPEND, VACANCIES):
        name = PHRASES[code]
        if code in shown.index:
            row = shown.loc[code]
            line = f"{place}: median {name} {row['median']:.1f} %, over {int(row['n'])} returns"
            if code == SPEND and pd.notna(row["share_met"]):
                below = round((1 - row["share_met"]) * 100)
                line += f"; {below} % of them below the {SPEND_BENCHMARK:g} % benchmark"
            lines.append(line + ".")
        elif code in hidden:
            lines.append(f"{place}: {name}: fewer than {MIN_GROUP} returns: not shown.")
        else:
            lines.append(f"{place}: no {name} was reported.")
    return lines
