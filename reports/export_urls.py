from django.urls import path

from reports import export_views

urlpatterns = [
    path("exports/", export_views.export_page, name="exports"),
    path("exports/<slug:dataset>.csv", export_views.export_file, {"fmt": "csv"}, name="export_csv"),
    path("exports/<slug:dataset>.xlsx", export_views.export_file, {"fmt": "xlsx"}, name="export_xlsx"),
]
