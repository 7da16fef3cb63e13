"""The What Good Looks Like framework as data, the yearly cycles, the assessments and everything said about them."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from trusts.models import ICS, CareSetting, Region, Trust


class Theme(models.TextChoices):
    """Gap themes: legacy IT, EPR and cyber are required of every framework; workforce and investment are not."""

    LEGACY_IT = "legacy_it", "Legacy IT"
    EPR = "epr", "Electronic patient record"
    CYBER = "cyber", "Cyber security"
    WORKFORCE = "workforce", "Workforce"
    INVESTMENT = "investment", "Investment"


REQUIRED_THEMES = (Theme.LEGACY_IT, Theme.EPR, Theme.CYBER)


class PillarQuerySet(models.QuerySet):
    def ensure_all(self):
        """Create the seven pillars if missing. Fixed by WGLL, so they live in code, like the care settings."""
        if self.count() < len(Pillar.ALL):
            self.bulk_create(
                [Pillar(code=code, name=name, position=n) for n, (code, name) in enumerate(Pillar.ALL, start=1)],
                ignore_conflicts=True,
            )


class Pillar(models.Model):
    """One of the seven WGLL success measures. Stable across framework versions, so history lines up."""

    ALL = [
        ("well_led", "Well Led"),
        ("smart_foundations", "Ensure Smart Foundations"),
        ("safe_practice", "Safe Practice"),
        ("support_workforce", "Support Workforce"),
        ("empower_people", "Empower People"),
        ("improve_care", "Improve Care"),
        ("healthy_populations", "Healthy Populations"),
    ]

    code = models.SlugField(max_length=30, unique=True, help_text="e.g. smart_foundations, as in the export contract")
    name = models.CharField(max_length=60, unique=True, help_text="As the DMA names it, e.g. Ensure Smart Foundations")
    position = models.PositiveSmallIntegerField(unique=True)

    objects = PillarQuerySet.as_manager()

    class Meta:
        ordering = ["position"]

    def __str__(self):
        return self.name


class FrameworkKind(models.TextChoices):
    TRUST = "trust", "Trust (one return per care setting)"
    ICS = "ics", "Integrated care board"


class Framework(models.Model):
    """A version of the WGLL framework as loaded from one file in fixtures/frameworks/. Never edited once loaded:
    a new version is a new file."""

    code = models.SlugField(max_length=40, help_text="e.g. wgll-trust")
    version = models.CharField(max_length=20, help_text="e.g. 2026.1")
    kind = models.CharField(max_length=10, choices=FrameworkKind.choices)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    source_file = models.CharField(max_length=200)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file: the same version must not change")
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="one_framework_version")]

    def __str__(self):
        return f"{self.name} {self.version}"


class Domain(models.Model):
    """A scored domain: a whole level from 1 to 5, each level described in words."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="domains")
    pillar = models.ForeignKey(Pillar, on_delete=models.PROTECT, related_name="domains")
    code = models.CharField(max_length=20, help_text="e.g. SF03; unique within a framework version")
    name = models.CharField(max_length=120)
    description = models.TextField()
    levels = models.JSONField(help_text="Five descriptors, level 1 first")
    care_settings = models.JSONField(
        default=list, help_text="Care setting slugs the domain applies to; empty for an ICS framework"
    )
    themes = models.JSONField(default=list, help_text="Gap theme codes the domain counts towards")
    weight = models.DecimalField(max_digits=5, decimal_places=2, help_text="Weight in the overall score")
    comparable_with = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="compared_by",
        help_text="The domain of an earlier version this one can be compared with year on year",
    )
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["framework", "pillar__position", "position"]
        constraints = [models.UniqueConstraint(fields=["framework", "code"], name="one_domain_code_per_framework")]

    def __str__(self):
        return f"{self.code} {self.name}"

    def applies_to(self, care_setting_slug: str | None) -> bool:
        return not self.care_settings or care_setting_slug in self.care_settings


class IndicatorType(models.TextChoices):
    BOOLEAN = "boolean", "Yes or no"
    CHOICE = "choice", "One of a list"
    DATE = "date", "Date"
    PERCENT = "percent", "Percentage"
    NUMBER = "number", "Number"
    TEXT = "text", "Text"


