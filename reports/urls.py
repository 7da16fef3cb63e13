from django.urls import path

from reports import views

urlpatterns = [
    path("health/", views.health, name="health"),
]
