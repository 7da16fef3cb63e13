from django.db import models
from django.db.models import Q
from knox.models import AbstractAuthToken

from trusts.permissions import MIN_GROUP


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the beat's heartbeat task: the health page's proof that the
    broker, beat and a worker all work end to end."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-seen_at"]

    def __str__(self):
        return f"{self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"


class OrgType(models.TextChoices):
    TRUST = "trust", "Trust"
    ICS = "ics", "ICS"


class SummaryRowQuerySet(models.QuerySet):
    def in_cycle(self, year: int):
        return self.filter(cycle_year=year)

    def for_ics(self, ics_code: str):
        return self.filter(ics_code=ics_code)

    def for_org(self, org_code: str):
        return self.filter(org_code=org_code)

    def providers(self):
        return self.filter(org_type=OrgType.TRUST)

    def icbs(self):
        return self.filter(org_type=OrgType.ICS)

    def shown_to(self, viewer):
        """The rows this viewer (trusts.permissions.Viewer) may read one by one: published results (public), and
        entered returns of the trusts it leads and of every organisation recorded in the ICSs it reviews;
        analysts and admins everything. The same rule as AssessmentQuerySet.shown_to, by the codes the rows carry."""
        if not viewer.signed_in:
            return self.none()
        if viewer.sees_everything:
            return self
        return self.filter(
            Q(source="published")
            | Q(org_type=OrgType.TRUST, org_code__in=viewer.led_trust_codes)
            | Q(ics_code__in=viewer.reviewed_ics_codes)
        )


class SummaryRow(models.Model):
    """Who an assessment's summary rows belong to, denormalised as the exports name it, so that dashboards,
    exports and the API read one table without joins."""

    # Read by ICS or organisation through an index each; by region (a seventh of a cycle's rows) through the cycle
    # column those indexes start with: an index of its own would cost every rebuild a build for little gain.
    # No database constraint: the rows are derived from the assessments by INSERT … SELECT, so they cannot point
    # nowhere, and checking each of a rebuild's rows against maturity_assessment cost a quarter of its time. Django
    # still deletes them with their assessment.
    assessment = models.ForeignKey(
        "maturity.Assessment", on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    cycle_year = models.PositiveSmallIntegerField()
    region_code = models.CharField(max_length=3)
    region_name = models.CharField(max_length=100)
    ics_code = models.CharField(max_length=3)
    ics_name = models.CharField(max_length=150)
    org_code = models.CharField(max_length=5)
    org_name = models.CharField(max_length=150)
    org_type = models.CharField(max_length=5, choices=OrgType.choices)
    trust_type = models.CharField(max_length=20, blank=True)
    care_setting = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=10)
    status = models.CharField(max_length=10)
    is_demo = models.BooleanField(default=False)

    objects = SummaryRowQuerySet.as_manager()

    class Meta:
        abstract = True


class PillarScore(SummaryRow):
    """One counted assessment's score on one pillar, or its overall score (pillar_code 'overall'): the mean of the
    pillar's domain levels, the weighted mean of all its domains, or the score NHS England published."""

    pillar_code = models.CharField(max_length=30)
    pillar_name = models.CharField(max_length=60)
    pillar_position = models.PositiveSmallIntegerField()
    score = models.FloatField()
    verified_share = models.FloatField(
        null=True,
        help_text="Share (0 to 1) of the answered domains whose evidence a reviewer verified; empty for published "
        "scores, which have no domains",
    )
    verified_score = models.FloatField(
        null=True,
        help_text="The same score over the verified answers only (overall: weighted); empty when none is verified",
    )

    class Meta:
        indexes = [models.Index(fields=["cycle_year", "ics_code"]), models.Index(fields=["cycle_year", "org_code"])]

    def __str__(self):
        return f"{self.cycle_year} {self.org_code} {self.care_setting} {self.pillar_code}: {self.score:.2f}"


class GapScore(SummaryRow):
    """How far one counted assessment is from one of its cycle's gap targets (0 when met)."""

    theme = models.CharField(max_length=20)
    theme_name = models.CharField(max_length=60)
    target_description = models.CharField(max_length=200)
    target = models.CharField(max_length=200)
    measured = models.FloatField(null=True)
    measured_text = models.CharField(max_length=200, blank=True)
    gap = models.FloatField(null=True, help_text="Empty when nothing was measured")
    met = models.BooleanField(null=True)

    class Meta:
        indexes = [models.Index(fields=["cycle_year", "ics_code"]), models.Index(fields=["cycle_year", "org_code"])]

    def __str__(self):
        return f"{self.cycle_year} {self.org_code} {self.care_setting} {self.theme}: gap {self.gap}"


# What backs a domain's level, as DomainScore.evidence and the domain-scores export say it.
EVIDENCE_VERIFIED, EVIDENCE_SELF_ASSERTED, EVIDENCE_NONE = "verified", "self-asserted", "none"
EVIDENCE_VALUES = (EVIDENCE_VERIFIED, EVIDENCE_SELF_ASSERTED, EVIDENCE_NONE)