class Indicator(models.Model):
    """A contextual indicator a framework version asks for (not scored): EPR, DSPT, devices, spend, vacancies."""

    framework = models.ForeignKey(Framework, on_delete=models.CASCADE, related_name="indicators")
    code = models.SlugField(max_length=40, help_text="e.g. unsupported_devices_pct; the same code across versions")
    name = models.CharField(max_length=120)
    help_text = models.TextField(blank=True)
    value_type = models.CharField(max_length=10, choices=IndicatorType.choices)
    choices = models.JSONField(default=list, blank=True, help_text="Allowed values of a choice indicator")
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    required = models.BooleanField(default=True)
    themes = models.JSONField(default=list)
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["framework", "position"]
        constraints = [models.UniqueConstraint(fields=["framework", "code"], name="one_indicator_code_per_framework")]

    def __str__(self):
        return self.name


class CheckKind(models.TextChoices):
    """The kinds of cross-check the engine (maturity.checks) knows; a rules file combines them with parameters."""

    LEVEL_WHILE_INDICATOR_IN = "level_while_indicator_in", "Theme domain at a level while an indicator is one of"
    LEVEL_WHILE_INDICATOR_ABOVE = "level_while_indicator_above", "Theme domain at a level while an indicator is above"
    LEVEL_MOVED = "level_moved", "A comparable domain moved by some levels since the last cycle"
    INDICATOR_OUTSIDE = "indicator_outside", "An entered indicator outside a range"


class CheckSet(models.Model):
    """A version of the cross-checks as loaded from one file in fixtures/checks/. Never edited once loaded: a
    change is a new file with a new version."""

    code = models.SlugField(max_length=40, help_text="e.g. wgll-checks")
    version = models.CharField(max_length=20, help_text="e.g. 2026.1")
    name = models.CharField(max_length=120)
    source_file = models.CharField(max_length=200)
    checksum = models.CharField(max_length=64, help_text="SHA-256 of the file: the same version must not change")
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code", "version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="one_check_set_version")]

    def __str__(self):
        return f"{self.name} {self.version}"


class CheckRule(models.Model):
    """One cross-check of a set: its kind, the kind's parameters and the message it shows when it fires."""

    check_set = models.ForeignKey(CheckSet, on_delete=models.CASCADE, related_name="rules")
    code = models.SlugField(max_length=60)
    kind = models.CharField(max_length=40, choices=CheckKind.choices)
    parameters = models.JSONField(help_text="The kind's parameters, e.g. theme, min_level, indicator, values")
    message = models.TextField(help_text="A template with named placeholders such as {domain} and {level}")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["check_set", "position"]
        constraints = [models.UniqueConstraint(fields=["check_set", "code"], name="one_rule_code_per_check_set")]

    def __str__(self):
        return self.code


class CycleState(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"
    PUBLISHED = "published", "Published"


class CycleKind(models.TextChoices):
    COLLECTED = "collected", "Collected here"
    PUBLISHED_HISTORY = "published_history", "Published history (imported, read-only)"


class CycleQuerySet(models.QuerySet):
    def collected(self):
        return self.filter(kind=CycleKind.COLLECTED)

    def open(self):
        return self.filter(state=CycleState.OPEN)

    def current(self):
        """Collected cycles whose returns are being made or reviewed, newest first."""
        return self.collected().filter(state__in=[CycleState.OPEN, CycleState.CLOSED]).order_by("-year")


class Cycle(models.Model):
    """One year's assessment round: either collected here or NHS England's published history, never both."""

    year = models.PositiveSmallIntegerField(unique=True)
    kind = models.CharField(max_length=20, choices=CycleKind.choices)
    state = models.CharField(max_length=10, choices=CycleState.choices, default=CycleState.UPCOMING)
    trust_framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, null=True, blank=True, related_name="trust_cycles"
    )
    ics_framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, null=True, blank=True, related_name="ics_cycles"
    )
    opens_on = models.DateField(null=True, blank=True)
    closes_on = models.DateField(null=True, blank=True, help_text="The submission deadline")
    is_demo = models.BooleanField(default=False, help_text="Holds synthetic demonstration data")
    source_note = models.CharField(max_length=300, blank=True, help_text="Where published history came from")

    objects = CycleQuerySet.as_manager()

    class Meta:
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(
                name="collected_cycle_has_frameworks",
                condition=Q(kind=CycleKind.PUBLISHED_HISTORY)
                | Q(trust_framework__isnull=False, ics_framework__isnull=False),
            ),
        ]

    def __str__(self):
        return str(self.year)

    @property
    def is_published_history(self):
        return self.kind == CycleKind.PUBLISHED_HISTORY


