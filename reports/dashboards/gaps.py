"""Gaps to target: the one definition behind the gap panels (reports.dashboards.sections) and the headline
(reports.dashboards.headline), so that the two can never disagree.

A trust misses a target when at least one of its returns (care settings) is below it; the share meeting is trusts
meeting ÷ trusts with a value; "by how much" is the mean, over the trusts that miss, of each trust's largest gap, in
the target's unit: levels for level targets, percentage points for percentage targets, none for targets met or not.
Where the rows a viewer may read do not cover every return an area's aggregates count, the same figures come from
those aggregates (already scoped by `shown_to`, so over at least MIN_GROUP returns) and are counted in returns.

The cycle's targets and their units are read here and nowhere else; everything else is a pure function of frames.
"""

from typing import NamedTuple

import pandas as pd

from maturity.models import GapTarget, Indicator, IndicatorType, TargetKind
from reports.dashboards.charts import MET_OR_NOT
from reports.summaries import problems, rules

# The three gap themes every dashboard answers, in this order.
THEMES = (("epr", "EPR"), ("cyber", "Cyber"), ("legacy_it", "Legacy IT"))
LEVELS = "levels"
POINTS = "percentage points"
# The gap of an 'at most' or 'at least' target on an indicator that is a plain number, not a percentage.
NUMBERS = "units"
# Units in the order their charts appear.
UNIT_ORDER = (LEVELS, POINTS, MET_OR_NOT)


def read_frame(queryset, columns) -> pd.DataFrame:
    """The rows of a (scoped) summary queryset as a frame of these columns, in one query."""
    return pd.DataFrame(list(queryset.values_list(*columns)), columns=columns)


# --- The targets -------------------------------------------------------------------------------------------------


class Target(NamedTuple):
    """One gap target of a cycle, as the dashboards name it."""

    code: str  # the aggregates' metric code
    theme: str
    name: str  # what the analyst called it, e.g. "At most 5% of devices unsupported"
    unit: str  # the unit of its gap: LEVELS, POINTS, NUMBERS or MET_OR_NOT
    goal: str  # the target value in words, e.g. "At most 5%"

    @property
    def sized(self) -> bool:
        """Whether its gap has a size: a target met or not is only met or not."""
        return self.unit != MET_OR_NOT


def _number(value) -> str:
    return f"{float(value):g}"


def target_of(theme, kind, indicator_code, value, description, indicator_types: dict[str, str]) -> Target:
    """A target from its GapTarget fields; `indicator_types` (indicator code → value type) tells a percentage,
    whose gap is in percentage points, from a plain number."""
    percent = indicator_types.get(indicator_code) == IndicatorType.PERCENT
    sign = "%" if percent else ""
    if kind == TargetKind.DOMAIN_LEVEL:
        unit, goal = LEVELS, f"Level {_number(value)} or above"
    elif kind == TargetKind.INDICATOR_AT_MOST:
        unit, goal = POINTS if percent else NUMBERS, f"At most {_number(value)}{sign}"
    elif kind == TargetKind.INDICATOR_AT_LEAST:
        unit, goal = POINTS if percent else NUMBERS, f"At least {_number(value)}{sign}"
    else:
        allowed = value if isinstance(value, list) else [value]
        words = ["Yes" if item is True else "No" if item is False else str(item) for item in allowed]
        unit, goal = MET_OR_NOT, " or ".join(words)
    return Target(rules.target_code(theme, description), theme, description, unit, goal)


def targets(year: int) -> dict[str, Target]:
    """The cycle's gap targets (reference data set by analysts, not summaries) by metric code, in their order; two
    queries. A target the summaries could not use is left out here too: it has no figures (the refresh that
    skipped it says why on /summaries/)."""
    rows = [
        (theme, kind, code, value, description)
        for theme, kind, code, value, description in GapTarget.objects.filter(cycle__year=year).values_list(
            "theme", "kind", "indicator_code", "value", "description"
        )
        if problems.target_problem(year=year, theme=theme, kind=kind, value=value, description=description) is None
    ]
    indicator_types = dict(
        Indicator.objects.filter(framework__trust_cycles__year=year).values_list("code", "value_type")
    )
    found = [target_of(*row, indicator_types) for row in rows]
    return {target.code: target for target in found}


def of_theme(all_targets: dict[str, Target], theme: str) -> list[Target]:
    return [target for target in all_targets.values() if target.theme == theme]


# --- Gap rows, one per return and target --------------------------------------------------------------------------


GAP_COLUMNS = [
    "org_code",
    "org_name",
    "care_setting",
    "theme",
    "target_description",
    "measured",
    "measured_text",
    "target",
    "gap",
    "met",
]


def setting_name(care_setting: str) -> str:
    return care_setting.replace("-", " ").capitalize()


