"""The summary tables as SQL: each statement computes one table's rows from the answers with joins, GROUP BY and
window functions and writes them with INSERT … SELECT, so no row passes through Python.

One statement serves PostgreSQL and SQLite wherever the two agree; the few places where they differ (reading a JSON
list, a date as text, building a JSON array, rounding) are in DIALECTS below, side by side. Values are always bound
as parameters; only table names (from the models' Meta) and these fragments are formatted into the text.

A statement is a pair (sql, params), run by reports.summaries.tables in its transaction. What selects the assessments,
summary rows, areas or cycles is a Filter given by the caller: SQL text with its parameters.

Rows are written in the order the tables depend on each other: assessment rows first (pillar, gap, indicator, domain),
then the area statistics from the pillar and gap rows just written (a trust's from its rows; an ICS's and the national
areas' from their counts by value, AreaValueCount, written from the same rows), so a full rebuild and an incremental
refresh read the same rows. Nothing here is quadratic: indicator values join on (assessment) and (trust), quantiles
come from one sort per area and metric (row_number() and count() windows, or running sums of the counts; linear
interpolation as pandas and percentile_cont)."""

from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection

from maturity.models import (
    COUNTED_STATUSES,
    Assessment,
    Cycle,
    CycleKind,
    Domain,
    DomainAnswer,
    GapTarget,
    IndicatorValue,
    Pillar,
    PublishedScore,
    Status,
    TargetKind,
    Theme,
)
from reports.models import (
    EVIDENCE_NONE,
    EVIDENCE_SELF_ASSERTED,
    EVIDENCE_VERIFIED,
    AreaStat,
    AreaValueCount,
    DomainScore,
    GapScore,
    IndicatorScore,
    PillarScore,
    ProgressStat,
)
from reports.summaries import problems, rules
from trusts.models import ICS, Region, Trust

THEME_POSITIONS = {theme: position for position, theme in enumerate(Theme.values, start=1)}
# Quantiles as twentieths, so their positions are integer arithmetic, the same in both databases:
# k / 20 for the 10th..90th percentiles (2, 4, … 18) and the quartiles (5, 10, 15).
DECILE_TWENTIETHS = [2, 4, 6, 8, 10, 12, 14, 16, 18]
QUARTILE_TWENTIETHS = {"q1": 5, "median": 10, "q3": 15}
STATUSES = [status.value for status in Status]

DIALECTS = {
    "postgresql": {
        # One row per domain and each theme code in its JSON list (anything but a list counts as no themes).
        "domain_themes": (
            "SELECT d.id AS domain_id, t.theme AS theme FROM {domain} d CROSS JOIN LATERAL "
            "jsonb_array_elements_text(CASE WHEN jsonb_typeof(d.themes) = 'array' THEN d.themes "
            "ELSE CAST('[]' AS jsonb) END) AS t(theme)"
        ),
        "date_text": "to_char({}, 'YYYY-MM-DD')",
        "json_array": "jsonb_build_array({})",
        "round6": "round(CAST({} AS numeric), 6)",
        # For this transaction only. The area statistics sort every score once per area type: in memory, not on
        # disk. And no JIT: the planner cannot see how short the theme lists are, so it would compile (seconds) to
        # save milliseconds.
        "prepare": ["SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off"],
        "bytewise": ' COLLATE "C"',
        "area_quantiles": "percentile_cont",
    },
    "sqlite": {
        "domain_themes": (
            "SELECT d.id AS domain_id, t.value AS theme FROM {domain} d, "
            "json_each(CASE WHEN json_type(d.themes) = 'array' THEN d.themes ELSE '[]' END) AS t"
        ),
        "date_text": "{}",  # SQLite keeps dates as ISO text already
        "json_array": "json_array({})",
        "round6": "round({}, 6)",
        "prepare": [],
        "bytewise": "",  # BINARY already
        "area_quantiles": "windows",
    },
}


def dialect() -> dict:
    return DIALECTS["postgresql" if connection.vendor == "postgresql" else "sqlite"]


def prepare() -> None:
    """Settings for the statements of one transaction (call it inside the transaction)."""
    with connection.cursor() as cursor:
        for statement in dialect()["prepare"]:
            cursor.execute(statement)


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def tables() -> dict:
    return {
        "assessment": _table(Assessment),
        "cycle": _table(Cycle),
        "region": _table(Region),
        "ics": _table(ICS),
        "trust": _table(Trust),
        "trust_settings": _table(Trust.care_settings.through),
        "answer": _table(DomainAnswer),
        "domain": _table(Domain),
        "pillar": _table(Pillar),
        "published": _table(PublishedScore),
        "indicator_value": _table(IndicatorValue),
        "pillar_score": _table(PillarScore),
        "gap_score": _table(GapScore),
        "indicator_score": _table(IndicatorScore),
        "domain_score": _table(DomainScore),
        "area_stat": _table(AreaStat),
        "area_value_count": _table(AreaValueCount),
        "progress_stat": _table(ProgressStat),
    }


@dataclass
class Filter:
    """A condition in SQL with its parameters."""

    sql: str = "1 = 1"
    params: list = field(default_factory=list)

    @classmethod
    def areas_of(cls, year: int, areas) -> "Filter":
        """The counts by value (v) of these (area type, area code) pairs in a cycle."""
        pairs = " OR ".join(["(v.area_type = %s AND v.area_code = %s)"] * len(areas))
        return cls(f"v.cycle_year = %s AND ({pairs or '1 = 0'})", [year, *(value for area in areas for value in area)])

    @classmethod
    def any_of(cls, column: str, values) -> "Filter":
        values = list(values)
        if not values:
            return cls("1 = 0")
        return cls(f"{column} IN ({', '.join(['%s'] * len(values))})", values)


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


def _rows_cte(name: str, columns: list[tuple[str, str]], rows: list[tuple]) -> tuple[str, list]:
    """A small constant table (`name`) of Python values: a typed empty first branch, then one SELECT per row.
    The empty branch fixes the column types, and keeps the table valid when there are no rows."""
    typed = ", ".join(f"CAST(NULL AS {kind}) AS {column}" for column, kind in columns)
    branches = [f"SELECT {typed} WHERE 1 = 0"]
    params = []
    for row in rows:
        branches.append(f"SELECT {_placeholders(row)}")
        params.extend(row)
    return f"{name} AS ({' UNION ALL '.join(branches)})", params


def _finite(number: str) -> str:
    """True when `number` is a finite number; NULL or false for none, NaN and infinities. x - x is 0 for every
    finite x and NaN for the others (NULL on SQLite, which keeps NaN as NULL), in both databases."""
    return f"({number} - {number} = 0)"