class TargetKind(models.TextChoices):
    DOMAIN_LEVEL = "domain_level", "Mean level on the theme's domains at least"
    INDICATOR_AT_LEAST = "indicator_at_least", "Indicator at least"
    INDICATOR_AT_MOST = "indicator_at_most", "Indicator at most"
    INDICATOR_IN = "indicator_in", "Indicator one of"


class GapTarget(models.Model):
    """What an assessment should reach on a theme in a cycle; the gap is the distance to it. Set by analysts."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="targets")
    theme = models.CharField(max_length=20, choices=Theme.choices)
    kind = models.CharField(max_length=20, choices=TargetKind.choices)
    indicator_code = models.SlugField(max_length=40, blank=True)
    value = models.JSONField(help_text="A number, or a list of allowed values for 'one of'")
    description = models.CharField(max_length=200)

    class Meta:
        ordering = ["cycle", "theme", "pk"]

    def __str__(self):
        return f"{self.cycle} {self.get_theme_display()}: {self.description}"


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    RETURNED = "returned", "Returned"
    APPROVED = "approved", "Approved"
    PUBLISHED = "published", "Published"


class Source(models.TextChoices):
    RETURN = "return", "Entered here"
    PUBLISHED = "published", "Published by NHS England"


EDITABLE_STATUSES = (Status.DRAFT, Status.RETURNED)
COUNTED_STATUSES = (Status.SUBMITTED, Status.APPROVED, Status.PUBLISHED)


class AssessmentQuerySet(models.QuerySet):
    def for_trusts(self):
        return self.filter(trust__isnull=False)

    def for_icss(self):
        return self.filter(trust__isnull=True)

    def in_cycle(self, cycle):
        return self.filter(cycle=cycle)

    def of_trust(self, trust):
        return self.filter(trust=trust)

    def recorded_in_ics(self, ics):
        return self.filter(ics=ics)

    def counted(self):
        """What dashboards and aggregates use: approved, submitted (provisional) and published; never drafts."""
        return self.filter(status__in=COUNTED_STATUSES)

    def awaiting_review(self):
        return self.filter(status=Status.SUBMITTED)

    def named_to(self, viewer):
        """Entered assessments this viewer (trusts.permissions.Viewer) sees by name: its led trusts', those recorded
        in the ICSs it reviews (the ICB's own return included); analysts and admins all. The same rule as
        Viewer.names_assessment."""
        return self._scoped(viewer, Q())

    def shown_to(self, viewer):
        """What this viewer may read row by row: what it sees by name, and NHS England's published results, which
        are public."""
        return self._scoped(viewer, Q(source=Source.PUBLISHED))

    def _scoped(self, viewer, also: Q):
        if not viewer.signed_in:
            return self.none()
        if viewer.sees_everything:
            return self
        named = Q(trust_id__in=viewer.led_trust_ids) | Q(ics_id__in=viewer.reviewed_ics_ids)
        return self.filter(named | also) if also else self.filter(named)


class Assessment(models.Model):
    """One annual return: a trust's for one care setting, or an ICS's own (trust and care setting empty).
    It records the ICS and region it belonged to in its cycle; published results keep the ICB NHS England
    published them under."""

    cycle = models.ForeignKey(Cycle, on_delete=models.PROTECT, related_name="assessments")
    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    trust = models.ForeignKey(Trust, on_delete=models.PROTECT, null=True, blank=True, related_name="assessments")
    care_setting = models.ForeignKey(CareSetting, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    ics = models.ForeignKey(ICS, on_delete=models.PROTECT, related_name="assessments")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="assessments")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.RETURN)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1, help_text="Goes up with every change: stale saves are refused")
    is_demo = models.BooleanField(default=False)
    published_name = models.CharField(max_length=200, blank=True, help_text="The name NHS England published it under")
    sign_off_name = models.CharField(max_length=120, blank=True)
    sign_off_role = models.CharField(max_length=120, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["cycle", "trust__name", "care_setting__position"]
        constraints = [
            models.UniqueConstraint(
                fields=["cycle", "trust", "care_setting"],
                condition=Q(trust__isnull=False),
                name="one_assessment_per_trust_setting_cycle",
            ),
            models.UniqueConstraint(
                fields=["cycle", "ics"], condition=Q(trust__isnull=True), name="one_ics_assessment_per_cycle"
            ),
            models.CheckConstraint(
                name="trust_assessment_has_care_setting",
                condition=Q(trust__isnull=True, care_setting__isnull=True)
                | Q(trust__isnull=False, care_setting__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.organisation_name} – {self.setting_label} – {self.cycle}"

    @property
    def is_ics_assessment(self):
        return self.trust_id is None

    @property
    def organisation_name(self):
        return self.trust.name if self.trust_id else self.ics.name

    @property
    def setting_label(self):
        return self.care_setting.name if self.care_setting_id else "ICB"

    @property
    def is_editable_status(self):
        return self.status in EDITABLE_STATUSES

    def applicable_domains(self) -> list[Domain]:
        """The framework's domains for this assessment's care setting, in pillar order."""
        if self.framework_id is None:
            return []
        domains = self.framework.domains.select_related("pillar").order_by("pillar__position", "position")
        return [domain for domain in domains if domain.applies_to(self.care_setting_id)]

    def indicators(self) -> list[Indicator]:
        return list(self.framework.indicators.order_by("position")) if self.framework_id else []


class DomainAnswer(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, related_name="answers")
    level = models.PositiveSmallIntegerField(null=True, blank=True)
    evidence_note = models.TextField(blank=True)
    evidence_link = models.URLField(max_length=500, blank=True)
    # Set by the reviewer who checked the note and link (actions.verify_evidence); cleared when the lead changes the
    # level, note or link afterwards, so "verified" always means the evidence the reviewer saw.
    evidence_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    evidence_verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["assessment", "domain"], name="one_answer_per_domain"),
            models.CheckConstraint(
                name="level_from_1_to_5", condition=Q(level__isnull=True) | Q(level__gte=1, level__lte=5)
            ),
        ]

    def __str__(self):
        return f"{self.domain.code}: {self.level}"

    @property
    def has_evidence(self) -> bool:
        return bool(self.evidence_note.strip() or self.evidence_link.strip())


class IndicatorValue(models.Model):
    """A contextual indicator's value: entered in an assessment, or loaded from a published national snapshot
    (DSPT, legacy devices) for a trust or an ICS with its edition or date."""

    indicator_code = models.SlugField(max_length=40)
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, null=True, blank=True, related_name="indicator_values"
    )
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, null=True, blank=True, related_name="indicator_values")
    ics = models.ForeignKey(ICS, on_delete=models.CASCADE, null=True, blank=True, related_name="indicator_values")
    number = models.FloatField(null=True, blank=True)
    text = models.CharField(max_length=200, blank=True)
    date = models.DateField(null=True, blank=True)
    boolean = models.BooleanField(null=True, blank=True)
    is_unknown = models.BooleanField(default=False, help_text="Published as unknown (for example #N/A)")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.RETURN)
    edition = models.CharField(max_length=40, blank=True, help_text="e.g. DSPT 22/23")
    as_of = models.DateField(null=True, blank=True, help_text="The date of the published snapshot")
    source_note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator_code"],
                condition=Q(assessment__isnull=False),
                name="one_value_per_indicator_per_assessment",
            ),
            models.UniqueConstraint(
                fields=["trust", "indicator_code", "edition"],
                condition=Q(assessment__isnull=True, trust__isnull=False),
                name="one_published_trust_value_per_edition",
            ),
            models.UniqueConstraint(
                fields=["ics", "indicator_code", "edition"],
                condition=Q(assessment__isnull=True, ics__isnull=False),
                name="one_published_ics_value_per_edition",
            ),
        ]

    def __str__(self):
        return f"{self.indicator_code} = {self.display_value}"

    @property
    def display_value(self):
        if self.is_unknown:
            return "Unknown"
        for value in (self.boolean, self.number, self.date):
            if value is not None:
                return {True: "Yes", False: "No"}.get(value, value) if isinstance(value, bool) else value
        return self.text


class PublishedScore(models.Model):
    """A score as NHS England published it: a pillar's (2025), or the overall comparable score (pillar empty)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="published_scores")
    pillar = models.ForeignKey(Pillar, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    score = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "pillar"], condition=Q(pillar__isnull=False), name="one_published_pillar_score"
            ),
            models.UniqueConstraint(
                fields=["assessment"], condition=Q(pillar__isnull=True), name="one_published_overall_score"
            ),
        ]

    def __str__(self):
        return f"{self.pillar or 'Overall'}: {self.score}"


