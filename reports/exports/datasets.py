"""The export datasets: one registry read by the export pages (reports.exports.views) and the REST API alike.

Each dataset is tidy (one row per observation) and names its columns as the public contract does (DESIGN.md section
4): the column names and their order are a promise to everyone who scripts against the files, so add columns only at
the end. The four summary datasets read the summary tables, which hold counted assessments only (submitted, approved
and published); `assessments` reads maturity.Assessment itself, every status included, for submission progress.

`visible_rows(dataset, user)` is the one place that decides which rows a user may export.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Case, CharField, F, FloatField, Func, Q, QuerySet, Value, When
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Coalesce

from maturity.models import Assessment
from reports.models import DomainScore, GapScore, IndicatorScore, PillarScore
from trusts.permissions import viewer_of

# Scores and gaps are means of whole levels or differences of measurements: three decimals keep every real
# difference and drop float noise such as 2.8333333333333335.
DECIMALS = 3


class Rounded(Func):
    """round(x × 1000) / 1000 in floating point, on both databases. Django's Round goes through PostgreSQL's numeric
    type, which adds about a third to a million-row CSV export's time and writes trailing zeros (2.830)."""

    template = f"(ROUND(%(expressions)s * {10**DECIMALS}) / {10**DECIMALS}.0)"
    output_field = FloatField()


def rounded(name: str) -> BaseExpression:
    return Rounded(F(name))


@dataclass(frozen=True)
class Column:
    name: str
    source: str | BaseExpression  # a field of the dataset's queryset, or an expression over it
    description: str


@dataclass(frozen=True)
class Dataset:
    slug: str
    title: str
    description: str
    model: type
    columns: tuple[Column, ...]
    ordering: tuple[str, ...]
    has_pillar: bool = False
    # The CSV of a summary table comes in storage order (a sort would cost more than the writing); a dataset read
    # through joins is sorted anyway, since the plan then decides the order.
    csv_sorted: bool = False
    # Builds the unscoped queryset; the assessments dataset annotates the flat names its filters and scoping use.
    base: Callable[[], QuerySet] | None = field(default=None, repr=False)

    def queryset(self) -> QuerySet:
        return self.base() if self.base else self.model.objects.all()

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def select(self, queryset: QuerySet, *, ordered: bool = True) -> QuerySet:
        """The rows as tuples in column order: ordered stably (pages, XLSX, the API), or in storage order for the
        CSV, where sorting a million rows would cost more than writing them. Every column is selected under a
        positional alias (c0, c1, …) because an output name may clash with a model field (org_code, score) or
        repeat a joined column's name (region.code and ics.code are both "code"), and the CSV writer wraps this
        SQL by position."""
        aliases = {f"c{i}": F(c.source) if isinstance(c.source, str) else c.source for i, c in enumerate(self.columns)}
        selected = queryset.annotate(**aliases).order_by(*(self.ordering if ordered else ()))
        return selected.values_list(*aliases)

    def kinds(self, selected: QuerySet) -> list[str]:
        """Each column's kind for the writers: text (formula-guarded), number, integer, boolean, datetime, date."""
        kinds = []
        for i in range(len(self.columns)):
            internal = selected.query.annotations[f"c{i}"].output_field.get_internal_type()
            kinds.append(_KINDS.get(internal, "text"))
        return kinds

    def to_record(self, row: tuple) -> dict:
        """One selected row as {column name: value}, e.g. for an API serializer."""
        return dict(zip(self.column_names, row, strict=True))


_KINDS = {
    "FloatField": "number",
    "DecimalField": "number",
    "IntegerField": "integer",
    "BigIntegerField": "integer",
    "SmallIntegerField": "integer",
    "PositiveIntegerField": "integer",
    "PositiveSmallIntegerField": "integer",
    "PositiveBigIntegerField": "integer",
    "AutoField": "integer",
    "BigAutoField": "integer",
    "BooleanField": "boolean",
    "DateTimeField": "datetime",
    "DateField": "date",
}

# --- Columns -----------------------------------------------------------------------------------------------------