# --- The counted assessments and what they measured ---------------------------------------------------------------

ORG_COLUMNS = rules.ORG_COLUMNS


def _org_cte(where: Filter) -> tuple[str, list]:
    """org: the counted assessments `where` selects (a, c: assessment and cycle), with who they belong to as the
    summary rows name it. A trust's return is the trust's; an ICB's own return is the ICS's."""
    sql = """org AS (
        SELECT a.id AS assessment_id, c.year AS cycle_year, r.code AS region_code, r.name AS region_name,
               i.code AS ics_code, i.name AS ics_name,
               COALESCE(t.code, i.code) AS org_code, COALESCE(t.name, i.name) AS org_name,
               CASE WHEN a.trust_id IS NULL THEN 'ics' ELSE 'trust' END AS org_type,
               COALESCE(t.trust_type, '') AS trust_type, COALESCE(a.care_setting_id, '') AS care_setting,
               a.source AS source, a.status AS status, a.is_demo AS is_demo, a.trust_id AS trust_id
        FROM {assessment} a
        JOIN {cycle} c ON c.id = a.cycle_id
        JOIN {region} r ON r.id = a.region_id
        JOIN {ics} i ON i.id = a.ics_id
        LEFT JOIN {trust} t ON t.id = a.trust_id
        WHERE a.status IN ({statuses}) AND {where})""".format(
        **tables(), statuses=_placeholders(COUNTED_STATUSES), where=where.sql
    )
    return sql, [str(status) for status in COUNTED_STATUSES] + where.params


def _org_select(alias: str = "org") -> str:
    return ", ".join(f"{alias}.{column}" for column in ORG_COLUMNS)


def _insert_columns(extra: list[str]) -> str:
    return ", ".join(connection.ops.quote_name(column) for column in [*ORG_COLUMNS, *extra])


def _values_ctes() -> str:
    """vals: each counted assessment's indicator values. Its own (not published as unknown); where it has none for
    an indicator, its trust's latest published snapshot, latest by (as_of, pk), an undated one oldest. A value is
    typed as the forms type it: yes/no first, then a number, then a date (ISO), then text; an empty value is none,
    and hides nothing behind it. `str` is the value as text, as Python would print it ('True' for yes). A number
    that is not finite (NaN, infinity: the forms never store one) is read as none, so it spoils no mean;
    unusable_numbers lists it for the run's problems.

    Both kinds of candidate are joined on an index (assessment, trust) and ranked in one window: the first wins.
    vals is MATERIALIZED, computed once per statement: left inline, PostgreSQL planned it inside a nested loop when
    the assessments were filtered by cycle, and ran its window again for every target row (a rebuild of three
    cycles took 6 times a full one)."""
    date_text = dialect()["date_text"].format("raw.v_date")
    finite = _finite('iv."number"')
    number = f'CASE WHEN {finite} THEN iv."number" END'
    return f"""candidates AS (
        SELECT org.assessment_id AS assessment_id, iv.indicator_code AS indicator_code, 0 AS published,
               iv.as_of AS as_of, iv.id AS id, {number} AS v_number, iv."text" AS v_text, iv."date" AS v_date,
               iv."boolean" AS boolv
        FROM org JOIN {{indicator_value}} iv ON iv.assessment_id = org.assessment_id
        WHERE iv.is_unknown = FALSE
        UNION ALL
        SELECT org.assessment_id, iv.indicator_code, 1, iv.as_of, iv.id, {number}, iv."text", iv."date",
               iv."boolean"
        FROM org JOIN {{indicator_value}} iv ON iv.trust_id = org.trust_id
        WHERE iv.assessment_id IS NULL AND iv.is_unknown = FALSE
    ), raw AS (
        SELECT candidates.*, ROW_NUMBER() OVER (
                   PARTITION BY assessment_id, indicator_code ORDER BY published, as_of DESC NULLS LAST, id DESC
               ) AS rn
        FROM candidates
    ), vals AS MATERIALIZED (
        SELECT raw.assessment_id AS assessment_id, raw.indicator_code AS indicator_code, raw.boolv AS boolv,
               CASE WHEN raw.boolv IS NULL THEN raw.v_number END AS num,
               CASE WHEN raw.boolv IS NOT NULL THEN (CASE WHEN raw.boolv THEN 'True' ELSE 'False' END)
                    WHEN raw.v_number IS NOT NULL THEN NULL
                    WHEN raw.v_date IS NOT NULL THEN {date_text}
                    ELSE raw.v_text END AS str
        FROM raw
        WHERE raw.rn = 1
          AND (raw.boolv IS NOT NULL OR raw.v_number IS NOT NULL OR raw.v_date IS NOT NULL OR raw.v_text <> '')
    )"""


def _not_finite(number: str) -> str:
    return f"{number} IS NOT NULL AND {_finite(number)} IS NOT TRUE"


def unusable_numbers(where: Filter) -> tuple[str, list]:
    """The stored numbers that the statements read as none because they are not finite, for the run's problems:
    (source, name, organisation code, cycle year, value), each once, from the counted assessments `where` selects:
    their own indicator values ('indicator', its code), their trusts' published snapshots ('snapshot', its code) and
    their published scores ('score', the pillar's name, empty for the overall), joined as the statements join them
    (on indexes), so a refresh of one assessment looks at that assessment only."""
    org, params = _org_cte(where)
    sql = f"""WITH {org}
    SELECT 'indicator' AS source, iv.indicator_code AS name, org.org_code AS org_code, org.cycle_year AS cycle_year,
           iv."number" AS value
    FROM org JOIN {{indicator_value}} iv ON iv.assessment_id = org.assessment_id
    WHERE iv.is_unknown = FALSE AND {_not_finite('iv."number"')}
    UNION
    SELECT 'snapshot', iv.indicator_code, org.org_code, org.cycle_year, iv."number"
    FROM org JOIN {{indicator_value}} iv ON iv.trust_id = org.trust_id
    WHERE iv.assessment_id IS NULL AND iv.is_unknown = FALSE AND {_not_finite('iv."number"')}
    UNION
    SELECT 'score', COALESCE(p.name, ''), org.org_code, org.cycle_year, ps.score
    FROM org JOIN {{published}} ps ON ps.assessment_id = org.assessment_id LEFT JOIN {{pillar}} p ON p.id = ps.pillar_id
    WHERE {_not_finite("ps.score")}
    ORDER BY 3, 1, 2"""
    return sql.format(**tables()), params


# --- Assessment rows ---------------------------------------------------------------------------------------------


def _has_evidence(alias: str) -> str:
    return f"({alias}.evidence_note <> '' OR {alias}.evidence_link <> '')"


