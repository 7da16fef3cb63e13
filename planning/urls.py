from django.urls import path

from planning import views

app_name = "planning"

# A trust's planner for a cycle, and the planner of one of its returns (one per care setting), as an assessment's
# pages name a trust, a cycle and a care setting.
urlpatterns = [
    path("trusts/<str:code>/<int:year>/plan/", views.choose, name="choose"),
    path("trusts/<str:code>/<int:year>/<slug:setting>/plan/", views.plan, name="plan"),
]
