"""Improvement plans in the admin, to list and read only: a plan is saved on the planner, through
planning.actions.save_plan, which checks who may and audits, as the admin would not."""

from django.contrib import admin

from planning.models import Plan, PlannedStep
from trusts.admin import ReadOnlyAdmin, ReadOnlyTabularInline


class PlannedStepInline(ReadOnlyTabularInline):
    model = PlannedStep
    fields = ["domain", "level", "target_date", "owner"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("domain__pillar")


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = ["assessment", "version", "created_by", "updated_at"]
    list_select_related = [
        "assessment__trust",
        "assessment__ics",
        "assessment__cycle",
        "assessment__care_setting",
        "created_by",
    ]
    search_fields = ["assessment__trust__code", "assessment__trust__name"]
    inlines = [PlannedStepInline]