def pillar_scores(where: Filter) -> tuple[str, list]:
    """One row per counted assessment × pillar: the mean of the pillar's domain levels; its overall score, the
    weighted mean of all its domain levels; and the scores NHS England published (no pillar: the overall), but for
    one that is not finite (unusable_numbers lists it).

    Beside each entered score, what verified evidence backs it: the
    share of its answered domains whose evidence a reviewer verified, and the same mean (overall: weighted) over
    those domains only, empty when there is none. A published score has neither."""
    org, params = _org_cte(where)
    columns = _insert_columns(
        ["pillar_code", "pillar_name", "pillar_position", "score", "verified_share", "verified_score"]
    )
    sql = f"""INSERT INTO {{pillar_score}} ({columns})
    WITH {org}, ans AS (
        SELECT x.assessment_id AS assessment_id, x.domain_id AS domain_id, x.level AS level,
               CASE WHEN x.evidence_verified_at IS NOT NULL AND {_has_evidence("x")} THEN 1 ELSE 0 END AS verified
        FROM {{answer}} x JOIN org ON org.assessment_id = x.assessment_id
        WHERE x.level IS NOT NULL
    ), scores AS (
        SELECT ans.assessment_id AS assessment_id, p.code AS pillar_code, p.name AS pillar_name,
               p.position AS pillar_position, CAST(SUM(ans.level) AS FLOAT) / COUNT(*) AS score,
               CAST(SUM(ans.verified) AS FLOAT) / COUNT(*) AS verified_share,
               CAST(SUM(CASE WHEN ans.verified = 1 THEN ans.level END) AS FLOAT) / NULLIF(SUM(ans.verified), 0)
                   AS verified_score
        FROM ans JOIN {{domain}} d ON d.id = ans.domain_id JOIN {{pillar}} p ON p.id = d.pillar_id
        GROUP BY ans.assessment_id, p.code, p.name, p.position
        UNION ALL
        SELECT ans.assessment_id, %s, %s, %s,
               CAST(SUM(ans.level * d.weight) AS FLOAT) / CAST(SUM(d.weight) AS FLOAT),
               CAST(SUM(ans.verified) AS FLOAT) / COUNT(*),
               CAST(SUM(CASE WHEN ans.verified = 1 THEN ans.level * d.weight END) AS FLOAT)
                   / CAST(NULLIF(SUM(CASE WHEN ans.verified = 1 THEN d.weight END), 0) AS FLOAT)
        FROM ans JOIN {{domain}} d ON d.id = ans.domain_id
        GROUP BY ans.assessment_id
        HAVING SUM(d.weight) <> 0
        UNION ALL
        SELECT ps.assessment_id, COALESCE(p.code, %s), COALESCE(p.name, %s), COALESCE(p.position, %s), ps.score,
               CAST(NULL AS FLOAT), CAST(NULL AS FLOAT)
        FROM {{published}} ps JOIN org ON org.assessment_id = ps.assessment_id
        LEFT JOIN {{pillar}} p ON p.id = ps.pillar_id
        WHERE {_finite("ps.score")}
    )
    SELECT {_org_select()}, s.pillar_code, s.pillar_name, s.pillar_position, s.score, s.verified_share,
           s.verified_score
    FROM org JOIN scores s ON s.assessment_id = org.assessment_id"""
    return sql.format(**tables()), [*params, *rules.OVERALL, *rules.OVERALL]


def domain_scores(where: Filter) -> tuple[str, list]:
    """One row per counted assessment × answered domain, with what backs its level: verified,
    self-asserted or none."""
    org, params = _org_cte(where)
    columns = _insert_columns(["domain_code", "domain_name", "pillar_code", "pillar_name", "level", "evidence"])
    sql = f"""INSERT INTO {{domain_score}} ({columns})
    WITH {org}
    SELECT {_org_select()}, d.code, d.name, p.code, p.name, x.level,
           CASE WHEN NOT {_has_evidence("x")} THEN %s WHEN x.evidence_verified_at IS NOT NULL THEN %s ELSE %s END
    FROM org JOIN {{answer}} x ON x.assessment_id = org.assessment_id
    JOIN {{domain}} d ON d.id = x.domain_id JOIN {{pillar}} p ON p.id = d.pillar_id
    WHERE x.level IS NOT NULL"""
    return sql.format(**tables()), [*params, EVIDENCE_NONE, EVIDENCE_VERIFIED, EVIDENCE_SELF_ASSERTED]


def indicator_scores(where: Filter) -> tuple[str, list]:
    """One row per counted assessment × indicator value: numbers (and yes/no as 1/0) in `number`, the rest in
    `text`."""
    org, params = _org_cte(where)
    sql = f"""INSERT INTO {{indicator_score}} ({_insert_columns(["indicator_code", "number", "text"])})
    WITH {org}, {_values_ctes()}
    SELECT {_org_select()}, v.indicator_code,
           CASE WHEN v.boolv IS NOT NULL THEN (CASE WHEN v.boolv THEN 1.0 ELSE 0.0 END) ELSE v.num END,
           CASE WHEN v.boolv IS NOT NULL OR v.num IS NOT NULL THEN '' ELSE v.str END
    FROM org JOIN vals v ON v.assessment_id = org.assessment_id"""
    return sql.format(**tables()), params


# --- Gap targets -------------------------------------------------------------------------------------------------


def _is_in(value, allowed: list) -> bool:
    """The rule of an 'indicator one of' target for one value, as Python compares: equal, or equal as text."""
    return value in allowed or str(value) in [str(item) for item in allowed]


def _number_matches(allowed: list) -> set[float]:
    """The numbers a measured number may be to be 'one of' `allowed`: the numbers in it, and the texts that a
    number prints as (a number x is in when str(x) is; str(float(s)) == s says s is how float(s) prints)."""
    numbers = {float(item) for item in allowed if isinstance(item, int | float)}
    for item in allowed:
        try:
            number = float(str(item))
        except ValueError:
            continue
        if str(number) == str(item):
            numbers.add(number)
    return numbers


class Targets(NamedTuple):
    rows: list[tuple]  # TARGET_COLUMNS
    allowed: list[tuple]  # ALLOWED_COLUMNS
    metrics: set[tuple]  # METRIC_COLUMNS
    problems: list[str]  # the targets left out, and why


