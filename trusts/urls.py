from django.urls import path

from trusts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("national/", views.national, name="national"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("ics/<str:code>/", views.ics_detail, name="ics"),
    path("trusts/<str:code>/", views.trust_detail, name="trust"),
    path("search/", views.search, name="search"),
]