ORGANISATION_COLUMNS = (
    Column("cycle", "cycle_year", "The assessment cycle (year), e.g. 2025"),
    Column("region_code", "region_code", "NHS England region's ODS code (Y-code), as recorded in the cycle"),
    Column("region_name", "region_name", "NHS England region's name"),
    Column(
        "ics_code",
        "ics_code",
        "The integrated care board's ODS code (Q-code) the assessment belonged to in its cycle; published results "
        "keep the ICB NHS England published them under",
    ),
    Column("ics_name", "ics_name", "The integrated care board's name"),
    Column("org_code", "org_code", "The organisation's ODS code: the trust's, or the ICB's for an ICB's own return"),
    Column("org_name", "org_name", "The organisation's name"),
    Column("org_type", "org_type", "trust, or ics for an integrated care board's own return"),
    Column(
        "trust_type",
        "trust_type",
        "acute, acute-specialist, mental-health, community, ambulance or care-trust (empty for an ICB)",
    ),
    Column(
        "care_setting",
        "care_setting",
        "The care setting of the return: acute, community, mental-health or ambulance (empty for an ICB)",
    ),
)
SOURCE = Column(
    "source",
    "source",
    "published (imported from NHS England's published results) or return (entered here)",
)
STATUS = Column("status", "status", "published, submitted (provisional: awaiting its ICS's review) or approved")
IS_DEMO = Column("is_demo", "is_demo", "true for synthetic demonstration data, which is not real NHS data")
SUMMARY_ORDERING = ("cycle_year", "region_code", "ics_code", "org_type", "org_code", "care_setting")

PILLAR_SCORES = Dataset(
    slug="pillar-scores",
    title="Pillar scores",
    description="Each assessment's score on the seven What Good Looks Like pillars and its overall score.",
    model=PillarScore,
    columns=(
        *ORGANISATION_COLUMNS,
        Column(
            "pillar_code",
            "pillar_code",
            "well_led, smart_foundations, safe_practice, support_workforce, empower_people, improve_care, "
            "healthy_populations, or overall for the overall score",
        ),
        Column("pillar_name", "pillar_name", "The pillar's name as the DMA names it, or Overall"),
        Column(
            "score",
            rounded("score"),
            "Score from 1 to 5, to 3 decimal places: the mean of the pillar's domain levels (overall: the weighted "
            "mean of all domains), or the score NHS England published",
        ),
        SOURCE,
        STATUS,
        IS_DEMO,
        # After the contract's columns, which keep their order.
        Column(
            "verified_share",
            rounded("verified_share"),
            "Share (0 to 1, to 3 decimal places) of the answered domains whose evidence a reviewer verified; empty "
            "for published scores",
        ),
        Column(
            "verified_score",
            rounded("verified_score"),
            "The score over the verified answers only (overall: weighted), to 3 decimal places; empty when none is "
            "verified",
        ),
    ),
    ordering=(*SUMMARY_ORDERING, "pillar_position"),
    has_pillar=True,
)

DOMAIN_SCORES = Dataset(
    slug="domain-scores",
    title="Domain levels",
    description="Each assessment's level on every domain it answered (returns entered here only: NHS England "
    "publishes no domain levels).",
    model=DomainScore,
    columns=(
        *ORGANISATION_COLUMNS,
        Column("domain_code", "domain_code", "The domain's code in its framework version, e.g. SF03"),
        Column("domain_name", "domain_name", "The domain's name"),
        Column("pillar_code", "pillar_code", "The pillar the domain belongs to (codes as in pillar-scores)"),
        Column("pillar_name", "pillar_name", "The pillar's name"),
        Column("level", "level", "The level reached, a whole number from 1 to 5"),
        Column(
            "evidence",
            "evidence",
            "What backs the level: verified (a reviewer verified its evidence note or link), self-asserted (evidence "
            "given, not verified) or none (no evidence note or link)",
        ),
        SOURCE,
        STATUS,
        IS_DEMO,
    ),
    ordering=(*SUMMARY_ORDERING, "pillar_code", "domain_code"),
    has_pillar=True,
)

INDICATORS = Dataset(
    slug="indicators",
    title="Contextual indicators",
    description="Each assessment's contextual indicators (EPR, DSPT status, unsupported devices, digital spend, "
    "vacancies…): its own values, or its trust's latest published snapshot.",
    model=IndicatorScore,
    columns=(
        *ORGANISATION_COLUMNS,
        Column("indicator_code", "indicator_code", "The indicator, e.g. unsupported_devices_pct or dspt_status"),
        Column("value_number", "number", "The value when it is a number (percentages as 0–100)"),
        Column("value_text", "text", "The value when it is text, a choice, a date (YYYY-MM-DD) or yes/no"),
        SOURCE,
        STATUS,
        IS_DEMO,
    ),
    ordering=(*SUMMARY_ORDERING, "indicator_code"),
)