def gap_target_rows(years=None) -> Targets:
    """The cycles' targets as rows for the gap statement, their allowed values ('one of' targets), and the
    (theme, description, metric code, theme position) of each, for the area statistics. A handful of rows: the
    rules that need Python (printing values, the metric slug) are applied to them here, not to every assessment.
    A target the refresh cannot use (reports.summaries.problems) is left out whole, as if it were not set: no gap
    rows, no metric; the others are computed as usual."""
    targets = GapTarget.objects.all()
    if years is not None:
        targets = targets.filter(cycle__year__in=list(years))
    labels = dict(Theme.choices)
    rows, allowed_rows, metrics, skipped = [], [], set(), []
    for pk, year, theme, kind, indicator_code, goal, description in targets.values_list(
        "pk", "cycle__year", "theme", "kind", "indicator_code", "value", "description"
    ):
        if problem := problems.target_problem(year=year, theme=theme, kind=kind, value=goal, description=description):
            skipped.append(problem)
            continue
        allowed = goal if isinstance(goal, list) else [goal]
        is_in = kind == TargetKind.INDICATOR_IN
        rows.append(
            (
                pk,
                year,
                theme,
                labels.get(theme),
                kind,
                indicator_code,
                None if is_in else float(goal),
                ", ".join(map(str, goal)) if isinstance(goal, list) else str(goal),
                description,
                _is_in(True, allowed),
                _is_in(False, allowed),
            )
        )
        if is_in:
            allowed_rows += [(pk, number, None) for number in sorted(_number_matches(allowed))]
            allowed_rows += [(pk, None, text) for text in sorted({str(item) for item in allowed})]
        metrics.add((theme, description, rules.target_code(theme, description), THEME_POSITIONS.get(theme)))
    return Targets(rows, allowed_rows, metrics, skipped)


TARGET_COLUMNS = [
    ("target_id", "INTEGER"),
    ("target_year", "INTEGER"),
    ("theme", "TEXT"),
    ("theme_name", "TEXT"),
    ("kind", "TEXT"),
    ("indicator_code", "TEXT"),
    ("goal", "FLOAT"),
    ("target_text", "TEXT"),
    ("description", "TEXT"),
    ("met_true", "BOOLEAN"),
    ("met_false", "BOOLEAN"),
]
ALLOWED_COLUMNS = [("target_id", "INTEGER"), ("num", "FLOAT"), ("txt", "TEXT")]
METRIC_COLUMNS = [("theme", "TEXT"), ("description", "TEXT"), ("code", "TEXT"), ("position", "INTEGER")]
AREA_INDICATOR_COLUMNS = [("code", "TEXT"), ("name", "TEXT"), ("position", "INTEGER"), ("benchmark", "FLOAT")]


def gap_scores(where: Filter, targets: Targets) -> tuple[str, list]:
    """One row per counted assessment × target of its cycle: what it measured, the gap to the target (0 when met;
    empty when nothing was measured) and whether it is met.

    A level target measures the mean level of the assessment's answered domains carrying the theme; 'at most' and
    'at least' targets measure a number; 'one of' targets any value (gap 1 when not one of them)."""
    org, org_params = _org_cte(where)
    targets_cte, target_params = _rows_cte("targets", TARGET_COLUMNS, targets.rows)
    allowed_cte, allowed_params = _rows_cte("allowed", ALLOWED_COLUMNS, targets.allowed)
    domain_themes = dialect()["domain_themes"]
    columns = _insert_columns(
        ["theme", "theme_name", "target_description", "target", "measured", "measured_text", "gap", "met"]
    )
    sql = f"""INSERT INTO {{gap_score}} ({columns})
    WITH {org}, {_values_ctes()}, domain_themes AS ({domain_themes}), theme_levels AS (
        SELECT x.assessment_id AS assessment_id, dt.theme AS theme,
               CAST(SUM(x.level) AS FLOAT) / COUNT(*) AS level
        FROM {{answer}} x JOIN org ON org.assessment_id = x.assessment_id
        JOIN domain_themes dt ON dt.domain_id = x.domain_id
        WHERE x.level IS NOT NULL AND dt.theme IS NOT NULL
        GROUP BY x.assessment_id, dt.theme
    ), {targets_cte}, {allowed_cte}, measured AS (
        SELECT {_org_select()}, t.target_id AS target_id, t.theme AS theme, t.theme_name AS theme_name,
               t.kind AS kind, t.goal AS goal, t.target_text AS target_text, t.description AS description,
               tl.level AS level, v.num AS num, v.str AS str,
               CASE WHEN v.assessment_id IS NULL THEN 0 ELSE 1 END AS has_value,
               CASE WHEN v.boolv IS NOT NULL THEN (CASE WHEN v.boolv THEN t.met_true ELSE t.met_false END)
                    WHEN v.num IS NOT NULL THEN EXISTS (
                        SELECT 1 FROM allowed al WHERE al.target_id = t.target_id AND al.num = v.num)
                    ELSE EXISTS (SELECT 1 FROM allowed al WHERE al.target_id = t.target_id AND al.txt = v.str)
               END AS is_in
        FROM org JOIN targets t ON t.target_year = org.cycle_year
        LEFT JOIN theme_levels tl
          ON t.kind = 'domain_level' AND tl.assessment_id = org.assessment_id AND tl.theme = t.theme
        LEFT JOIN vals v
          ON t.kind <> 'domain_level' AND v.assessment_id = org.assessment_id AND v.indicator_code = t.indicator_code
    ), gaps AS (
        SELECT m.*,
               CASE WHEN m.kind = 'domain_level' THEN m.level ELSE m.num END AS measured,
               CASE WHEN m.kind <> 'domain_level' AND m.has_value = 1 AND m.num IS NULL THEN m.str ELSE '' END
                   AS measured_text,
               CASE WHEN m.kind = 'domain_level' THEN
                        (CASE WHEN m.goal - m.level > 0 THEN m.goal - m.level WHEN m.level IS NOT NULL THEN 0.0 END)
                    WHEN m.kind = 'indicator_in' THEN
                        (CASE WHEN m.has_value = 0 THEN NULL WHEN m.is_in THEN 0.0 ELSE 1.0 END)
                    WHEN m.kind = 'indicator_at_most' THEN
                        (CASE WHEN m.num - m.goal > 0 THEN m.num - m.goal WHEN m.num IS NOT NULL THEN 0.0 END)
                    ELSE (CASE WHEN m.goal - m.num > 0 THEN m.goal - m.num WHEN m.num IS NOT NULL THEN 0.0 END)
               END AS gap
        FROM measured m
    )
    SELECT {_org_select("g")}, g.theme, g.theme_name, g.description, g.target_text, g.measured, g.measured_text,
           g.gap, CASE WHEN g.gap IS NULL THEN NULL WHEN g.gap = 0 THEN TRUE ELSE FALSE END
    FROM gaps g"""
    return sql.format(**tables()), [*org_params, *target_params, *allowed_params]


