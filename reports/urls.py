from django.urls import path

from reports import views

urlpatterns = [
    path("health/", views.health, name="health"),
    path("national/", views.national, name="national"),
    path("regions/<str:code>/", views.region, name="region"),
    path("ics/<str:code>/", views.ics, name="ics"),
    path("ics/<str:code>/print/", views.ics, {"template": "reports/ics_print.html"}, name="ics_print"),
    path("trusts/<str:code>/", views.trust, name="trust"),
    path("summaries/", views.summary_runs, name="summary_runs"),
]
