"""Filters of the API's reference resources and assessments. Codes are ODS codes, case-insensitive, as in the URLs.
The export datasets' filters are reports.exports.filters, shared with the export page."""

import django_filters

from maturity.models import Assessment, Cycle, CycleKind, CycleState, Framework, FrameworkKind, Source, Status
from trusts.models import ICS, CareSetting, Trust, TrustType


def _code(field_name: str, help_text: str) -> django_filters.CharFilter:
    return django_filters.CharFilter(field_name=field_name, lookup_expr="iexact", help_text=help_text)


class ICSFilterSet(django_filters.FilterSet):
    region = _code("region__code", "Region ODS code, e.g. Y62")

    class Meta:
        model = ICS
        fields = ["region"]


class TrustFilterSet(django_filters.FilterSet):
    ics = _code("ics__code", "Host ICB ODS code, e.g. QOP")
    region = _code("ics__region__code", "Region ODS code, e.g. Y62")
    trust_type = django_filters.ChoiceFilter(choices=TrustType.choices)
    care_setting = django_filters.ChoiceFilter(
        field_name="care_settings__slug", choices=[(slug, name) for slug, name, _ in CareSetting.ALL]
    )
    open = django_filters.BooleanFilter(field_name="closed_on", lookup_expr="isnull", help_text="Open trusts only")

    class Meta:
        model = Trust
        fields = ["ics", "region", "trust_type", "care_setting", "open"]


class CycleFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=CycleKind.choices)
    state = django_filters.ChoiceFilter(choices=CycleState.choices)

    class Meta:
        model = Cycle
        fields = ["kind", "state"]


class FrameworkFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=FrameworkKind.choices)
    code = django_filters.CharFilter(help_text="e.g. wgll-trust")

    class Meta:
        model = Framework
        fields = ["kind", "code"]


class AssessmentFilterSet(django_filters.FilterSet):
    cycle = django_filters.NumberFilter(field_name="cycle__year", help_text="The cycle's year, e.g. 2026")
    region = _code("region__code", "Region the assessment was recorded in, e.g. Y62")
    ics = _code("ics__code", "ICB the assessment was recorded in, e.g. QOP")
    trust = _code("trust__code", "Trust ODS code, e.g. R0A")
    care_setting = django_filters.ChoiceFilter(choices=[(slug, name) for slug, name, _ in CareSetting.ALL])
    org_type = django_filters.ChoiceFilter(
        method="filter_org_type", choices=[("trust", "Trust"), ("ics", "ICS")], help_text="trust or ics"
    )
    status = django_filters.ChoiceFilter(choices=Status.choices)
    source = django_filters.ChoiceFilter(choices=Source.choices)

    class Meta:
        model = Assessment
        fields = ["cycle", "region", "ics", "trust", "care_setting", "org_type", "status", "source"]

    def filter_org_type(self, queryset, name, value):
        return queryset.for_icss() if value == "ics" else queryset.for_trusts()
