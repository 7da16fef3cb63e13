"""Reading assessments into frames and writing the summary tables: a full rebuild, one cycle, one assessment, and the
region/England areas of a cycle. The rules are in reports.aggregation; this module only moves data.

Every write here runs in one transaction, so a reader sees the old summaries or the new ones, never half; a worker
killed mid-rebuild leaves the previous summaries in place."""

import pandas as pd
from django.db import transaction
from django.db.models import Count, ExpressionWrapper, F, FloatField, Q, Sum

from maturity.models import (
    Assessment,
    Cycle,
    CycleKind,
    Domain,
    DomainAnswer,
    GapTarget,
    IndicatorValue,
    PublishedScore,
    Theme,
)
from reports import aggregation
from reports.models import AreaStat, DomainScore, GapScore, IndicatorScore, PillarScore, ProgressStat
from trusts.models import Trust

PILLAR_METRIC = ("pillar_code", "pillar_name", "pillar_position")
GAP_METRIC = ("target_code", "target_description", "theme_position")
THEME_POSITIONS = {theme: position for position, theme in enumerate(Theme.values, start=1)}


# --- Reading -----------------------------------------------------------------------------------------------------


def _frame(rows, columns) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns)


def counted_assessments(where: Q) -> pd.DataFrame:
    rows = (
        Assessment.objects.counted()
        .filter(where)
        .values_list(
            "pk",
            "cycle__year",
            "region__code",
            "region__name",
            "ics__code",
            "ics__name",
            "trust__code",
            "trust__name",
            "trust__trust_type",
            "care_setting_id",
            "source",
            "status",
            "is_demo",
        )
        .order_by("pk")
    )
    frame = _frame(
        rows,
        [
            "assessment_id",
            "cycle_year",
            "region_code",
            "region_name",
            "ics_code",
            "ics_name",
            "trust_code",
            "trust_name",
            "trust_type",
            "care_setting",
            "source",
            "status",
            "is_demo",
        ],
    )
    is_trust = frame["trust_code"].notna()
    frame["org_type"] = is_trust.map({True: "trust", False: "ics"})
    frame["org_code"] = frame["trust_code"].where(is_trust, frame["ics_code"])
    frame["org_name"] = frame["trust_name"].where(is_trust, frame["ics_name"])
    frame["trust_type"] = frame["trust_type"].fillna("")
    frame["care_setting"] = frame["care_setting"].fillna("")
    return frame[aggregation.ORG_COLUMNS]


def _answers(where: Q):
    return DomainAnswer.objects.filter(level__isnull=False, assessment__in=Assessment.objects.counted().filter(where))


def pillar_means(where: Q) -> pd.DataFrame:
    """The database averages each pillar's domain levels: the heavy part of a rebuild stays in SQL."""
    rows = (
        _answers(where)
        .values_list("assessment_id", "domain__pillar__code", "domain__pillar__name", "domain__pillar__position")
        .annotate(score=ExpressionWrapper(Sum("level") * 1.0 / Count("level"), output_field=FloatField()))
        .order_by()
    )
    return _frame(rows, ["assessment_id", "pillar_code", "pillar_name", "pillar_position", "score"])


def overall_weights(where: Q) -> pd.DataFrame:
    rows = (
        _answers(where)
        .values_list("assessment_id")
        .annotate(
            weighted_sum=Sum(ExpressionWrapper(F("level") * F("domain__weight"), output_field=FloatField())),
            weight_total=Sum(ExpressionWrapper(F("domain__weight") * 1.0, output_field=FloatField())),
        )
        .order_by()
    )
    return _frame(rows, ["assessment_id", "weighted_sum", "weight_total"])


def published_scores(where: Q) -> pd.DataFrame:
    rows = PublishedScore.objects.filter(assessment__in=Assessment.objects.counted().filter(where)).values_list(
        "assessment_id", "pillar__code", "pillar__name", "pillar__position", "score"
    )
    frame = _frame(rows, ["assessment_id", "pillar_code", "pillar_name", "pillar_position", "score"])
    overall = frame["pillar_code"].isna()
    frame.loc[overall, ["pillar_code", "pillar_name", "pillar_position"]] = list(aggregation.OVERALL)
    return frame