# --- Area statistics ---------------------------------------------------------------------------------------------

AREA_TYPES = tuple(rules.AREA_KEYS)
# What the batched follow-up of a refresh rewrites for the whole cycle: the areas that span England (a peer group
# is every trust of a type making a return for a care setting). One assessment's refresh rewrites its trust and ICS.
NATIONAL_AREA_TYPES = ("england", "region", "peer")
# The most telling first: the rows are sorted by these, and abbreviated keys work on the first.
STAT_GROUP = [
    "metric_code",
    "area_code",
    "area_type",
    "cycle_year",
    "source",
    "metric_type",
    "metric_name",
    "metric_position",
    "area_name",
]
GROUP = ", ".join(STAT_GROUP)


def _peer_name(trust_type: str, care_setting: str) -> str:
    """'acute-specialist' and 'mental-health' as 'Acute specialist trusts, mental health' (str.capitalize)."""
    spaced = f"replace({trust_type}, '-', ' ')"
    return (
        f"upper(substr({spaced}, 1, 1)) || lower(substr({spaced}, 2)) || ' trusts, ' "
        f"|| replace({care_setting}, '-', ' ')"
    )


def _area_columns(alias: str, collation: str = "") -> str:
    """The area a row counts in for each area type (joined as at.area_type): England, its region, ICS, peer group
    (trusts of the same type making a return for the same care setting) or trust."""
    code = f"""CASE at.area_type WHEN 'england' THEN 'E' WHEN 'region' THEN {alias}.region_code
        WHEN 'ics' THEN {alias}.ics_code WHEN 'peer' THEN {alias}.trust_type || '|' || {alias}.care_setting
        ELSE {alias}.org_code END"""
    name = f"""CASE at.area_type WHEN 'england' THEN 'England' WHEN 'region' THEN {alias}.region_name
        WHEN 'ics' THEN {alias}.ics_name WHEN 'peer' THEN {_peer_name(f"{alias}.trust_type", f"{alias}.care_setting")}
        ELSE {alias}.org_name END"""
    return f"({code}){collation} AS area_code, ({name}){collation} AS area_name"


def _in_areas(condition: str, areas: Filter, source: str = "src", extra: str = "src.met AS met") -> str:
    """Each row of `source` (src, or counted) once for each area type it counts in (the areas `areas` keeps). Texts
    compared bytewise: the rows are sorted by area and metric, and only equality matters."""
    text = dialect()["bytewise"]
    return f"""SELECT at.area_type{text} AS area_type, {_area_columns("src", text)}, src.cycle_year AS cycle_year,
               src.source{text} AS source, src.metric_type{text} AS metric_type,
               src.metric_code{text} AS metric_code, src.metric_name{text} AS metric_name,
               src.metric_position AS metric_position, src.value AS value, src.measured AS measured, {extra}
        FROM {source} src CROSS JOIN area_types at
        WHERE {condition} AND {areas.sql}"""


# The columns of src that place a row in an area of each type (rules.AREA_KEYS).
AREA_SOURCE_COLUMNS = {
    "england": (),
    "region": ("region_code", "region_name"),
    "ics": ("ics_code", "ics_name"),
    "peer": ("trust_type", "care_setting"),
    "trust": ("org_code", "org_name"),
}
METRIC_SOURCE_COLUMNS = ("cycle_year", "source", "metric_type", "metric_code", "metric_name", "metric_position")


def _counted_cte(area_types) -> str:
    """counted: src's rows as (value, measured, copies), by the columns that place them in `area_types`'s areas
    (the others left empty). An area of England counts tens of thousands of returns on a few hundred distinct
    values (scores are means of levels 1 to 5), so value_counts crosses the areas with a few thousand counted rows
    rather than with every row."""
    kept = [column for area_type in area_types for column in AREA_SOURCE_COLUMNS[area_type]]
    blank = [column for columns in AREA_SOURCE_COLUMNS.values() for column in columns if column not in kept]
    grouped = [*kept, *METRIC_SOURCE_COLUMNS, "value", "measured"]
    blanks = "".join(f"'' AS {column}, " for column in blank)
    return f"""counted AS (
        SELECT {", ".join(grouped)}, {blanks}CAST(COUNT(*) AS INTEGER) AS c, SUM(met) AS met_sum,
               CAST(COUNT(met) AS INTEGER) AS met_n
        FROM src
        GROUP BY {", ".join(grouped)}
    )"""


def _area_types_cte(area_types) -> tuple[str, list]:
    return _rows_cte("area_types", [("area_type", "TEXT")], [(area_type,) for area_type in area_types])


def _quantile(twentieths: int) -> str:
    """The linear quantile k/20 of a group ranked by rn (0-based) in cnt rows: x[lo] + (x[hi] - x[lo]) * frac, as
    pandas and percentile_cont compute it, with lo, hi and frac in integer arithmetic."""
    position = f"(MAX(cnt) - 1) * {twentieths}"
    low = f"MAX(CASE WHEN rn = (cnt - 1) * {twentieths} / 20 THEN value END)"
    high = f"MAX(CASE WHEN rn = ((cnt - 1) * {twentieths} + 19) / 20 THEN value END)"
    frac = f"CAST({position} - ({position} / 20) * 20 AS FLOAT) / 20"
    return f"{low} + ({high} - {low}) * {frac}"


QUANTILE_COLUMNS = [f"d{k}" for k in sorted({*DECILE_TWENTIETHS, *QUARTILE_TWENTIETHS.values()})]


# stats, for the methods that compute the quantiles and the gaps' measured medians apart: the two side by side.
_STATS_FROM_QUANTILES = f"""stats AS (
        SELECT q.*, mm.measured_median AS measured_median
        FROM quantiles q LEFT JOIN measured_medians mm
          ON {" AND ".join(f"mm.{column} = q.{column}" for column in STAT_GROUP)}
    )"""


