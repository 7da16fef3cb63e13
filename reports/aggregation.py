"""Pure aggregation: pandas frames in, summary frames out. No database here, so every rule is tested with
hand-made frames (see tests/reports/test_aggregation.py). reports/summaries.py reads the frames and writes the rows.

The unit of every aggregate is the assessment (one provider × care setting return): an area's figure is the plain
mean and spread over its assessments; a trust's own figure is the mean of its care settings. ICBs' own returns are
never mixed into provider aggregates.
"""

import numpy as np
import pandas as pd

OVERALL = ("overall", "Overall", 0)
DECILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
ORG_COLUMNS = [
    "assessment_id",
    "cycle_year",
    "region_code",
    "region_name",
    "ics_code",
    "ics_name",
    "org_code",
    "org_name",
    "org_type",
    "trust_type",
    "care_setting",
    "source",
    "status",
    "is_demo",
]
PILLAR_COLUMNS = [*ORG_COLUMNS, "pillar_code", "pillar_name", "pillar_position", "score"]
GAP_COLUMNS = [
    *ORG_COLUMNS,
    "theme",
    "theme_name",
    "target_description",
    "target",
    "measured",
    "measured_text",
    "gap",
    "met",
]
DOMAIN_COLUMNS = [*ORG_COLUMNS, "domain_code", "domain_name", "pillar_code", "pillar_name", "level"]
INDICATOR_COLUMNS = [*ORG_COLUMNS, "indicator_code", "number", "text"]
STAT_COLUMNS = [
    "cycle_year",
    "area_type",
    "area_code",
    "area_name",
    "metric_type",
    "metric_code",
    "metric_name",
    "metric_position",
    "n",
    "mean",
    "median",
    "q1",
    "q3",
    "deciles",
    "share_met",
    "measured_median",
    "source",
]


def target_code(theme: str, description: str) -> str:
    """A gap metric's code: a theme can have several targets in different units, so each target is its own metric."""
    slug = "-".join("".join(ch if ch.isalnum() else " " for ch in description.lower()).split())[:40]
    return f"{theme}:{slug}"


def pillar_scores(
    assessments: pd.DataFrame, pillar_means: pd.DataFrame, overall: pd.DataFrame, published: pd.DataFrame
) -> pd.DataFrame:
    """One row per assessment × pillar, plus its overall score.

    assessments: ORG_COLUMNS, one row per counted assessment.
    pillar_means: assessment_id, pillar_code, pillar_name, pillar_position, score (the mean of the pillar's domain
        levels, computed by the database).
    overall: assessment_id, weighted_sum, weight_total (over all answered domains).
    published: assessment_id, pillar_code, pillar_name, pillar_position, score ('overall' for the overall score).
    """
    weighted = overall.assign(
        pillar_code=OVERALL[0],
        pillar_name=OVERALL[1],
        pillar_position=OVERALL[2],
        score=overall["weighted_sum"] / overall["weight_total"],
    ).drop(columns=["weighted_sum", "weight_total"])
    scores = pd.concat([pillar_means, weighted, published], ignore_index=True)
    merged = assessments.merge(scores, on="assessment_id", how="inner")
    return merged[PILLAR_COLUMNS].sort_values(["assessment_id", "pillar_position"]).reset_index(drop=True)


