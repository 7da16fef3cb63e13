from django.urls import include, path

from maturity import cycle_views, review_views, spreadsheet_views, views

# The same pages serve a trust's assessment (per care setting) and an ICS's own; the URL prefix says which.
assessment_pages = [
    path("", views.overview, name="overview"),
    path("start/", views.start, name="start"),
    path("pillars/<slug:pillar_code>/", views.pillar, name="pillar"),
    path("indicators/", views.indicators, name="indicators"),
    path("check/", views.check_answers, name="check"),
    path("submit/", views.submit, name="submit"),
    path("review/", review_views.review, name="review"),
    path("reopen/", views.reopen, name="reopen"),
    path("history/", views.history, name="history"),
    path("queries/<int:query_id>/", views.query_page, name="query"),
    path("template.<str:format>", spreadsheet_views.template, name="template"),
    path("upload/", spreadsheet_views.upload, name="upload"),
]

urlpatterns = [
    path("ics/<str:code>/reviews/", review_views.review_queue, name="review_queue"),
    path("reviews/icbs/", review_views.ics_review_queue, name="ics_review_queue"),
    path("cycles/", cycle_views.cycle_list, name="cycles"),
    path("cycles/<int:year>/", cycle_views.cycle_detail, name="cycle"),
    path(
        "trusts/<str:code>/assessments/<int:year>/<slug:setting>/",
        include((assessment_pages, "trust_assessment")),
    ),
    path("ics/<str:code>/assessments/<int:year>/", include((assessment_pages, "ics_assessment"))),
]