def _stats_by_windows(areas: Filter) -> tuple[str, list]:
    """stats from in_areas in portable SQL: each group ranked by row_number() and count() windows, the quantiles
    picked from the ranks (the measured values of gaps ranked apart, so pillar scores are sorted once)."""
    quantiles = ",\n".join(f"{_quantile(int(column[1:]))} AS {column}" for column in QUANTILE_COLUMNS)
    median_low = "MAX(CASE WHEN mrn = (mcnt - 1) / 2 THEN measured END)"
    median_high = "MAX(CASE WHEN mrn = mcnt / 2 THEN measured END)"
    sql = f"""ranked AS (
        SELECT in_areas.*,
               ROW_NUMBER() OVER (PARTITION BY {GROUP} ORDER BY value) - 1 AS rn,
               COUNT(*) OVER (PARTITION BY {GROUP}) AS cnt
        FROM in_areas
    ), quantiles AS (
        SELECT {GROUP}, COUNT(*) AS n, AVG(value) AS mean, AVG(met) AS share_met,
               {quantiles}
        FROM ranked
        GROUP BY {GROUP}
    ), measured_ranked AS (
        SELECT {GROUP}, measured,
               ROW_NUMBER() OVER (PARTITION BY {GROUP} ORDER BY measured) - 1 AS mrn,
               COUNT(*) OVER (PARTITION BY {GROUP}) AS mcnt
        FROM ({_in_areas("src.metric_type = 'gap' AND src.measured IS NOT NULL", areas)}) gap_areas
    ), measured_medians AS (
        SELECT {GROUP}, ({median_low} + {median_high}) / 2 AS measured_median
        FROM measured_ranked
        GROUP BY {GROUP}
    ), {_STATS_FROM_QUANTILES}"""
    return sql, areas.params


def _stats_by_percentile_cont(areas: Filter) -> tuple[str, list]:
    """stats from in_areas with PostgreSQL's ordered-set aggregates: the same linear quantiles, a third of the time
    of the windows (one sort within each group rather than one of all rows)."""
    fractions = ", ".join(f"{int(column[1:]) / 20}" for column in QUANTILE_COLUMNS)
    columns = ", ".join(f"p.quantiles[{i}] AS {column}" for i, column in enumerate(QUANTILE_COLUMNS, start=1))
    sql = f"""percentiles AS (
        SELECT {GROUP}, COUNT(*) AS n, AVG(value) AS mean, AVG(met) AS share_met,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY measured) AS measured_median,
               percentile_cont(ARRAY[{fractions}]) WITHIN GROUP (ORDER BY value) AS quantiles
        FROM in_areas
        GROUP BY {GROUP}
    ), stats AS (
        SELECT {", ".join(f"p.{column}" for column in STAT_GROUP)}, p.n, p.mean, p.share_met, p.measured_median,
               {columns}
        FROM percentiles p
    )"""
    return sql, []


def _value_at(rank: str, value: str) -> str:
    """The value at 0-based `rank` of a group counted by distinct value: the one whose run of copies
    [first, first + c) holds the rank."""
    return f"MAX(CASE WHEN first <= {rank} AND {rank} < first + c THEN {value} END)"


def _counted_quantile(twentieths: int) -> str:
    """_quantile over a group counted by distinct value (cnt rows in all)."""
    position = f"(MAX(cnt) - 1) * {twentieths}"
    low = _value_at(f"(cnt - 1) * {twentieths} / 20", "value")
    high = _value_at(f"((cnt - 1) * {twentieths} + 19) / 20", "value")
    frac = f"CAST({position} - ({position} / 20) * 20 AS FLOAT) / 20"
    return f"{low} + ({high} - {low}) * {frac}"


def _stats_by_counts() -> str:
    """stats from in_areas counted by distinct value (AreaValueCount rows): each group's rows are reduced to
    (value, copies), then ranked by running sums of the copies. The same linear quantiles as the
    windows; what it sorts is as many rows as a group has distinct values (scores are means of levels 1 to 5, so
    a few hundred at most), not as many as it has rows."""
    quantiles = ",\n".join(f"{_counted_quantile(int(column[1:]))} AS {column}" for column in QUANTILE_COLUMNS)
    ranks = (
        f"SUM(c) OVER (PARTITION BY {GROUP} ORDER BY {{0}} ROWS UNBOUNDED PRECEDING) - c AS first, "
        f"SUM(c) OVER (PARTITION BY {GROUP}) AS cnt"
    )
    sql = f"""value_counts AS (
        SELECT {GROUP}, value, CAST(SUM(c) AS INTEGER) AS c, SUM(met_sum) AS met_sum, SUM(met_n) AS met_n
        FROM in_areas
        GROUP BY {GROUP}, value
    ), value_ranks AS (
        SELECT value_counts.*, {ranks.format("value")}
        FROM value_counts
    ), quantiles AS (
        SELECT {GROUP}, SUM(c) AS n, SUM(value * c) / SUM(c) AS mean,
               SUM(met_sum) / NULLIF(SUM(met_n), 0) AS share_met,
               {quantiles}
        FROM value_ranks
        GROUP BY {GROUP}
    ), measured_counts AS (
        SELECT {GROUP}, measured, CAST(SUM(c) AS INTEGER) AS c
        FROM in_areas
        WHERE metric_type = 'gap' AND measured IS NOT NULL
        GROUP BY {GROUP}, measured
    ), measured_ranks AS (
        SELECT measured_counts.*, {ranks.format("measured")}
        FROM measured_counts
    ), measured_medians AS MATERIALIZED (
        -- Computed once: where the counts have no statistics yet (just written), PostgreSQL guessed one row and
        -- joined this by a nested loop that sorted it again for every area and metric (0.9 s rather than 50 ms).
        SELECT {GROUP},
               ({_value_at("(cnt - 1) / 2", "measured")} + {_value_at("cnt / 2", "measured")}) / 2 AS measured_median
        FROM measured_ranks
        GROUP BY {GROUP}
    ), {_STATS_FROM_QUANTILES}"""
    return sql


# How area_stats computes the quantiles from the rows: the same figures both ways (and as _stats_by_counts, from
# the counts by value).
STATS_METHODS = {
    "windows": _stats_by_windows,
    "percentile_cont": _stats_by_percentile_cont,
}


