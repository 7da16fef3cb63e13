"""Cycles, frameworks and review queries in the admin, to list and read only. Cycles change on /cycles/, frameworks
are loaded from their files (manage.py load_frameworks) and queries are sent and answered on the review pages: all
through code that checks and audits, which the admin would bypass."""

from django.contrib import admin
from django.db.models import Count

from maturity.models import Cycle, Domain, Framework, ReviewQuery
from trusts.admin import ReadOnlyAdmin, ReadOnlyTabularInline


@admin.register(Cycle)
class CycleAdmin(ReadOnlyAdmin):
    list_display = ["year", "kind", "state", "opens_on", "closes_on", "trust_framework", "ics_framework", "is_demo"]
    list_filter = ["kind", "state", "is_demo"]
    list_select_related = ["trust_framework", "ics_framework"]


class DomainInline(ReadOnlyTabularInline):
    model = Domain
    fields = ["position", "code", "name", "pillar", "weight"]
    show_change_link = False


@admin.register(Framework)
class FrameworkAdmin(ReadOnlyAdmin):
    list_display = ["code", "version", "kind", "name", "domain_count", "loaded_at"]
    list_filter = ["kind"]
    inlines = [DomainInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(domain_count=Count("domains"))

    @admin.display(description="Domains", ordering="domain_count")
    def domain_count(self, framework):
        return framework.domain_count


@admin.register(ReviewQuery)
class ReviewQueryAdmin(ReadOnlyAdmin):
    """Every query sent, to find the open ones (no resolution yet) and what was asked and answered."""

    list_display = ["rule_code", "subject", "assessment", "round", "sent_at", "answer", "answered_at", "resolved_at"]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "answer", "round"]
    list_select_related = [
        "assessment__trust",
        "assessment__ics",
        "assessment__cycle",
        "assessment__care_setting",
        "domain",
    ]
    search_fields = ["assessment__trust__code", "assessment__trust__name", "rule_code", "message"]
    date_hierarchy = "sent_at"
