from django.urls import path

from reports import views

urlpatterns = [
    path("health/", views.health, name="health"),
    path("summaries/", views.summary_runs, name="summary_runs"),
    path("summaries/parked/<int:pk>/requeue/", views.requeue_refresh_mark, name="requeue_refresh_mark"),
]