def _src_cte(rows: Filter, metrics: set[tuple]) -> tuple[str, list]:
    """src: every provider score the area statistics count, from the pillar, gap and indicator rows `rows` selects
    (s): one row per metric with its value (a pillar score, a gap, an indicator's number, a pillar's verified
    evidence), met (gaps and benchmarked indicators: 1 or 0) and measured (gaps), with the columns that place it in
    areas. The CTEs it needs come with it."""
    metrics_cte, metric_params = _rows_cte("metrics", METRIC_COLUMNS, sorted(metrics))
    indicators_cte, indicator_params = _rows_cte("area_indicators", AREA_INDICATOR_COLUMNS, rules.AREA_INDICATORS)
    verified_cte, verified_params = _rows_cte(
        "verified_measures", [("measure", "TEXT")], [(measure,) for measure in rules.VERIFIED_MEASURES]
    )
    sql = f"""{metrics_cte}, {indicators_cte}, {verified_cte}, src AS (
        SELECT 'pillar' AS metric_type, s.cycle_year AS cycle_year, s.source AS source, s.region_code AS region_code,
               s.region_name AS region_name, s.ics_code AS ics_code, s.ics_name AS ics_name,
               s.org_code AS org_code, s.org_name AS org_name, s.trust_type AS trust_type,
               s.care_setting AS care_setting, s.pillar_code AS metric_code, s.pillar_name AS metric_name,
               s.pillar_position AS metric_position, s.score AS value,
               CAST(NULL AS FLOAT) AS met, CAST(NULL AS FLOAT) AS measured
        FROM {{pillar_score}} s
        WHERE s.org_type = 'trust' AND s.score IS NOT NULL AND {rows.sql}
        UNION ALL
        SELECT 'gap', s.cycle_year, s.source, s.region_code, s.region_name, s.ics_code, s.ics_name, s.org_code,
               s.org_name, s.trust_type, s.care_setting, mt.code, s.target_description, mt.position, s.gap,
               CASE WHEN s.met IS NULL THEN NULL WHEN s.met THEN 1.0 ELSE 0.0 END, s.measured
        FROM {{gap_score}} s JOIN metrics mt ON mt.theme = s.theme AND mt.description = s.target_description
        WHERE s.org_type = 'trust' AND s.gap IS NOT NULL AND {rows.sql}
        UNION ALL
        SELECT 'indicator', s.cycle_year, s.source, s.region_code, s.region_name, s.ics_code, s.ics_name, s.org_code,
               s.org_name, s.trust_type, s.care_setting, ai.code, ai.name, ai.position, s.number,
               CASE WHEN ai.benchmark IS NULL THEN NULL WHEN s.number >= ai.benchmark THEN 1.0 ELSE 0.0 END,
               CAST(NULL AS FLOAT)
        FROM {{indicator_score}} s JOIN area_indicators ai ON ai.code = s.indicator_code
        WHERE s.org_type = 'trust' AND s.number IS NOT NULL AND {rows.sql}
        UNION ALL
        SELECT 'evidence', s.cycle_year, s.source, s.region_code, s.region_name, s.ics_code, s.ics_name,
               s.org_code, s.org_name, s.trust_type, s.care_setting, ve.measure || ':' || s.pillar_code,
               s.pillar_name, s.pillar_position,
               CASE ve.measure WHEN 'verified_share' THEN s.verified_share ELSE s.verified_score END,
               CAST(NULL AS FLOAT), CAST(NULL AS FLOAT)
        FROM {{pillar_score}} s CROSS JOIN verified_measures ve
        WHERE s.org_type = 'trust' AND s.verified_share IS NOT NULL AND {rows.sql}
          AND (ve.measure = 'verified_share' OR s.verified_score IS NOT NULL)
    )"""
    return sql, [*metric_params, *indicator_params, *verified_params, *rows.params * 4]


def _area_stats_insert(ctes: str) -> str:
    """The INSERT of the area statistics from `ctes`, which end with stats."""
    dialect_ = dialect()
    deciles = dialect_["json_array"].format(", ".join(dialect_["round6"].format(f"d{k}") for k in DECILE_TWENTIETHS))
    sql = f"""INSERT INTO {{area_stat}} ({GROUP}, n, mean, median, q1, q3, deciles, share_met, measured_median)
    WITH {ctes}
    SELECT {GROUP}, n, mean, d{QUARTILE_TWENTIETHS["median"]}, d{QUARTILE_TWENTIETHS["q1"]},
           d{QUARTILE_TWENTIETHS["q3"]}, {deciles}, share_met, measured_median
    FROM stats"""
    return sql.format(**tables())


def area_stats(rows: Filter, areas: Filter, area_types, metrics: set[tuple], method=None) -> tuple[str, list]:
    """The spread of each metric over each area's provider assessments, from the pillar, gap and indicator rows
    already written: n, mean, quartiles, deciles, and for gaps the share meeting the target and the median measured;
    for the indicators of rules.AREA_INDICATORS (metric_type 'indicator') the share at or above their benchmark; and
    per pillar the verified evidence behind the scores (metric_type 'evidence', rules.verified_metric).

    rows selects the summary rows read (s: a pillar or gap score), areas the areas written (area_type and the
    row's columns); metrics the gap metrics as gap_target_rows gives them; method how the quantiles are computed
    (STATS_METHODS; the dialect's by default). The areas of many returns (COUNTED_AREA_TYPES) are written from
    their counts by value instead (area_stats_from_counts): the same figures."""
    src_cte, src_params = _src_cte(rows, metrics)
    types_cte, type_params = _area_types_cte(area_types)
    stats_cte, stats_params = STATS_METHODS[method or dialect()["area_quantiles"]](areas)
    in_areas_cte = f"in_areas AS ({_in_areas('1 = 1', areas)})"
    sql = _area_stats_insert(f"{src_cte}, {types_cte}, {in_areas_cte}, {stats_cte}")
    return sql, [*src_params, *type_params, *areas.params, *stats_params]


# --- Counts by value of the large areas ---------------------------------------------------------------------------

# The areas whose counts by value are kept (AreaValueCount): those of many returns. A trust's few are read from
# its own rows.
COUNTED_AREA_TYPES = ("ics", *NATIONAL_AREA_TYPES)
VALUE_KEY = [*STAT_GROUP, "value", "measured"]


def value_counts(rows: Filter, area_types, metrics: set[tuple], sign: int = 1, fresh: bool = False) -> tuple[str, list]:
    """The counts by value (AreaValueCount) of the areas of `area_types` over the rows `rows` selects: how many of
    them give each metric each value (and measured), how many of those meet its target and have one. With sign -1
    and fresh, the difference made by rows about to be replaced, to be added in by merge_value_counts."""
    src_cte, src_params = _src_cte(rows, metrics)
    types_cte, type_params = _area_types_cte(area_types)
    counted = _in_areas("1 = 1", Filter(), "counted", "src.c AS c, src.met_sum AS met_sum, src.met_n AS met_n")
    key = ", ".join(VALUE_KEY)
    sql = f"""INSERT INTO {{area_value_count}} ({key}, copies, met_sum, met_n, fresh, moved)
    WITH {src_cte}, {types_cte}, {_counted_cte(area_types)}, in_areas AS ({counted})
    SELECT {key}, SUM(c) * %s, COALESCE(SUM(met_sum), 0) * %s, SUM(met_n) * %s, %s, %s
    FROM in_areas
    GROUP BY {key}"""
    return sql.format(**tables()), [*src_params, *type_params, sign, sign, sign, fresh, False]


def _same_value(left: str, right: str) -> str:
    """The two rows count the same value of the same metric in the same area (measured may be empty in both)."""
    equal = " AND ".join(f"{left}.{column} = {right}.{column}" for column in VALUE_KEY if column != "measured")
    return f"{equal} AND {left}.measured IS NOT DISTINCT FROM {right}.measured"


