from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.urls import include, path
from django.views.generic import TemplateView

from config.pages import organisations
from trusts.accounts import ThrottledLoginView

handler400 = "config.errors.bad_request"

urlpatterns = [
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
    path("accounts/logout/", LogoutView.as_view(), name="logout"),
    path("accessibility/", TemplateView.as_view(template_name="accessibility.html"), name="accessibility"),
    path("admin/", admin.site.urls),
    path("national/", organisations.national, name="national"),
    path("regions/<str:code>/", organisations.region, name="region"),
    path("ics/<str:code>/", organisations.ics, name="ics"),
    path("ics/<str:code>/print/", organisations.ics, {"template": "pages/ics_print.html"}, name="ics_print"),
    path("trusts/<str:code>/", organisations.trust, name="trust"),
    # The API at /api/ and its token page at /account/api-token/ (both in reports.api.urls).
    path("", include("reports.api.urls")),
    path("", include("reports.urls")),
    path("", include("reports.exports.urls")),
    path("", include("maturity.urls")),
    path("", include("planning.urls")),
    path("", include("trusts.urls")),
    path("", include("notifications.urls")),
]