class ReviewComment(models.Model):
    """A reviewer's comment on a returned assessment, on one domain or on the whole (domain empty)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="comments")
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    round = models.PositiveSmallIntegerField(help_text="Which return this comment came with: 1 for the first")

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        return self.text[:60]


class QueryAnswer(models.TextChoices):
    CHANGED = "changed", "Changed the answer"
    EXPLAINED = "explained", "Explained the answer"


class ReviewQuery(models.Model):
    """A cross-check that fired on a submitted return (maturity.checks), sent by the reviewer to the trust with a
    return, answered by the lead before resubmitting, and resolved when the reviewer approves or returns again.
    The message is frozen as it was sent: a later version of the rules must not change what was asked."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="queries")
    check_set = models.ForeignKey(CheckSet, on_delete=models.PROTECT, related_name="+")
    rule_code = models.SlugField(max_length=60)
    domain = models.ForeignKey(Domain, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    indicator_code = models.SlugField(max_length=40, blank=True, help_text="When the query is about no domain")
    message = models.TextField(help_text="What was asked, as the reviewer sent it")
    round = models.PositiveSmallIntegerField(help_text="Which return it came with, as ReviewComment.round")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sent_at = models.DateTimeField()
    answer = models.CharField(max_length=10, choices=QueryAnswer.choices, blank=True)
    explanation = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sent_at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="query_about_a_domain_or_an_indicator",
                condition=Q(domain__isnull=False, indicator_code="") | Q(domain__isnull=True) & ~Q(indicator_code=""),
            ),
        ]

    def __str__(self):
        return f"{self.rule_code} on {self.subject}"

    @property
    def subject(self) -> str:
        """The code of what it is about: its domain's, else its indicator's."""
        return self.domain.code if self.domain_id else self.indicator_code

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def is_answered(self) -> bool:
        return self.answered_at is not None


