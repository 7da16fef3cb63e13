from django.urls import path

from reports.exports import views

urlpatterns = [
    path("exports/", views.export_page, name="exports"),
    path("exports/<slug:dataset>.csv", views.export_file, {"fmt": "csv"}, name="export_csv"),
    path("exports/<slug:dataset>.xlsx", views.export_file, {"fmt": "xlsx"}, name="export_xlsx"),
]