def domain_scores(assessments: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """answers: assessment_id, domain_code, domain_name, pillar_code, pillar_name, level."""
    return assessments.merge(answers, on="assessment_id", how="inner")[DOMAIN_COLUMNS]


def indicator_scores(assessments: pd.DataFrame, values: pd.DataFrame) -> pd.DataFrame:
    """One row per assessment × indicator value; numbers (and yes/no as 1/0) in `number`, the rest in `text`."""
    merged = assessments.merge(values, on="assessment_id", how="inner")
    if merged.empty:
        return pd.DataFrame(columns=INDICATOR_COLUMNS)
    is_number = merged["value"].map(lambda value: isinstance(value, int | float))
    merged["number"] = merged["value"].where(is_number).astype(float)
    merged["text"] = merged["value"].where(~is_number, "").astype(str)
    return merged[INDICATOR_COLUMNS]


def theme_levels(answers: pd.DataFrame) -> pd.DataFrame:
    """answers: assessment_id, level, themes (a list per domain) → assessment_id, theme, level (the mean)."""
    if answers.empty:
        return pd.DataFrame(columns=["assessment_id", "theme", "level"])
    exploded = answers.explode("themes").dropna(subset=["themes"]).rename(columns={"themes": "theme"})
    return exploded.groupby(["assessment_id", "theme"], as_index=False)["level"].mean()


def _measure(target: dict, levels: dict, values: dict) -> tuple[float | None, str, float | None, bool | None]:
    """What one assessment measured against one target: (measured number, measured text, gap, met)."""
    kind, goal = target["kind"], target["value"]
    if kind == "domain_level":
        level = levels.get(target["theme"])
        if level is None:
            return None, "", None, None
        gap = max(0.0, float(goal) - level)
        return level, "", gap, gap == 0
    value = values.get(target["indicator_code"])
    if value is None:
        return None, "", None, None
    if kind == "indicator_in":
        allowed = goal if isinstance(goal, list) else [goal]
        met = value in allowed or str(value) in [str(item) for item in allowed]
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        return number, "" if number is not None else str(value), 0.0 if met else 1.0, met
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None, str(value), None, None
    gap = max(0.0, value - float(goal)) if kind == "indicator_at_most" else max(0.0, float(goal) - value)
    return float(value), "", gap, gap == 0


def gap_scores(
    assessments: pd.DataFrame, levels: pd.DataFrame, values: pd.DataFrame, targets: pd.DataFrame
) -> pd.DataFrame:
    """One row per assessment × target of its cycle.

    levels: assessment_id, theme, level (from theme_levels).
    values: assessment_id, indicator_code, value (the assessment's own, or its trust's latest published snapshot).
    targets: cycle_year, theme, theme_name, kind, indicator_code, value, description.
    """
    if assessments.empty or targets.empty:
        return pd.DataFrame(columns=GAP_COLUMNS)
    levels_by = {key: dict(zip(g["theme"], g["level"], strict=True)) for key, g in levels.groupby("assessment_id")}
    values_by = {
        key: dict(zip(g["indicator_code"], g["value"], strict=True)) for key, g in values.groupby("assessment_id")
    }
    targets_by_cycle = {year: group.to_dict("records") for year, group in targets.groupby("cycle_year")}
    rows = []
    for assessment in assessments.to_dict("records"):
        for target in targets_by_cycle.get(assessment["cycle_year"], []):
            measured, measured_text, gap, met = _measure(
                target, levels_by.get(assessment["assessment_id"], {}), values_by.get(assessment["assessment_id"], {})
            )
            goal = target["value"]
            rows.append(
                {
                    **{column: assessment[column] for column in ORG_COLUMNS},
                    "theme": target["theme"],
                    "theme_name": target["theme_name"],
                    "target_description": target["description"],
                    "target": ", ".join(map(str, goal)) if isinstance(goal, list) else str(goal),
                    "measured": measured,
                    "measured_text": measured_text,
                    "gap": gap,
                    "met": met,
                }
            )
    return pd.DataFrame(rows, columns=GAP_COLUMNS)


AREA_KEYS = {
    # area type: (the column naming the area, the column naming it for people)
    "england": (None, None),
    "region": ("region_code", "region_name"),
    "ics": ("ics_code", "ics_name"),
    "peer": ("peer_code", "peer_name"),
    "trust": ("org_code", "org_name"),
}


def _with_peer_group(frame: pd.DataFrame) -> pd.DataFrame:
    """Peers are trusts of the same type making a return for the same care setting."""
    return frame.assign(
        peer_code=frame["trust_type"] + "|" + frame["care_setting"],
        peer_name=frame["trust_type"].str.replace("-", " ").str.capitalize()
        + " trusts, "
        + frame["care_setting"].str.replace("-", " "),
    )


def area_stats(
    scores: pd.DataFrame,
    *,
    metric_type: str,
    area_types=tuple(AREA_KEYS),
    metric_columns=("pillar_code", "pillar_name", "pillar_position"),
    value_column: str = "score",
) -> pd.DataFrame:
    """The spread of each metric over each area's provider assessments: n, mean, median, quartiles, deciles, and
    for gaps the share of assessments meeting the target.

    scores: PILLAR_COLUMNS (metric_type 'pillar'), or gap rows with the metric columns named and value column 'gap'
    (metric_type 'gap'). Quantiles are linear (as PostgreSQL's percentile_cont), computed per group in one pass."""
    providers = scores[(scores["org_type"] == "trust") & scores[value_column].notna()]
    if providers.empty:
        return pd.DataFrame(columns=STAT_COLUMNS)
    # The same order in a full rebuild and an incremental refresh, so the floating-point sums agree.
    providers = _with_peer_group(providers).sort_values("assessment_id")
    providers = providers.assign(value=providers[value_column].astype(float))
    if "met" in providers:
        providers = providers.assign(met_value=providers["met"].astype(float))
    if "measured" in providers:
        providers = providers.assign(measured_value=providers["measured"].astype(float))
    code_col, name_col, position_col = metric_columns
    frames = []
    for area_type in area_types:
        area_col, area_name_col = AREA_KEYS[area_type]
        framed = providers.assign(
            area_code=providers[area_col] if area_col else "E",
            area_name=providers[area_name_col] if area_col else "England",
        )
        keys = ["cycle_year", "source", "area_code", "area_name", code_col, name_col, position_col]
        grouped = framed.groupby(keys, sort=False)
        stats = grouped["value"].agg(n="count", mean="mean")
        quantiles = grouped["value"].quantile(sorted({0.25, 0.75, *DECILES})).unstack()
        stats["q1"], stats["median"], stats["q3"] = quantiles[0.25], quantiles[0.5], quantiles[0.75]
        stats["deciles"] = quantiles[DECILES].round(6).to_numpy().tolist()
        stats["share_met"] = grouped["met_value"].mean() if "met_value" in framed else None
        stats["measured_median"] = grouped["measured_value"].median() if "measured_value" in framed else None
        stats = stats.reset_index().rename(
            columns={code_col: "metric_code", name_col: "metric_name", position_col: "metric_position"}
        )
        frames.append(stats.assign(area_type=area_type, metric_type=metric_type))
    result = pd.concat(frames, ignore_index=True)
    result["metric_position"] = result["metric_position"].astype(int)
    result["n"] = result["n"].astype(int)
    return result[STAT_COLUMNS]


STATUSES = ["draft", "submitted", "returned", "approved", "published"]
PROGRESS_COLUMNS = ["cycle_year", "area_type", "area_code", "area_name", "expected", "not_started", *STATUSES]


def _in_area(frame: pd.DataFrame, area_type: str) -> pd.DataFrame:
    area_col, name_col = AREA_KEYS[area_type]
    if area_col is None:
        return frame.assign(area_code="E", area_name="England")
    return frame.assign(area_code=frame[area_col], area_name=frame[name_col])


def progress_stats(statuses: pd.DataFrame, expected: pd.DataFrame, area_types=("england", "region", "ics")):
    """Provider returns by status per area, against the returns due.

    statuses: cycle_year, region_code, region_name, ics_code, ics_name, status — one row per provider assessment.
    expected: the same area columns and `expected` — the returns due (for example per ICS)."""
    keys = ["cycle_year", "area_code", "area_name"]
    frames = []
    for area_type in area_types:
        counts = (
            _in_area(statuses, area_type).groupby([*keys, "status"]).size().unstack(fill_value=0)
            if not statuses.empty
            else None
        )
        due = _in_area(expected, area_type).groupby(keys)["expected"].sum() if not expected.empty else None
        if counts is None and due is None:
            continue
        if counts is None:
            table = due.to_frame()
        elif due is None:
            table = counts.assign(expected=0)
        else:
            table = counts.join(due, how="outer")
        table = table.reindex(columns=[*STATUSES, "expected"], fill_value=0).fillna(0).astype(int)
        started = table[STATUSES].sum(axis=1)
        table["not_started"] = (table["expected"] - started).clip(lower=0)
        table["expected"] = table["expected"].where(table["expected"] >= started, started)
        frames.append(table.reset_index().assign(area_type=area_type))
    if not frames:
        return pd.DataFrame(columns=PROGRESS_COLUMNS)
    return pd.concat(frames, ignore_index=True)[PROGRESS_COLUMNS]


def json_safe(value):
    """numpy scalars and NaN into plain Python for the ORM and JSON."""
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
