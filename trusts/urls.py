from django.urls import path

from trusts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("national/", views.national, name="national"),
    path("regions/<str:code>/", views.region_detail, name="region"),
    path("search/", views.search, name="search"),
]
