"""What the API says about each thing. Organisations are named by ODS code, cycles by year, and an assessment's
answers come back in the same shape a PATCH takes, so a client can read, change and send them back."""

import datetime

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from maturity.models import Assessment, Cycle, Domain, Framework, GapTarget, Indicator
from maturity.pages import IndicatorRow, person_name
from reports.exports.datasets import DATASETS, Dataset
from trusts.models import ICS, Region, Trust

# --- Organisations -----------------------------------------------------------------------------------------------


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "ons_code", "name"]


class ICSSerializer(serializers.ModelSerializer):
    short_name = serializers.CharField(read_only=True, help_text="e.g. Greater Manchester")
    region = serializers.CharField(source="region.code", help_text="Region ODS code")
    region_name = serializers.CharField(source="region.name")

    class Meta:
        model = ICS
        fields = ["code", "ons_code", "name", "short_name", "region", "region_name"]


class TrustSerializer(serializers.ModelSerializer):
    ics = serializers.CharField(source="ics.code", help_text="Host ICB ODS code")
    ics_name = serializers.CharField(source="ics.name")
    region = serializers.CharField(source="ics.region.code", help_text="Region ODS code")
    region_name = serializers.CharField(source="ics.region.name")
    care_settings = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = Trust
        fields = [
            "code",
            "name",
            "trust_type",
            "eric_type",
            "ics",
            "ics_name",
            "region",
            "region_name",
            "care_settings",
            "postcode",
            "latitude",
            "longitude",
            "opened_on",
            "closed_on",
            "is_open",
        ]


# --- Frameworks and cycles ---------------------------------------------------------------------------------------


class DomainSerializer(serializers.ModelSerializer):
    pillar = serializers.CharField(source="pillar.code")
    levels = serializers.ListField(child=serializers.CharField(), help_text="Five descriptors, level 1 first")
    care_settings = serializers.ListField(
        child=serializers.CharField(), help_text="Care settings it applies to; empty for all"
    )
    themes = serializers.ListField(child=serializers.CharField(), help_text="Gap themes it counts towards")
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    comparable_with = serializers.SlugRelatedField(
        slug_field="code",
        read_only=True,
        allow_null=True,
        help_text="Code of the earlier version's domain it is compared with year on year",
    )

    class Meta:
        model = Domain
        fields = [
            "code",
            "name",
            "description",
            "pillar",
            "levels",
            "care_settings",
            "themes",
            "weight",
            "comparable_with",
        ]


class PillarDomainsSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    domains = DomainSerializer(many=True)


class IndicatorSerializer(serializers.ModelSerializer):
    choices = serializers.ListField(child=serializers.CharField())
    themes = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Indicator
        fields = [
            "code",
            "name",
            "help_text",
            "value_type",
            "choices",
            "min_value",
            "max_value",
            "required",
            "themes",
        ]


class FrameworkSerializer(serializers.ModelSerializer):
    pillars = serializers.SerializerMethodField(help_text="The pillars in order, each with its domains")
    indicators = IndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = Framework
        fields = ["id", "code", "version", "kind", "name", "description", "pillars", "indicators"]

    @extend_schema_field(PillarDomainsSerializer(many=True))
    def get_pillars(self, framework):
        grouped = {}
        # Domains come prefetched in pillar order (the view's queryset).
        for domain in framework.domains.all():
            pillar = grouped.setdefault(domain.pillar_id, {"code": domain.pillar.code, "name": domain.pillar.name})
            pillar.setdefault("domains", []).append(domain)
        return PillarDomainsSerializer(grouped.values(), many=True).data


class GapTargetSerializer(serializers.ModelSerializer):
    value = serializers.JSONField(help_text="A number, or the allowed values of an 'indicator_in' target")

    class Meta:
        model = GapTarget
        fields = ["theme", "kind", "indicator_code", "value", "description"]


class CycleSerializer(serializers.ModelSerializer):
    # Published history has no framework of its own.
    trust_framework = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="Framework id")
    ics_framework = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="Framework id")
    targets = GapTargetSerializer(many=True, read_only=True)

    class Meta:
        model = Cycle
        fields = [
            "year",
            "kind",
            "state",
            "is_demo",
            "opens_on",
            "closes_on",
            "trust_framework",
            "ics_framework",
            "source_note",
            "targets",
        ]


# --- Assessments -------------------------------------------------------------------------------------------------


class AssessmentSerializer(serializers.ModelSerializer):
    cycle = serializers.IntegerField(source="cycle.year")
    org_type = serializers.SerializerMethodField(help_text="trust, or ics for an ICB's own assessment")
    org_code = serializers.SerializerMethodField(help_text="ODS code of the trust, or of the ICB")
    org_name = serializers.CharField(source="organisation_name")
    trust = serializers.CharField(source="trust.code", allow_null=True, help_text="Trust ODS code; null for an ICB")
    care_setting = serializers.CharField(source="care_setting_id", allow_null=True)
    ics = serializers.CharField(source="ics.code", help_text="The ICB it was recorded in, in its cycle")
    region = serializers.CharField(source="region.code", help_text="The region it was recorded in, in its cycle")
    framework = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="Framework id")

    class Meta:
        model = Assessment
        fields = [
            "id",
            "cycle",
            "org_type",
            "org_code",
            "org_name",
            "trust",
            "care_setting",
            "ics",
            "region",
            "framework",
            "source",
            "status",
            "version",
            "is_demo",
            "published_name",
            "submitted_at",
            "reviewed_at",
            "updated_at",
        ]

    def get_org_type(self, assessment) -> str:
        return "ics" if assessment.is_ics_assessment else "trust"

    def get_org_code(self, assessment) -> str:
        return assessment.ics.code if assessment.is_ics_assessment else assessment.trust.code