class DomainScore(SummaryRow):
    """One counted assessment's level on one domain (returns entered here only: published results have no domains)."""

    domain_code = models.CharField(max_length=20)
    domain_name = models.CharField(max_length=120)
    pillar_code = models.CharField(max_length=30)
    pillar_name = models.CharField(max_length=60)
    level = models.PositiveSmallIntegerField()
    evidence = models.CharField(
        max_length=13,
        choices=[(value, value) for value in EVIDENCE_VALUES],
        help_text="verified (a reviewer verified the note or link), self-asserted (evidence given, not verified) or "
        "none (no note or link)",
    )

    class Meta:
        indexes = [models.Index(fields=["cycle_year", "ics_code"]), models.Index(fields=["cycle_year", "org_code"])]

    def __str__(self):
        return f"{self.cycle_year} {self.org_code} {self.care_setting} {self.domain_code}: {self.level}"


class IndicatorScore(SummaryRow):
    """One counted assessment's contextual indicator value (its own, or its trust's latest published snapshot)."""

    indicator_code = models.CharField(max_length=40)
    number = models.FloatField(null=True)
    text = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["cycle_year", "ics_code"]), models.Index(fields=["cycle_year", "org_code"])]

    def __str__(self):
        return (
            f"{self.cycle_year} {self.org_code} {self.care_setting} {self.indicator_code}: {self.number or self.text}"
        )


class AreaType(models.TextChoices):
    ENGLAND = "england", "England"
    REGION = "region", "Region"
    ICS = "ics", "ICS"
    PEER = "peer", "Peer group"
    TRUST = "trust", "Trust"


class AreaStatQuerySet(models.QuerySet):
    def in_cycle(self, year: int):
        return self.filter(cycle_year=year)

    def for_area(self, area_type: str, area_code: str):
        return self.filter(area_type=area_type, area_code=area_code)

    def shown_to(self, viewer):
        """Aggregates this viewer may read: over published results, over at least MIN_GROUP assessments, or over
        data it sees by name (its reviewed ICSs, its led trusts); analysts and admins all."""
        if not viewer.signed_in:
            return self.none()
        if viewer.sees_everything:
            return self
        return self.filter(
            Q(source="published")
            | Q(n__gte=MIN_GROUP)
            | Q(area_type=AreaType.ICS, area_code__in=viewer.reviewed_ics_codes)
            | Q(area_type=AreaType.TRUST, area_code__in=viewer.led_trust_codes)
        )


class AreaStat(models.Model):
    """The spread of one metric over the provider assessments of an area in a cycle. The unit is the assessment:
    a plain mean over provider × care setting returns (ICB's own returns are not mixed in); a trust's figure is the
    mean of its care settings."""

    cycle_year = models.PositiveSmallIntegerField()
    area_type = models.CharField(max_length=10, choices=AreaType.choices)
    area_code = models.CharField(max_length=60, help_text="E for England, a region or ICS code, trust type|setting")
    area_name = models.CharField(max_length=150)
    metric_type = models.CharField(
        max_length=10,
        help_text="pillar, gap, indicator, or evidence (verified_share:<pillar> and verified_score:<pillar>)",
    )
    metric_code = models.CharField(
        max_length=70, help_text="A pillar code, 'overall', theme:target for a gap, or an indicator code"
    )
    metric_name = models.CharField(max_length=200)
    metric_position = models.PositiveSmallIntegerField()
    n = models.PositiveIntegerField()
    mean = models.FloatField()
    median = models.FloatField()
    q1 = models.FloatField()
    q3 = models.FloatField()
    deciles = models.JSONField(help_text="The 10th to 90th percentiles")
    share_met = models.FloatField(
        null=True,
        help_text="Gap metrics: share of assessments meeting the target; indicators: share at or above the benchmark",
    )
    measured_median = models.FloatField(null=True, help_text="Gap metrics: the median of what was measured")
    source = models.CharField(max_length=10)

    objects = AreaStatQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["cycle_year", "area_type", "area_code"])]

    def __str__(self):
        return f"{self.cycle_year} {self.area_type} {self.area_code} {self.metric_code}: n={self.n}"


