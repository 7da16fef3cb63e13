"""The API's viewsets, one pattern throughout (as NetBox): a queryset, a serializer and a filterset. Lists hold what
the user may open; a detail the user may not open answers 403, an unknown one 404, as the pages do. Writes call
maturity.actions, which check permission, state and version and record the audit event; their refusals become
error responses in reports.api.errors."""

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, renderers, viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from maturity import actions
from maturity.models import Assessment, Cycle, Domain, Framework
from reports.api import filtersets, serializers
from reports.api.permissions import MayOpen
from reports.api.renderers import CSVRenderer
from reports.exports import filters
from reports.exports.datasets import DATASETS, visible_rows
from trusts.models import ICS, Region, Trust
from trusts.permissions import viewer_of


class CodeLookupMixin:
    """Organisations by ODS code, case-insensitive (/trusts/r0a/ is R0A), as in the page URLs."""

    lookup_field = "code"

    def get_object(self):
        # The whole table, not the user's list: a trust the user may not open is refused (403), not unknown (404).
        obj = get_object_or_404(self.queryset.all(), code__iexact=self.kwargs["code"])
        self.check_object_permissions(self.request, obj)
        return obj


class RegionViewSet(CodeLookupMixin, viewsets.ReadOnlyModelViewSet):
    """The seven NHS England regions. Everyone may see every region."""

    queryset = Region.objects.all()
    serializer_class = serializers.RegionSerializer
    permission_classes = [IsAuthenticated, MayOpen]


class ICSViewSet(CodeLookupMixin, viewsets.ReadOnlyModelViewSet):
    """Integrated care systems, by ICB ODS code: the ones whose pages you may open."""

    queryset = ICS.objects.select_related("region")
    serializer_class = serializers.ICSSerializer
    filterset_class = filtersets.ICSFilterSet
    permission_classes = [IsAuthenticated, MayOpen]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


class TrustViewSet(CodeLookupMixin, viewsets.ReadOnlyModelViewSet):
    """NHS trusts, by ODS code: the ones whose pages you may open (a lead its own, a reviewer its ICS's members,
    analysts all)."""

    queryset = Trust.objects.select_related("ics__region").prefetch_related("care_settings")
    serializer_class = serializers.TrustSerializer
    filterset_class = filtersets.TrustFilterSet
    permission_classes = [IsAuthenticated, MayOpen]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


class CycleViewSet(viewsets.ReadOnlyModelViewSet):
    """The yearly cycles with their gap targets, by year. Reference data: everyone sees them."""

    queryset = Cycle.objects.prefetch_related("targets")
    serializer_class = serializers.CycleSerializer
    filterset_class = filtersets.CycleFilterSet
    lookup_field = "year"
    lookup_value_regex = r"\d+"


class FrameworkViewSet(viewsets.ReadOnlyModelViewSet):
    """Framework versions with their pillars, domains (level descriptors, care settings, themes, weights,
    comparability) and indicators. Reference data: everyone sees them."""

    queryset = Framework.objects.prefetch_related(
        "indicators",
        # In pillar order, so the serializer groups them as they come.
        Prefetch(
            "domains",
            Domain.objects.select_related("pillar", "comparable_with").order_by("pillar__position", "position"),
        ),
    )
    serializer_class = serializers.FrameworkSerializer
    filterset_class = filtersets.FrameworkFilterSet


class AssessmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Assessments you may see named (maturity.access.may_view): a lead its trust's, a reviewer its member trusts'
    and its ICB's own, analysts all. The detail carries the answers and indicator values; leads change them with
    PATCH /api/v1/assessments/<id>/answers/."""

    queryset = Assessment.objects.select_related("cycle", "trust", "ics", "region", "care_setting", "framework")
    serializer_class = serializers.AssessmentSerializer
    filterset_class = filtersets.AssessmentFilterSet
    permission_classes = [IsAuthenticated, MayOpen]

    def get_queryset(self):
        queryset = super().get_queryset().order_by("cycle__year", "pk")
        if self.action == "list":
            return queryset.named_to(viewer_of(self.request.user))
        return queryset

    def get_serializer_class(self):
        return serializers.AssessmentSerializer if self.action == "list" else serializers.AssessmentDetailSerializer

    def get_object(self):
        obj = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, obj)
        return obj

    @extend_schema(
        summary="Save answers and indicator values",
        description=(
            "The same checks as the assessment forms: you must lead the trust (or review the ICB, for its own "
            "assessment), the assessment must be a draft or returned in an open cycle, and `version` must be the "
            "version you read — otherwise 409 with what changed since. Invalid values answer 400 with the forms' "
            "field keys (`WL01-level`, `indicator-epr_in_place`) and change nothing. Answer fields left out keep "
            "their current values. Each save that changes something is one audit event (action `api`)."
        ),
        request=serializers.AnswersWriteSerializer,
        responses=serializers.AssessmentDetailSerializer,
    )
    @action(detail=True, methods=["patch"], url_path="answers", parser_classes=[JSONParser])
    def answers(self, request, pk=None):
        assessment = self.get_object()
        payload = serializers.AnswersWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        actions.save_answers(
            by=request.user,
            assessment=assessment,
            expected_version=payload.validated_data["version"],
            answers=_with_current_values(assessment, payload.validated_data.get("answers", {})),
            indicators=payload.validated_data.get("indicators", {}),
            action="api",
        )
        return Response(serializers.AssessmentDetailSerializer(self.get_object()).data)


def _with_current_values(assessment: Assessment, answers: dict[str, dict]) -> dict[str, dict]:
    """A PATCH names only what changes; the action takes whole answers. Read outside the action's lock, which is
    safe: if anything changed since, the version check refuses the save."""
    current = {answer.domain.code: answer for answer in assessment.answers.select_related("domain")}
    merged = {}
    for code, fields in answers.items():
        answer = current.get(code)
        merged[code] = {
            "level": answer.level if answer else None,
            "evidence_note": answer.evidence_note if answer else "",
            "evidence_link": answer.evidence_link if answer else "",
        } | fields
    return merged


# --- Export datasets ---------------------------------------------------------------------------------------------


class DatasetViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """An export dataset as the export page has it (reports.exports.datasets): the rows the user may export
    (visible_rows), the export page's filters (reports.exports.filters), the contract's columns in its order; paginated
    JSON, or the page as CSV with ?format=csv. Whole datasets in one file: /exports/<dataset>.csv."""

    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]

    def get_queryset(self):
        return visible_rows(self.dataset, self.request.user)

    def filter_queryset(self, queryset):
        # Filter on the dataset's own fields first, then select the columns (as tuples, in the contract's order).
        return self.dataset.select(super().filter_queryset(queryset))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if getattr(request, "accepted_renderer", None) is not None and request.accepted_renderer.format == "csv":
            page = request.query_params.get("page", "1")
            page = page if page.isdigit() else "1"
            response["Content-Disposition"] = f'attachment; filename="{self.dataset.slug}-page-{page}.csv"'
        return response


def _dataset_schema(serializer_class, has_pillar: bool = True):
    """Both formats of a dataset page in the schema, and ?format= (schemathesis tries CSV too)."""
    return extend_schema_view(
        list=extend_schema(
            parameters=[
                OpenApiParameter(
                    "format",
                    OpenApiTypes.STR,
                    enum=["json", "csv"],
                    description="json (the default) or csv: the same page as CSV, columns in the contract's order",
                ),
            ],
            responses={
                (200, "application/json"): serializer_class(many=True),
                (200, "text/csv"): OpenApiTypes.STR,
            },
        )
    )


@_dataset_schema(serializers.PillarScoreSerializer)
class PillarScoreViewSet(DatasetViewSet):
    """Each counted assessment's score on the seven pillars and overall (pillar_code `overall`)."""

    dataset = DATASETS["pillar-scores"]
    serializer_class = serializers.PillarScoreSerializer
    filterset_class = filters.PillarScoreFilterSet


@_dataset_schema(serializers.DomainScoreSerializer)
class DomainScoreViewSet(DatasetViewSet):
    """Each counted return's level on every domain it answered (entered here only)."""

    dataset = DATASETS["domain-scores"]
    serializer_class = serializers.DomainScoreSerializer
    filterset_class = filters.DomainScoreFilterSet


@_dataset_schema(serializers.IndicatorScoreSerializer)
class IndicatorScoreViewSet(DatasetViewSet):
    """Each counted assessment's contextual indicators. `pillar` does not apply and is ignored."""

    dataset = DATASETS["indicators"]
    serializer_class = serializers.IndicatorScoreSerializer
    filterset_class = filters.IndicatorFilterSet


@_dataset_schema(serializers.GapSerializer)
class GapViewSet(DatasetViewSet):
    """Each counted assessment's distance to each of its cycle's targets. `pillar` does not apply and is ignored."""

    dataset = DATASETS["gaps"]
    serializer_class = serializers.GapSerializer
    filterset_class = filters.GapFilterSet


@_dataset_schema(serializers.AssessmentStatusSerializer)
class AssessmentStatusViewSet(DatasetViewSet):
    """The `assessments` export dataset (submission status of every return, drafts included), at
    /api/v1/assessments-status/ so it does not clash with the assessments resource. `pillar` is ignored."""

    dataset = DATASETS["assessments"]
    serializer_class = serializers.AssessmentStatusSerializer
    filterset_class = filters.AssessmentFilterSet