class AnswerSerializer(serializers.Serializer):
    pillar = serializers.CharField(read_only=True)
    level = serializers.IntegerField(allow_null=True, help_text="1 to 5; null when not answered yet")
    evidence_note = serializers.CharField(allow_blank=True)
    evidence_link = serializers.CharField(allow_blank=True)
    evidence_verified_at = serializers.DateTimeField(
        allow_null=True, help_text="When the ICB's reviewer verified the evidence; null when not verified"
    )
    evidence_verified_by = serializers.CharField(
        allow_blank=True, help_text="The reviewer who verified it, as the review page names them; '' when not"
    )


class AssessmentDetailSerializer(AssessmentSerializer):
    answers = serializers.SerializerMethodField(
        help_text="Every domain of the assessment by code (unanswered ones with a null level)"
    )
    indicators = serializers.SerializerMethodField(
        help_text="Every indicator of the assessment by code, as the forms show it ('' when not answered)"
    )

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "sign_off_name", "sign_off_role", "answers", "indicators"]

    @extend_schema_field(serializers.DictField(child=AnswerSerializer()))
    def get_answers(self, assessment):
        answers = {answer.domain_id: answer for answer in assessment.answers.select_related("evidence_verified_by")}
        verified_at = serializers.DateTimeField().to_representation
        result = {}
        for domain in assessment.applicable_domains():
            answer = answers.get(domain.pk)
            result[domain.code] = {
                "pillar": domain.pillar.code,
                "level": answer.level if answer else None,
                "evidence_note": answer.evidence_note if answer else "",
                "evidence_link": answer.evidence_link if answer else "",
                "evidence_verified_at": verified_at(answer.evidence_verified_at)
                if answer and answer.evidence_verified_at
                else None,
                "evidence_verified_by": person_name(answer.evidence_verified_by)
                if answer and answer.evidence_verified_by
                else "",
            }
        return result

    @extend_schema_field(serializers.DictField(child=serializers.CharField(allow_blank=True)))
    def get_indicators(self, assessment):
        values = {value.indicator_code: value for value in assessment.indicator_values.all()}
        return {
            indicator.code: IndicatorRow(indicator, values.get(indicator.code)).raw
            for indicator in assessment.indicators()
        }


@extend_schema_field(
    {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}], "nullable": True},
)
class RawValueField(serializers.Field):
    """A value as a person would type it: maturity.answers checks it, for the API exactly as for the forms and the
    spreadsheet upload, so the messages (and the field keys they come under) are the same everywhere."""

    default_error_messages = {"invalid": "Give a single value: text, a number, true or false."}

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str | int | float | bool):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class AnswerInputSerializer(serializers.Serializer):
    level = RawValueField(help_text="1 to 5, or null (or '') to clear")
    evidence_note = RawValueField(help_text="Up to 2000 characters")
    evidence_link = RawValueField(help_text="A web address starting with https:// or http://")


class AnswersWriteSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="The version you read: a save over someone else's change is refused")
    answers = serializers.DictField(
        child=AnswerInputSerializer(),
        required=False,
        help_text="Domain code → the values to change; keys left out keep their current values",
    )
    indicators = serializers.DictField(
        child=RawValueField(), required=False, help_text="Indicator code → value as typed: 'yes', 4.5, '2024-03-31'…"
    )


# --- Export datasets ---------------------------------------------------------------------------------------------

# A column's kind (reports.exports.datasets) decides its field; every column may be empty.
_KIND_FIELDS = {
    "text": (serializers.CharField, {"allow_blank": True}),
    "number": (serializers.FloatField, {}),
    "integer": (serializers.IntegerField, {}),
    "boolean": (serializers.BooleanField, {}),
    # In UTC, as the export files write them.
    "datetime": (serializers.DateTimeField, {"default_timezone": datetime.UTC}),
    "date": (serializers.DateField, {}),
}


class DatasetRowSerializer(serializers.Serializer):
    """One row of an export dataset, the columns named and ordered as the contract has them. The viewset hands it
    the row as the dataset selects it (a tuple in column order)."""

    dataset: Dataset

    def to_representation(self, instance):
        return super().to_representation(self.dataset.to_record(instance))


def dataset_serializer(dataset: Dataset) -> type[DatasetRowSerializer]:
    """The row serializer of a dataset, built from its columns so the API can never drift from the files."""
    kinds = dataset.kinds(dataset.select(dataset.queryset()))  # builds the query, does not run it
    fields = {}
    for column, kind in zip(dataset.columns, kinds, strict=True):
        field_class, options = _KIND_FIELDS[kind]
        fields[column.name] = field_class(read_only=True, allow_null=True, help_text=column.description, **options)
    name = "".join(part.title() for part in dataset.slug.split("-"))
    return type(f"{name}RowSerializer", (DatasetRowSerializer,), {"dataset": dataset, **fields})


PillarScoreSerializer = dataset_serializer(DATASETS["pillar-scores"])
DomainScoreSerializer = dataset_serializer(DATASETS["domain-scores"])
IndicatorScoreSerializer = dataset_serializer(DATASETS["indicators"])
GapSerializer = dataset_serializer(DATASETS["gaps"])
AssessmentStatusSerializer = dataset_serializer(DATASETS["assessments"])