def domain_levels(where: Q) -> pd.DataFrame:
    rows = _answers(where).values_list(
        "assessment_id", "domain__code", "domain__name", "domain__pillar__code", "domain__pillar__name", "level"
    )
    return _frame(rows, ["assessment_id", "domain_code", "domain_name", "pillar_code", "pillar_name", "level"])


def answers_with_themes(where: Q) -> pd.DataFrame:
    themes = dict(Domain.objects.values_list("pk", "themes"))
    rows = _answers(where).values_list("assessment_id", "domain_id", "level")
    frame = _frame(rows, ["assessment_id", "domain_id", "level"])
    frame["themes"] = frame["domain_id"].map(themes)
    return frame


def _value_of(number, text, date, boolean):
    for value in (boolean, number, date):
        if value is not None:
            return value.isoformat() if hasattr(value, "isoformat") else value
    return text or None


def indicator_values(assessments: pd.DataFrame) -> pd.DataFrame:
    """Each assessment's own indicator values; where it has none, its trust's latest published snapshot
    (DSPT, devices), so published cycles have cyber and legacy-IT gaps too."""
    ids = list(assessments["assessment_id"])
    own = IndicatorValue.objects.filter(assessment_id__in=ids).values_list(
        "assessment_id", "indicator_code", "number", "text", "date", "boolean", "is_unknown"
    )
    values = {
        (assessment_id, code): _value_of(number, text, date, boolean)
        for assessment_id, code, number, text, date, boolean, unknown in own
        if not unknown
    }
    trusts = assessments.loc[assessments["org_type"] == "trust", ["assessment_id", "org_code"]]
    published = (
        IndicatorValue.objects.filter(
            assessment__isnull=True, trust__code__in=set(trusts["org_code"]), is_unknown=False
        )
        .order_by("as_of", "pk")
        .values_list("trust__code", "indicator_code", "number", "text", "date", "boolean")
    )
    latest = {(code, indicator): _value_of(n, t, d, b) for code, indicator, n, t, d, b in published}
    for assessment_id, org_code in trusts.itertuples(index=False):
        for (code, indicator), value in latest.items():
            if code == org_code:
                values.setdefault((assessment_id, indicator), value)
    return pd.DataFrame(
        [(assessment_id, code, value) for (assessment_id, code), value in values.items() if value is not None],
        columns=["assessment_id", "indicator_code", "value"],
    )


def gap_targets(years) -> pd.DataFrame:
    labels = dict(Theme.choices)
    rows = GapTarget.objects.filter(cycle__year__in=list(years)).values_list(
        "cycle__year", "theme", "kind", "indicator_code", "value", "description"
    )
    frame = _frame(rows, ["cycle_year", "theme", "kind", "indicator_code", "value", "description"])
    frame["theme_name"] = frame["theme"].map(labels)
    return frame


def provider_statuses(where: Q) -> pd.DataFrame:
    rows = (
        Assessment.objects.for_trusts()
        .filter(where)
        .values_list("cycle__year", "region__code", "region__name", "ics__code", "ics__name", "status")
    )
    return _frame(rows, ["cycle_year", "region_code", "region_name", "ics_code", "ics_name", "status"])