class AreaValueCount(models.Model):
    """How many provider returns of an area give a metric each value in a cycle: the counts the quantiles of an ICS
    and of the national areas are read from (reports.summaries.sql.value_counts). A submission moves them by its
    own difference (its old rows' counts out, its new rows' in), so refreshing a large area reads its few thousand
    distinct values rather than its hundreds of thousands of returns. Never read by pages: AreaStat holds what
    they show."""

    cycle_year = models.PositiveSmallIntegerField()
    area_type = models.CharField(max_length=10, choices=AreaType.choices)
    area_code = models.CharField(max_length=60)
    area_name = models.CharField(max_length=150)
    source = models.CharField(max_length=10)
    metric_type = models.CharField(max_length=10)
    metric_code = models.CharField(max_length=70)
    metric_name = models.CharField(max_length=200)
    metric_position = models.PositiveSmallIntegerField()
    value = models.FloatField()
    measured = models.FloatField(null=True, help_text="Gap metrics: what was measured")
    copies = models.IntegerField(help_text="How many returns have this value (and measured)")
    met_sum = models.FloatField(help_text="How many of them meet the target (gaps) or benchmark (indicators)")
    met_n = models.IntegerField(help_text="How many of them have a target or benchmark to meet")
    fresh = models.BooleanField(
        default=False, help_text="A difference not yet added in: only inside a refresh's transaction"
    )
    moved = models.BooleanField(
        default=False, help_text="Moved by a refresh since the national areas' figures were last written"
    )

    class Meta:
        indexes = [
            # An area's counts, a metric's within them. Without the area type (ICS, region, peer group and England
            # codes do not overlap; the type is still checked on the rows found): one text column fewer to sort, a
            # third less of the index's build in a rebuild.
            models.Index(fields=["cycle_year", "area_code", "metric_code"]),
            # The few differences of the refresh under way, found without reading the cycle's counts.
            models.Index(fields=["cycle_year"], condition=Q(fresh=True), name="reports_areavaluecount_fresh"),
            # The national areas a burst of refreshes moved, for the batched follow-up to rewrite.
            models.Index(fields=["cycle_year"], condition=Q(moved=True), name="reports_areavaluecount_moved"),
        ]

    def __str__(self):
        return f"{self.cycle_year} {self.area_type} {self.area_code} {self.metric_code} {self.value}: {self.copies}"


class ProgressStatQuerySet(models.QuerySet):
    def in_cycle(self, year: int):
        return self.filter(cycle_year=year)

    def shown_to(self, viewer):
        """Counts of returns by status: an aggregate like any other, shown when it covers at least MIN_GROUP
        returns or an area the viewer sees by name."""
        if not viewer.signed_in:
            return self.none()
        if viewer.sees_everything:
            return self
        return self.filter(
            Q(expected__gte=MIN_GROUP) | Q(area_type=AreaType.ICS, area_code__in=viewer.reviewed_ics_codes)
        )


class ProgressStat(models.Model):
    """Where an area's returns stand in a cycle: how many are expected and how many are in each status."""

    cycle_year = models.PositiveSmallIntegerField()
    area_type = models.CharField(max_length=10, choices=AreaType.choices)
    area_code = models.CharField(max_length=60)
    area_name = models.CharField(max_length=150)
    expected = models.PositiveIntegerField()
    not_started = models.PositiveIntegerField()
    draft = models.PositiveIntegerField()
    submitted = models.PositiveIntegerField()
    returned = models.PositiveIntegerField()
    approved = models.PositiveIntegerField()
    published = models.PositiveIntegerField()

    objects = ProgressStatQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["cycle_year", "area_type", "area_code"])]

    def __str__(self):
        return f"{self.cycle_year} {self.area_type} {self.area_code}: {self.expected} expected"


class RefreshRun(models.Model):
    """One run of a refresh task: what it refreshed, when, how many rows, and how it ended: finished, finished with
    problems (it skipped the figures of values it could not use, listed in `problems`, and wrote all the others), or
    failed (nothing written; `error` says why)."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Finished"
        PROBLEMS = "problems", "Finished with problems"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, help_text="assessment, areas or full")
    target = models.CharField(max_length=100, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)
    rows = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    error = models.TextField(blank=True)
    problems = models.JSONField(
        default=list, blank=True, help_text="Values it could not use, a sentence each: their figures were skipped"
    )

    class Meta:
        ordering = ["-started_at"]

    def __str__(self):
        return f"{self.kind} {self.target} {self.status}"

    @property
    def duration_seconds(self):
        return (self.finished_at - self.started_at).total_seconds() if self.finished_at else None


class SummaryVersion(models.Model):
    """The version of one part of the summaries, for cached dashboards' keys: "all" (moved by a rebuild),
    "trust:<code>", "ics:<code>" (moved by an assessment's refresh) and "areas:<year>" (regions, England and the
    peer groups, moved by the batched refresh). Kept in the database, never expiring and never deleted; each
    move writes a new random token, so a key can never come back to an earlier value, not even after the database is
    recreated beside a cache that outlived it."""

    key = models.CharField(max_length=80, unique=True)
    token = models.CharField(max_length=32)

    def __str__(self):
        return f"{self.key}: {self.token}"


class ApiToken(AbstractAuthToken):
    """A user's API token, as django-rest-knox keeps it (a digest, never the token itself; an expiry), and when it
    was last used, so its owner can tell a forgotten token from a working one."""

    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self):
        return f"API token {self.token_key}… of {self.user}"
