"""NHS organisations as ODS publishes them: regions, integrated care systems (ICBs), trusts, and who belongs where."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


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


# The organisation each role names: a trust lead a trust, an ICS reviewer an ICS, an analyst neither. Memberships and
# invitations are both held to it.
ORGANISATION_MATCHES_ROLE = (
    Q(role=Role.TRUST_LEAD, trust__isnull=False, ics__isnull=True)
    | Q(role=Role.ICS_REVIEWER, ics__isnull=False, trust__isnull=True)
    | Q(role=Role.ANALYST, trust__isnull=True, ics__isnull=True)
)
ORGANISATION_MISMATCH = "A trust lead needs a trust, an ICS reviewer an ICS, and an analyst neither."


class MembershipQuerySet(models.QuerySet):
    def current(self, on=None):
        """In force on a day (today by default): started, and not yet ended."""
        on = on or timezone.localdate()
        return self.filter(Q(starts_on__lte=on), Q(ends_on__isnull=True) | Q(ends_on__gt=on))


class Membership(models.Model):
    """A user's role in an organisation: a trust lead of a trust, an ICS reviewer of an ICS, or an analyst of
    NHS England (no organisation here: analysts see the whole country). It counts from `starts_on` until the day
    before `ends_on`; an ended membership is kept (and re-opened if the role is granted again), so the role events
    that explain it still point at it. Changed only through trusts.actions, which audits every change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships")
    ics = models.ForeignKey(ICS, on_delete=models.CASCADE, null=True, blank=True, related_name="memberships")
    starts_on = models.DateField(default=timezone.localdate, help_text="The first day the role counts")
    ends_on = models.DateField(
        null=True, blank=True, help_text="The first day the role no longer counts; empty while it lasts"
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="membership_organisation_matches_role",
                condition=ORGANISATION_MATCHES_ROLE,
                violation_error_message=ORGANISATION_MISMATCH,
            ),
            models.CheckConstraint(
                name="membership_ends_after_it_starts",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=F("starts_on")),
                violation_error_message="A membership cannot end before it starts.",
            ),
            models.UniqueConstraint(
                fields=["user", "trust"],
                condition=Q(trust__isnull=False),
                name="one_trust_role",
                violation_error_message="This user already has a membership of this trust: change its dates instead.",
            ),
            models.UniqueConstraint(
                fields=["user", "ics"],
                condition=Q(ics__isnull=False),
                name="one_ics_role",
                violation_error_message="This user already has a membership of this ICS: change its dates instead.",
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(role=Role.ANALYST),
                name="one_analyst_role",
                violation_error_message="This user is already an analyst: change that membership's dates instead.",
            ),
        ]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} – {self.organisation_name}"

    @property
    def organisation(self):
        return self.trust or self.ics

    @property
    def organisation_name(self):
        if self.trust_id:
            return self.trust.name
        if self.ics_id:
            return self.ics.name
        return "NHS England"

    def is_current(self, on=None) -> bool:
        on = on or timezone.localdate()
        return self.starts_on <= on and (self.ends_on is None or self.ends_on > on)


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, withdrawn_at__isnull=True, expires_at__gt=timezone.now())

    def managed_by(self, user):
        """The invitations a user may list: all for analysts, those for their ICSs' trusts for ICS reviewers."""
        from trusts import permissions

        viewer = permissions.viewer_of(user)
        if viewer.sees_everything:
            return self
        return self.filter(trust__ics_id__in=viewer.reviewed_ics_ids)


class Invitation(models.Model):
    """An e-mailed offer of a role. Only the SHA-256 of its token is kept, so the database cannot be used to accept
    it; the token itself is in the e-mail only. Accepted once, within its days (INVITATION_VALID_DAYS)."""

    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices)
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations")
    ics = models.ForeignKey(ICS, on_delete=models.PROTECT, null=True, blank=True, related_name="invitations")
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    email_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the e-mail with the link went; empty until then (the sweep retries)"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, help_text="When the inviter took it back, unused")
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="invitation_organisation_matches_role",
                condition=ORGANISATION_MATCHES_ROLE,
                violation_error_message=ORGANISATION_MISMATCH,
            ),
        ]

    def __str__(self):
        return f"{self.email} – {self.get_role_display()} – {self.organisation_name}"

    @property
    def organisation(self):
        return self.trust or self.ics

    @property
    def organisation_name(self):
        organisation = self.organisation
        return organisation.name if organisation else "NHS England"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_pending(self) -> bool:
        """Can still be accepted: not used, not withdrawn, not expired (as InvitationQuerySet.pending)."""
        return self.accepted_at is None and self.withdrawn_at is None and not self.is_expired


class RoleAction(models.TextChoices):
    GRANT = "grant", "Granted"
    CHANGE_DATES = "change-dates", "Changed dates"
    REVOKE = "revoke", "Revoked"
    INVITE = "invite", "Invited"
    ACCEPT = "accept", "Accepted"
    DEACTIVATE = "deactivate", "Deactivated"
    REACTIVATE = "reactivate", "Reactivated"
    WITHDRAW = "withdraw", "Withdrew an invitation"


class RoleEvent(models.Model):
    """Who gave, changed or took away whose role, and when. Written by trusts.actions, never edited. The actor is
    empty for the operator (manage.py grant_role); the subject is empty for an invitation to a new address."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="role_events"
    )
    email = models.EmailField(blank=True, help_text="The invitee's address, for invitations")
    action = models.CharField(max_length=20, choices=RoleAction.choices)
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    ics = models.ForeignKey(ICS, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    invitation = models.ForeignKey(Invitation, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        actor = self.actor or "operator"
        return f"{self.at:%Y-%m-%d %H:%M} {actor} {self.get_action_display().lower()} {self.subject or self.email}"

    @property
    def organisation_name(self):
        if self.trust_id:
            return self.trust.name
        if self.ics_id:
            return self.ics.name
        return "NHS England" if self.role == Role.ANALYST else ""
