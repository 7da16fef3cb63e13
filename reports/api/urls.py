"""The API's URLs, and the token page that goes with it (/account/api-token/), included at the site root."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from reports.api import errors, token_views, views


class Router(DefaultRouter):
    # One way to ask for CSV (?format=csv) rather than two: no /pillar-scores.csv suffix routes.
    include_format_suffixes = False


router = Router()
router.register("regions", views.RegionViewSet, basename="region")
router.register("icss", views.ICSViewSet, basename="ics")
router.register("trusts", views.TrustViewSet, basename="trust")
router.register("cycles", views.CycleViewSet, basename="cycle")
router.register("frameworks", views.FrameworkViewSet, basename="framework")
router.register("assessments", views.AssessmentViewSet, basename="assessment")
# The export datasets, named as /exports/ names them; the "assessments" dataset (submission status) is
# assessments-status here, beside the assessments resource.
router.register("pillar-scores", views.PillarScoreViewSet, basename="pillar-score")
router.register("domain-scores", views.DomainScoreViewSet, basename="domain-score")
router.register("indicators", views.IndicatorScoreViewSet, basename="indicator")
router.register("gaps", views.GapViewSet, basename="gap")
router.register("assessments-status", views.AssessmentStatusViewSet, basename="assessment-status")

# Under the site's strict policy as it is: Swagger UI 5 draws without inline scripts or styles (checked in Chromium,
# "Try it out" included), so this page needs no csp_update.
api_docs = login_required(TemplateView.as_view(template_name="reports/api_docs.html"))

urlpatterns = [
    path("api/v1/", include((router.urls, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", api_docs, name="api_docs"),
    # Anything else under /api/ is the API's 404, not the HTML page (paths without the slash get
    # CommonMiddleware's redirect to here first). [\s\S], not ".": a line break in a path is unknown too.
    re_path(r"^api/[\s\S]*/$", errors.not_found),
    path("account/api-token/", token_views.api_token, name="api_token"),
]