GAPS = Dataset(
    slug="gaps",
    title="Gaps to targets",
    description="How far each assessment is from each of its cycle's targets (legacy IT, EPR, cyber, workforce, "
    "investment); 0 when the target is met.",
    model=GapScore,
    columns=(
        *ORGANISATION_COLUMNS,
        Column("theme", "theme", "legacy_it, epr, cyber, workforce or investment"),
        Column("target_description", "target_description", "The target as the cycle states it"),
        Column("target", "target", "The target value (a number, or the allowed values)"),
        Column("measured", rounded("measured"), "What was measured, when it is a number (3 decimal places)"),
        Column("measured_text", "measured_text", "What was measured, when it is text (e.g. a DSPT status)"),
        Column("gap", rounded("gap"), "Distance from the target, 0 when met; empty when nothing was measured"),
        Column("met", "met", "true when the target is met, false when not, empty when nothing was measured"),
        SOURCE,
        STATUS,
        IS_DEMO,
    ),
    ordering=(*SUMMARY_ORDERING, "theme", "target_description"),
)


def _assessments() -> QuerySet:
    """Assessments with the summary tables' flat names, under the ICS and region each recorded in its cycle, so the
    shared filters and the scoping rule read the same names on every dataset."""
    is_ics = Q(trust__isnull=True)
    return Assessment.objects.annotate(
        cycle_year=F("cycle__year"),
        region_code=F("region__code"),
        region_name=F("region__name"),
        ics_code=F("ics__code"),
        ics_name=F("ics__name"),
        org_code=Coalesce("trust__code", "ics__code"),
        org_name=Coalesce("trust__name", "ics__name"),
        org_type=Case(When(is_ics, then=Value("ics")), default=Value("trust"), output_field=CharField()),
        trust_type=Coalesce("trust__trust_type", Value(""), output_field=CharField()),
        # "care_setting" is the foreign key's own name: filters use it directly (its key is the slug).
        care_setting_slug=Coalesce("care_setting_id", Value(""), output_field=CharField()),
    )


ASSESSMENTS = Dataset(
    slug="assessments",
    title="Assessments (submission status)",
    description="One row per trust × care setting return and per ICB return, in every status (draft, submitted, "
    "returned, approved, published), for submission progress.",
    model=Assessment,
    columns=(
        *ORGANISATION_COLUMNS[:9],
        Column("care_setting", "care_setting_slug", ORGANISATION_COLUMNS[9].description),
        Column(
            "status",
            "status",
            "draft, submitted (awaiting review), returned (sent back for changes), approved or published",
        ),
        SOURCE,
        Column("version", "version", "Goes up by one with every change to the assessment"),
        Column("submitted_at", "submitted_at", "When it was last submitted (UTC), empty if never"),
        Column("reviewed_at", "reviewed_at", "When it was last returned or approved (UTC), empty if never"),
        IS_DEMO,
    ),
    ordering=("cycle_year", "region_code", "ics_code", "org_type", "org_code", "care_setting_slug"),
    csv_sorted=True,  # a few thousand rows a cycle: sorting them is free
    base=_assessments,
)

DATASETS: dict[str, Dataset] = {
    dataset.slug: dataset for dataset in (PILLAR_SCORES, DOMAIN_SCORES, INDICATORS, GAPS, ASSESSMENTS)
}


# --- Who sees which rows -----------------------------------------------------------------------------------------


def visible_rows(dataset: Dataset, user) -> QuerySet:
    """The rows of `dataset` this user may export: its queryset's `shown_to(viewer)` (trusts.permissions.Viewer).

    Published results are public: every signed-in user gets them. Rows entered here go to analysts and admins in
    full; to an ICS reviewer for the ICSs it reviews (the ICS each assessment recorded in its cycle, its ICB's own
    return included); to a trust lead for its own trusts; to nobody else. The summary datasets hold counted
    assessments only, so drafts and returned assessments appear only in `assessments`, to the same people.
    """
    return dataset.queryset().shown_to(viewer_of(user))
