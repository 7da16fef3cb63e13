from django.urls import path

from notifications import views

urlpatterns = [
    path("account/notifications/", views.notification_preferences, name="notification_preferences"),
]
