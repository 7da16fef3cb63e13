"""NHS organisations as ODS publishes them: regions, integrated care systems (ICBs), trusts, and who belongs where."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Region(models.Model):
    """An NHS England region, by its ODS Y-code."""

    code = models.CharField(max_length=3, unique=True, help_text="ODS code, e.g. Y56")
    ons_code = models.CharField(max_length=9, unique=True, help_text="ONS code, e.g. E40000003")
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ICSQuerySet(models.QuerySet):
    def in_region(self, region):
        return self.filter(region=region)

    def with_trust_counts(self):
        return self.annotate(open_trust_count=models.Count("trusts", filter=Q(trusts__closed_on__isnull=True)))

    def search(self, query):
        return self.filter(Q(code__iexact=query) | Q(name__icontains=query))

    def visible_to(self, user):
        from trusts import permissions

        return self.filter(permissions.icss_visible_to(user))


class ICS(models.Model):
    """An integrated care system, identified by its integrated care board's ODS Q-code."""

    code = models.CharField(max_length=3, unique=True, help_text="ODS code of the ICB, e.g. QOP")
    ons_code = models.CharField(max_length=9, unique=True, help_text="ONS code, e.g. E54000057")
    name = models.CharField(
        max_length=150, help_text="The ICB's name, e.g. NHS Greater Manchester Integrated Care Board"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="icss")

    objects = ICSQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "ICS"
        verbose_name_plural = "ICSs"

    def __str__(self):
        return self.name

    @property
    def short_name(self):
        """'NHS Greater Manchester Integrated Care Board' reads as 'Greater Manchester' in tables and headings."""
        return self.name.removeprefix("NHS ").removesuffix(" Integrated Care Board")


class CareSettingQuerySet(models.QuerySet):
    def ensure_all(self):
        """Create the four settings if missing. They are fixed by the DMA, so they live in code rather than in a
        data migration, which a transactional test's flush would wipe for every test after it."""
        if self.count() < len(CareSetting.ALL):
            self.bulk_create(
                [CareSetting(slug=slug, name=name, position=position) for slug, name, position in CareSetting.ALL],
                ignore_conflicts=True,
            )


class CareSetting(models.Model):
    """A care setting a trust makes a return for: the four settings of the DMA."""

    ACUTE = "acute"
    COMMUNITY = "community"
    MENTAL_HEALTH = "mental-health"
    AMBULANCE = "ambulance"
    ALL = [
        (ACUTE, "Acute", 1),
        (COMMUNITY, "Community", 2),
        (MENTAL_HEALTH, "Mental Health", 3),
        (AMBULANCE, "Ambulance", 4),
    ]

    slug = models.SlugField(primary_key=True, max_length=20)
    name = models.CharField(max_length=30, unique=True, help_text="As the DMA names it, e.g. Mental Health")
    position = models.PositiveSmallIntegerField(unique=True)

    objects = CareSettingQuerySet.as_manager()

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return self.name


class TrustType(models.TextChoices):
    ACUTE = "acute", "Acute"
    ACUTE_SPECIALIST = "acute-specialist", "Acute specialist"
    MENTAL_HEALTH = "mental-health", "Mental health"
    COMMUNITY = "community", "Community"
    AMBULANCE = "ambulance", "Ambulance"
    CARE_TRUST = "care-trust", "Care trust"


class TrustQuerySet(models.QuerySet):
    def open(self):
        return self.filter(closed_on__isnull=True)

    def in_ics(self, ics):
        return self.filter(ics=ics)

    def in_region(self, region):
        return self.filter(ics__region=region)

    def search(self, query):
        return self.filter(Q(code__iexact=query) | Q(name__icontains=query))

    def visible_to(self, user):
        from trusts import permissions

        return self.filter(permissions.trusts_visible_to(user))


class Trust(models.Model):
    """An NHS trust, identified by its ODS code, attached to its host ICS (the ICB that holds its contract)."""

    code = models.CharField(max_length=5, unique=True, help_text="ODS code, e.g. R0A")
    name = models.CharField(max_length=150)
    trust_type = models.CharField(max_length=20, choices=TrustType.choices)
    eric_type = models.CharField(
        max_length=60,
        blank=True,
        help_text="ERIC 2021/22 trust type, e.g. ACUTE - TEACHING; finer than trust_type",
    )
    ics = models.ForeignKey(ICS, on_delete=models.PROTECT, related_name="trusts", verbose_name="host ICS")
    geographic_ics = models.ForeignKey(
        ICS,
        on_delete=models.PROTECT,
        related_name="geographic_trusts",
        null=True,
        blank=True,
        help_text="The ICB whose area holds the trust's headquarters, where it differs from the host ICS",
    )
    care_settings = models.ManyToManyField(CareSetting, related_name="trusts", blank=True)
    care_settings_derived = models.BooleanField(
        default=False,
        help_text="True when the care settings come from the trust type, not from the DMA 2025 returns",
    )
    address = models.CharField(max_length=300, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    opened_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)

    objects = TrustQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_open(self):
        return self.closed_on is None


class Role(models.TextChoices):
    TRUST_LEAD = "trust-lead", "Trust lead"
    ICS_REVIEWER = "ics-reviewer", "ICS reviewer"
    ANALYST = "analyst", "Analyst"


class Membership(models.Model):
    """A user's role in an organisation: a trust lead of a trust, an ICS reviewer of an ICS, or an analyst of
    NHS England (no organisation here: analysts see the whole country)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships")
    ics = models.ForeignKey(ICS, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships")

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="membership_organisation_matches_role",
                condition=(
                    Q(role=Role.TRUST_LEAD, trust__isnull=False, ics__isnull=True)
                    | Q(role=Role.ICS_REVIEWER, ics__isnull=False, trust__isnull=True)
                    | Q(role=Role.ANALYST, trust__isnull=True, ics__isnull=True)
                ),
            ),
            models.UniqueConstraint(fields=["user", "trust"], condition=Q(trust__isnull=False), name="one_trust_role"),
            models.UniqueConstraint(fields=["user", "ics"], condition=Q(ics__isnull=False), name="one_ics_role"),
            models.UniqueConstraint(fields=["user"], condition=Q(role=Role.ANALYST), name="one_analyst_role"),
        ]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} – {self.organisation_name}"

    @property
    def organisation_name(self):
        if self.trust_id:
            return self.trust.name
        if self.ics_id:
            return self.ics.name
        return "NHS England"