class AuditEvent(models.Model):
    """Who did what, when, with the values before and after. Written by the actions, never edited."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40)
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events"
    )
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, null=True, blank=True, related_name="audit_events")
    version = models.PositiveIntegerField(null=True, blank=True, help_text="The assessment's version after the change")
    summary = models.CharField(max_length=300)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action}"


class RefreshMarkQuerySet(models.QuerySet):
    def parked(self):
        return self.filter(parked_at__isnull=False, done_at__isnull=True)


class RefreshMark(models.Model):
    """A note, written in the same transaction as a change, that summaries must be recomputed: one assessment's,
    a whole cycle's (bulk imports), or everything (neither: national snapshots such as DSPT). The reports app
    enqueues it after commit and sweeps what the broker missed, so no refresh is ever lost.

    A refresh that fails is counted in `attempts` with its `last_error`; after a few it is parked: the sweep no
    longer retries it (it would fail every minute for ever), the summaries page shows it, and an analyst re-queues
    it once the cause is fixed."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, null=True, blank=True, related_name="refresh_marks"
    )
    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, null=True, blank=True, related_name="refresh_marks")
    reason = models.CharField(max_length=40)
    created_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Failed refreshes of it so far")
    last_error = models.TextField(blank=True)
    parked_at = models.DateTimeField(null=True, blank=True, help_text="When the sweep stopped retrying it")

    objects = RefreshMarkQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self):
        if self.assessment_id:
            target = f"assessment {self.assessment_id}"
        else:
            target = f"cycle {self.cycle_id}" if self.cycle_id else "everything"
        return f"refresh {target} ({self.reason})"