def merge_value_counts(year: int) -> list[tuple[str, list]]:
    """The statements that add a cycle's fresh differences (value_counts with fresh) into its counts: the values
    already counted move by the difference, the others are added, both marked moved (for refresh_areas); then the
    differences go. A value no return has any more stays, at 0 copies (readers skip it), until the next rebuild."""
    key = ", ".join(VALUE_KEY)
    fresh = f"""SELECT {key}, SUM(copies) AS copies, SUM(met_sum) AS met_sum, SUM(met_n) AS met_n
        FROM {{area_value_count}} WHERE fresh AND cycle_year = %s GROUP BY {key}"""
    update = f"""UPDATE {{area_value_count}} AS kept
    SET copies = kept.copies + d.copies, met_sum = kept.met_sum + d.met_sum, met_n = kept.met_n + d.met_n,
        moved = %s
    FROM ({fresh}) AS d
    WHERE NOT kept.fresh AND {_same_value("kept", "d")}"""
    insert = f"""INSERT INTO {{area_value_count}} ({key}, copies, met_sum, met_n, fresh, moved)
    SELECT {key}, copies, met_sum, met_n, %s, %s
    FROM ({fresh}) AS d
    WHERE NOT EXISTS (SELECT 1 FROM {{area_value_count}} kept WHERE NOT kept.fresh AND {_same_value("kept", "d")})"""
    delete = "DELETE FROM {area_value_count} WHERE fresh AND cycle_year = %s"
    return [
        (update.format(**tables()), [True, year]),
        (insert.format(**tables()), [False, True, year]),
        (delete.format(**tables()), [year]),
    ]


def area_stats_from_counts(areas: Filter) -> tuple[str, list]:
    """area_stats of the areas `areas` selects (v: AreaValueCount), from their counts by value (_stats_by_counts):
    the same figures as from the rows, reading as many rows as an area has distinct values."""
    text = dialect()["bytewise"]
    texts = ["area_type", "area_code", "area_name", "source", "metric_type", "metric_code", "metric_name"]
    columns = ", ".join(f"v.{column}{text} AS {column}" if column in texts else f"v.{column}" for column in VALUE_KEY)
    in_areas = f"""in_areas AS (
        SELECT {columns}, v.copies AS c, v.met_sum AS met_sum, v.met_n AS met_n
        FROM {{area_value_count}} v
        WHERE v.copies > 0 AND NOT v.fresh AND {areas.sql}
    )"""
    return _area_stats_insert(f"{in_areas}, {_stats_by_counts()}"), areas.params


# --- Progress ----------------------------------------------------------------------------------------------------


def ics_progress(cycles: Filter, ics_id: int | None = None) -> tuple[str, list]:
    """Each ICS's provider returns by status (recorded in the cycle) against the returns due: in a collected cycle
    one per open trust and care setting, counted under the trust's host ICS. cycles filters the cycle (c); ics_id
    keeps one ICS. Counted by (cycle, ICS, status) first, so names are joined to a few hundred rows rather than to
    every return and trust."""
    own_ics, host_ics = ("a.ics_id = %s", "t.ics_id = %s") if ics_id is not None else ("1 = 1", "1 = 1")
    ics_params = [ics_id] if ics_id is not None else []
    counts = ", ".join(f"SUM(CASE WHEN status = %s THEN returns ELSE 0 END) AS {status}" for status in STATUSES)
    started = " + ".join(STATUSES)
    sql = f"""INSERT INTO {{progress_stat}} (cycle_year, area_type, area_code, area_name, expected, not_started,
        {", ".join(STATUSES)})
    WITH returns AS (
        SELECT c.year AS cycle_year, a.ics_id AS ics_id, a.status AS status, COUNT(*) AS returns, 0 AS expected
        FROM {{assessment}} a JOIN {{cycle}} c ON c.id = a.cycle_id
        WHERE a.trust_id IS NOT NULL AND {cycles.sql} AND {own_ics}
        GROUP BY c.year, a.ics_id, a.status
        UNION ALL
        SELECT c.year, t.ics_id, NULL, 0, COUNT(ts.id)
        FROM {{cycle}} c CROSS JOIN {{trust}} t LEFT JOIN {{trust_settings}} ts ON ts.trust_id = t.id
        WHERE c.kind = %s AND t.closed_on IS NULL AND {cycles.sql} AND {host_ics}
        GROUP BY c.year, t.ics_id
    ), counted AS (
        SELECT cycle_year, i.code AS area_code, i.name AS area_name, SUM(expected) AS expected, {counts}
        FROM returns JOIN {{ics}} i ON i.id = returns.ics_id
        GROUP BY cycle_year, i.code, i.name
    )
    SELECT cycle_year, %s, area_code, area_name,
           CASE WHEN expected >= {started} THEN expected ELSE {started} END,
           CASE WHEN expected > {started} THEN expected - ({started}) ELSE 0 END,
           {", ".join(STATUSES)}
    FROM counted"""
    params = [*cycles.params, *ics_params, CycleKind.COLLECTED.value, *cycles.params, *ics_params, *STATUSES, "ics"]
    return sql.format(**tables()), params


def area_progress(rows: Filter) -> tuple[str, list]:
    """The regions' and England's progress as the sums of their ICSs' (the ICS rows `rows` selects, p: already
    written): a region counts what its ICSs count, so its figures always add up to theirs, and a refresh reads the
    cycle's few dozen ICS rows rather than every return and trust."""
    types_cte, type_params = _area_types_cte(("england", "region"))
    columns = ["expected", "not_started", *STATUSES]
    sums = ", ".join(f"SUM(p.{column})" for column in columns)
    sql = f"""INSERT INTO {{progress_stat}} (cycle_year, area_type, area_code, area_name, {", ".join(columns)})
    WITH {types_cte}
    SELECT p.cycle_year, at.area_type, CASE at.area_type WHEN 'england' THEN 'E' ELSE r.code END,
           CASE at.area_type WHEN 'england' THEN 'England' ELSE r.name END, {sums}
    FROM {{progress_stat}} p JOIN {{ics}} i ON i.code = p.area_code JOIN {{region}} r ON r.id = i.region_id
    CROSS JOIN area_types at
    WHERE p.area_type = 'ics' AND {rows.sql}
    GROUP BY p.cycle_year, at.area_type, CASE at.area_type WHEN 'england' THEN 'E' ELSE r.code END,
             CASE at.area_type WHEN 'england' THEN 'England' ELSE r.name END"""
    return sql.format(**tables()), [*type_params, *rows.params]