def expected_returns(years, where_ics: Q | None = None) -> pd.DataFrame:
    """Returns due in collected cycles: one per open trust and care setting, counted under its host ICS."""
    collected = list(
        Cycle.objects.filter(year__in=list(years), kind=CycleKind.COLLECTED).values_list("year", flat=True)
    )
    rows = (
        Trust.objects.open()
        .filter(where_ics or Q())
        .values_list("ics__region__code", "ics__region__name", "ics__code", "ics__name")
        .annotate(expected=Count("care_settings"))
        .order_by()
    )
    base = _frame(rows, ["region_code", "region_name", "ics_code", "ics_name", "expected"])
    frames = [base.assign(cycle_year=year) for year in collected]
    columns = ["cycle_year", "region_code", "region_name", "ics_code", "ics_name", "expected"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


# --- Computing ---------------------------------------------------------------------------------------------------


def assessment_rows(where: Q) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Pillar, gap, indicator and domain rows of the counted assessments `where` selects."""
    assessments = counted_assessments(where)
    scores = aggregation.pillar_scores(
        assessments, pillar_means(where), overall_weights(where), published_scores(where)
    )
    levels = aggregation.theme_levels(answers_with_themes(where))
    values = indicator_values(assessments)
    gaps = aggregation.gap_scores(assessments, levels, values, gap_targets(set(assessments["cycle_year"])))
    domains = aggregation.domain_scores(assessments, domain_levels(where))
    return scores, gaps, aggregation.indicator_scores(assessments, values), domains


def stats_for(scores: pd.DataFrame, gaps: pd.DataFrame, area_types) -> pd.DataFrame:
    pillar = aggregation.area_stats(scores, metric_type="pillar", area_types=area_types, metric_columns=PILLAR_METRIC)
    # A theme can have several targets in different units (levels, percentage points): one metric per target.
    gap_frame = gaps.assign(
        target_code=[
            aggregation.target_code(t, d) for t, d in zip(gaps["theme"], gaps["target_description"], strict=True)
        ],
        theme_position=gaps["theme"].map(THEME_POSITIONS),
    )
    gap = aggregation.area_stats(
        gap_frame, metric_type="gap", area_types=area_types, metric_columns=GAP_METRIC, value_column="gap"
    )
    return pd.concat([frame for frame in (pillar, gap) if not frame.empty] or [pillar], ignore_index=True)


def _table(model, where: Q) -> pd.DataFrame:
    """Rows already written, read back for an incremental refresh of the areas above them."""
    fields = [field.name for field in model._meta.concrete_fields if field.name not in ("id", "assessment")]
    return _frame(model.objects.filter(where).values_list("assessment_id", *fields), ["assessment_id", *fields])


# --- Writing -----------------------------------------------------------------------------------------------------


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{key: aggregation.json_safe(value) for key, value in row.items()} for row in frame.to_dict("records")]


def _insert(model, frame: pd.DataFrame) -> int:
    if frame.empty:
        return 0
    model.objects.bulk_create([model(**record) for record in _records(frame)], batch_size=5000)
    return len(frame)


def _row_frame(frame: pd.DataFrame, model) -> pd.DataFrame:
    """Only the columns the model has (ORG_COLUMNS' assessment_id included)."""
    names = {field.attname for field in model._meta.concrete_fields} - {"id"}
    return frame[[column for column in frame.columns if column in names]]


def _lock(years=None) -> None:
    """Summary writes of a cycle take turns: each locks the cycle's row for its transaction, so two refreshes in one
    ICS never both rewrite its area rows, and a refresh waits for a rebuild rather than interleaving with it."""
    cycles = Cycle.objects.select_for_update().order_by("pk")
    if years is not None:
        cycles = cycles.filter(year__in=list(years))
    list(cycles.values_list("pk", flat=True))


def rebuild(years=None) -> int:
    """Recompute every summary (or those of some cycles) from scratch and swap them in atomically."""
    where = Q() if years is None else Q(cycle__year__in=list(years))
    row_filter = Q() if years is None else Q(cycle_year__in=list(years))
    with transaction.atomic():
        _lock(years)
        scores, gaps, indicators, domains = assessment_rows(where)
        all_years = set(scores["cycle_year"]) | set(years or [])
        stats = stats_for(scores, gaps, tuple(aggregation.AREA_KEYS))
        progress = aggregation.progress_stats(provider_statuses(where), expected_returns(all_years))
        for model in (PillarScore, GapScore, IndicatorScore, DomainScore, AreaStat, ProgressStat):
            model.objects.filter(row_filter).delete()
        written = _insert(PillarScore, _row_frame(scores, PillarScore))
        written += _insert(GapScore, _row_frame(gaps, GapScore))
        written += _insert(IndicatorScore, _row_frame(indicators, IndicatorScore))
        written += _insert(DomainScore, _row_frame(domains, DomainScore))
        written += _insert(AreaStat, stats)
        written += _insert(ProgressStat, progress)
    return written


def refresh_assessment(assessment_id: int) -> int:
    """Rewrite one assessment's rows and the summaries of the areas right above it (its trust, ICS and peer group);
    region and England follow in refresh_areas. Returns the rows written."""
    assessment = Assessment.objects.select_related("cycle", "ics", "trust").filter(pk=assessment_id).first()
    if assessment is None:
        return 0
    year = assessment.cycle.year
    with transaction.atomic():
        _lock([year])
        scores, gaps, indicators, domains = assessment_rows(Q(pk=assessment_id))
        for model in (PillarScore, GapScore, IndicatorScore, DomainScore):
            model.objects.filter(assessment_id=assessment_id).delete()
        written = _insert(PillarScore, _row_frame(scores, PillarScore))
        written += _insert(GapScore, _row_frame(gaps, GapScore))
        written += _insert(IndicatorScore, _row_frame(indicators, IndicatorScore))
        written += _insert(DomainScore, _row_frame(domains, DomainScore))
        if assessment.trust_id is None:
            return written
        written += _refresh_areas_above(assessment, year)
    return written


def _refresh_areas_above(assessment: Assessment, year: int) -> int:
    ics_code, trust_code = assessment.ics.code, assessment.trust.code
    peer = f"{assessment.trust.trust_type}|{assessment.care_setting_id}"
    area_rows = Q(cycle_year=year) & (
        Q(ics_code=ics_code)
        | Q(org_code=trust_code)
        | Q(trust_type=assessment.trust.trust_type, care_setting=assessment.care_setting_id)
    )
    stats = stats_for(_table(PillarScore, area_rows), _table(GapScore, area_rows), ("ics", "trust", "peer"))
    if not stats.empty:
        # The rows read cover the peer group across England: keep only the areas this assessment is in.
        stats = stats[
            ((stats["area_type"] == "ics") & (stats["area_code"] == ics_code))
            | ((stats["area_type"] == "trust") & (stats["area_code"] == trust_code))
            | ((stats["area_type"] == "peer") & (stats["area_code"] == peer))
        ]
    AreaStat.objects.filter(
        Q(cycle_year=year)
        & (
            Q(area_type="ics", area_code=ics_code)
            | Q(area_type="trust", area_code=trust_code)
            | Q(area_type="peer", area_code=peer)
        )
    ).delete()
    written = _insert(AreaStat, stats)
    progress = aggregation.progress_stats(
        provider_statuses(Q(cycle__year=year, ics=assessment.ics)),
        expected_returns([year], Q(ics=assessment.ics)),
        area_types=("ics",),
    )
    ProgressStat.objects.filter(cycle_year=year, area_type="ics", area_code=ics_code).delete()
    return written + _insert(ProgressStat, progress[progress["area_code"] == ics_code])


def refresh_areas(year: int) -> int:
    """Region and England summaries of a cycle, from the rows already written: the batched follow-up of
    refresh_assessment, a few seconds later, once for many submissions."""
    with transaction.atomic():
        _lock([year])
        rows = Q(cycle_year=year)
        stats = stats_for(_table(PillarScore, rows), _table(GapScore, rows), ("england", "region"))
        progress = aggregation.progress_stats(
            provider_statuses(Q(cycle__year=year)), expected_returns([year]), area_types=("england", "region")
        )
        AreaStat.objects.filter(cycle_year=year, area_type__in=["england", "region"]).delete()
        ProgressStat.objects.filter(cycle_year=year, area_type__in=["england", "region"]).delete()
        return _insert(AreaStat, stats) + _insert(ProgressStat, progress)
