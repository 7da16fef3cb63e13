"""Improvement plans: for one trust assessment, the domains its trust means to raise, to which level, by when and
who owns each step. A plan is not the return: it changes no counted figure, and it may be made or changed at any
time, before or after submission."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from maturity.models import Assessment, Domain


class PlanQuerySet(models.QuerySet):
    def shown_to(self, viewer):
        """The plans this viewer (trusts.permissions.Viewer) may see: its led trusts', those of the trusts recorded
        in the ICSs it reviews, analysts and admins all; nobody else learns that a plan exists. The same rule as
        AssessmentQuerySet.named_to, since a plan is named only to those who see its assessment by name."""
        if not viewer.signed_in:
            return self.none()
        if viewer.sees_everything:
            return self
        return self.filter(
            Q(assessment__trust_id__in=viewer.led_trust_ids) | Q(assessment__ics_id__in=viewer.reviewed_ics_ids)
        )

    def in_cycle(self, year: int):
        return self.filter(assessment__cycle__year=year)

    def recorded_in_ics(self, ics):
        return self.filter(assessment__ics=ics)


class Plan(models.Model):
    """One trust assessment's improvement plan (trust × care setting × cycle)."""

    assessment = models.OneToOneField(Assessment, on_delete=models.CASCADE, related_name="plan")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, help_text="Goes up with every save: a stale save is refused")

    objects = PlanQuerySet.as_manager()

    def __str__(self):
        return f"Plan for {self.assessment}"


class PlannedStep(models.Model):
    """Raise one domain to a planned level by a date; the owner is a name or role, not an account."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField(help_text="The planned level, above the level answered now")
    target_date = models.DateField()
    owner = models.CharField(max_length=120, help_text="Who owns the step: a name or role")

    class Meta:
        ordering = ["plan", "domain__pillar__position", "domain__position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "domain"], name="one_planned_step_per_domain"),
            models.CheckConstraint(name="planned_level_from_1_to_5", condition=Q(level__gte=1, level__lte=5)),
        ]

    def __str__(self):
        return f"{self.domain.code} → {self.level} by {self.target_date:%Y-%m-%d}"