def gap_rows(queryset, current: dict[str, Target]) -> pd.DataFrame:
    """Gap rows (GAP_COLUMNS, from a scoped GapScore queryset) with the target's metric code, and what was measured
    as a number or a text; only the `current` targets' rows."""
    rows = read_frame(queryset, GAP_COLUMNS)
    pairs = list(zip(rows["theme"], rows["target_description"], strict=True))
    codes = {pair: rules.target_code(*pair) for pair in set(pairs)}
    rows["target_code"] = [codes[pair] for pair in pairs]
    # A yes/no indicator's value is stored as the text 'True' or 'False'.
    said = rows["measured_text"].replace({"True": "Yes", "False": "No"})
    said = said.where(said != "")
    rows["measured"] = rows["measured"].astype(object).where(rows["measured"].notna(), said)
    return rows[rows["target_code"].isin(current)]


TRUST_GAP_COLUMNS = [
    "target_code",
    "org_code",
    "org_name",
    "misses",
    "gap",
    "settings_below",
    "settings_measured",
    "settings",
    "measured",
]


def trust_gaps(rows: pd.DataFrame) -> pd.DataFrame:
    """Each trust's position on each target it has a value for, from its returns' gap rows (gap_rows): whether it
    misses it (at least one return below), its largest gap, how many of its care settings have a value and how many
    are below (and which), and what its worst return measured."""
    valued = rows[rows["gap"].notna()]
    if valued.empty:
        return pd.DataFrame(columns=TRUST_GAP_COLUMNS)
    keys = ["target_code", "org_code"]
    worst = valued.sort_values(["gap", "care_setting"], ascending=[False, True], kind="stable").drop_duplicates(keys)
    below = valued[valued["gap"] > 0]
    result = worst.set_index(keys)[["org_name", "gap", "measured"]]
    settings = below.groupby(keys)["care_setting"].agg(lambda s: ", ".join(sorted(map(setting_name, s))))
    result["settings"] = settings.reindex(result.index).fillna("")
    result["settings_below"] = below.groupby(keys).size().reindex(result.index).fillna(0).astype(int)
    result["settings_measured"] = valued.groupby(keys).size().reindex(result.index).astype(int)
    result["misses"] = result["settings_below"] > 0
    return result.reset_index()[TRUST_GAP_COLUMNS]


# --- Per target: counts, share meeting and mean gap ---------------------------------------------------------------


SUMMARY_COLUMNS = [
    "code",
    "target",
    "goal",
    "unit",
    "with_value",
    "meeting",
    "missing",
    "share_meeting",
    "mean_gap",
    "furthest",
]


def trust_summary(gaps_of_trusts: pd.DataFrame, of: list[Target]) -> pd.DataFrame:
    """Per target (in the order given) that any trust has a value for: trusts with a value, meeting and missing it,
    the share meeting it (%), the mean of the largest gaps of those missing it (none for targets met or not) and
    the trust furthest from it."""
    rows = []
    for target in of:
        trusts = gaps_of_trusts[gaps_of_trusts["target_code"] == target.code]
        if trusts.empty:
            continue
        missing = trusts[trusts["misses"]].sort_values(["gap", "org_name"], ascending=[False, True])
        sized = target.sized and not missing.empty
        rows.append(
            [
                target.code,
                target.name,
                target.goal,
                target.unit,
                len(trusts),
                len(trusts) - len(missing),
                len(missing),
                100 * (len(trusts) - len(missing)) / len(trusts),
                float(missing["gap"].mean()) if sized else None,
                str(missing["org_name"].iloc[0]) if sized else "",
            ]
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def return_summary(stats: pd.DataFrame, of: list[Target]) -> pd.DataFrame:
    """The same figures over returns, from an area's gap aggregates (metric_code, n, mean, share_met): the mean gap
    over all its returns, over those missing it, is mean ÷ (1 − share met), as a met return's gap is 0. No names."""
    by_code = stats.set_index("metric_code")
    rows = []
    for target in of:
        if target.code not in by_code.index:
            continue
        stat = by_code.loc[target.code]
        n, share = int(stat["n"]), float(stat["share_met"])
        meeting = round(share * n)
        sized = target.sized and meeting < n
        rows.append(
            [
                target.code,
                target.name,
                target.goal,
                target.unit,
                n,
                meeting,
                n - meeting,
                100 * share,
                float(stat["mean"]) / (1 - share) if sized else None,
                "",
            ]
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def rows_cover(rows: pd.DataFrame, stats: pd.DataFrame) -> bool:
    """Whether the gap rows read are every return the area's aggregates count (stats: metric_code, n), so figures
    per trust are the area's; a viewer who reads only some returns one by one gets the aggregates."""
    if stats.empty:
        return False
    counted = rows[rows["gap"].notna()].groupby("target_code").size()
    expected = stats.set_index("metric_code")["n"].astype(int)
    return counted.reindex(expected.index).fillna(0).astype(int).equals(expected)


def target_figures(rows: pd.DataFrame, stats: pd.DataFrame, of: list[Target]) -> tuple[pd.DataFrame, str]:
    """The figures of an area on some targets (a theme's) and what they count: "trusts" from the gap rows the
    viewer read where they cover the area's aggregates (`stats`: metric_code, n, mean, share_met, the area's only),
    else "returns" from the aggregates the viewer may see."""
    stats = stats[stats["metric_code"].isin([target.code for target in of])]
    rows = rows[rows["target_code"].isin([target.code for target in of])]
    if rows_cover(rows, stats):
        return trust_summary(trust_gaps(rows), of), "trusts"
    return return_summary(stats, of), "returns"
