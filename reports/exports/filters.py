"""The export filters: one django-filter FilterSet per dataset, shared by the export pages and the REST API, so a
query string means the same rows in a CSV, an XLSX and an API page.

Parameters (all optional, combined with AND): `cycle` (year), `region` (ODS Y-code), `ics` (ICB ODS Q-code),
`trust` (an organisation's ODS code), `trust_type`, `care_setting`, `pillar` (pillar-scores and domain-scores only;
the other datasets ignore it) and `source` (published or return). Codes are case-insensitive. A malformed value is a
form error under the parameter's own name (check `is_valid()`: django-filter alone would silently skip the filter).
"""

import django_filters
from django import forms
from django.core.validators import RegexValidator

from maturity.models import Assessment, Pillar, Source
from reports.exports.datasets import DATASETS, Dataset
from reports.models import DomainScore, GapScore, IndicatorScore, PillarScore
from trusts.models import CareSetting, TrustType

PILLAR_CHOICES = [*Pillar.ALL, ("overall", "Overall")]
CARE_SETTING_CHOICES = [(slug, name) for slug, name, _ in CareSetting.ALL]


class CodeField(forms.CharField):
    """ODS codes are stored upper-case; people type them either way. Upper-casing here (rather than an iexact
    lookup) keeps the comparison a plain equality that the (cycle_year, code) indexes can serve."""

    def to_python(self, value):
        return super().to_python(value).strip().upper()


class CodeFilter(django_filters.CharFilter):
    field_class = CodeField


class YearFilter(django_filters.NumberFilter):
    # NumberFilter's DecimalField would accept 2025.5.
    field_class = forms.IntegerField


class ExportFilterSet(django_filters.FilterSet):
    """The filters every dataset shares. Field names are the summary tables' flat columns; the assessments dataset
    annotates the same names."""

    cycle = YearFilter(
        field_name="cycle_year",
        min_value=2000,
        max_value=2100,
        label="Cycle",
        help_text="The cycle's year, e.g. 2025",
        error_messages={"invalid": "Enter a cycle as a year, like 2025."},
    )
    region = CodeFilter(
        field_name="region_code",
        label="Region",
        help_text="Region ODS code (Y-code), e.g. Y62",
        validators=[RegexValidator(r"^Y[0-9]{2}$", "Enter a region's ODS code: Y and two digits, like Y56.")],
    )
    ics = CodeFilter(
        field_name="ics_code",
        label="ICS",
        help_text="ICB ODS code (Q-code), e.g. QOP",
        validators=[RegexValidator(r"^Q[A-Z0-9]{2}$", "Enter an ICB's ODS code: Q and two characters, like QOP.")],
    )
    trust = CodeFilter(
        field_name="org_code",
        label="Trust",
        help_text="The organisation's ODS code, e.g. R0A (an ICB's Q-code for its own return)",
        validators=[RegexValidator(r"^[A-Z0-9]{3,5}$", "Enter an ODS code of 3 to 5 letters or digits, like R0A.")],
    )
    trust_type = django_filters.ChoiceFilter(
        field_name="trust_type", choices=TrustType.choices, label="Trust type", help_text="The trust's type"
    )
    care_setting = django_filters.ChoiceFilter(
        field_name="care_setting",
        choices=CARE_SETTING_CHOICES,
        label="Care setting",
        help_text="The return's care setting",
    )
    source = django_filters.ChoiceFilter(
        field_name="source",
        choices=Source.choices,
        label="Source",
        help_text="published (NHS England's published results) or return (entered here)",
    )


class PillarScoreFilterSet(ExportFilterSet):
    pillar = django_filters.ChoiceFilter(
        field_name="pillar_code", choices=PILLAR_CHOICES, label="Pillar", help_text="A pillar code, or overall"
    )

    class Meta:
        model = PillarScore
        fields = []


class DomainScoreFilterSet(ExportFilterSet):
    # 'overall' is not a domain's pillar: offering it would only ever return nothing.
    pillar = django_filters.ChoiceFilter(
        field_name="pillar_code", choices=Pillar.ALL, label="Pillar", help_text="The domain's pillar code"
    )

    class Meta:
        model = DomainScore
        fields = []


class IndicatorFilterSet(ExportFilterSet):
    class Meta:
        model = IndicatorScore
        fields = []


class GapFilterSet(ExportFilterSet):
    class Meta:
        model = GapScore
        fields = []


class AssessmentFilterSet(ExportFilterSet):
    class Meta:
        model = Assessment
        fields = []


FILTERSETS: dict[str, type[ExportFilterSet]] = {
    "pillar-scores": PillarScoreFilterSet,
    "domain-scores": DomainScoreFilterSet,
    "indicators": IndicatorFilterSet,
    "gaps": GapFilterSet,
    "assessments": AssessmentFilterSet,
}
assert set(FILTERSETS) == set(DATASETS), "every dataset needs its filterset"

# The parameters in the order the page shows them.
PARAMETERS = ("cycle", "region", "ics", "trust", "trust_type", "care_setting", "pillar", "source")


def filterset_for(dataset: Dataset, data, queryset) -> ExportFilterSet:
    return FILTERSETS[dataset.slug](data=data, queryset=queryset)


def error_messages(filterset: ExportFilterSet) -> list[tuple[str, str]]:
    """(parameter, message) for each invalid parameter, the message naming the parameter, e.g.
    ("cycle", "cycle: Enter a cycle as a year, like 2025.")."""
    return [(name, f"{name}: {' '.join(messages)}") for name, messages in filterset.errors.items()]


def applied(filterset: ExportFilterSet) -> dict[str, str]:
    """The filters a valid filterset applies, as the user gave them (codes upper-cased), in page order."""
    cleaned = filterset.form.cleaned_data
    return {name: str(cleaned[name]) for name in PARAMETERS if cleaned.get(name) not in (None, "")}
