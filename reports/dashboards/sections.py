"""What each dashboard shows. Reads the summary tables only (never answers), in a fixed number of queries whatever
the number of trusts, and builds charts with reports.dashboards.charts. The result is cached under the versions of
the summary parts it reads (reports.summaries.versions), so a refresh makes stale exactly the dashboards that read
what it rewrote.

Who sees what is decided once, by the viewer (trusts.permissions.Viewer) that every read here passes to the summary
tables' `shown_to`: sections receive rows and aggregates already scoped and never re-decide it. The viewer only
chooses the wording of a note (why something is not shown).
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from django.core.cache import cache
from django.db.models import Q
from django.utils.text import slugify

from maturity.models import Cycle, CycleKind
from reports.dashboards import charts
from reports.dashboards.headline import THEMES, Headline, area_headline, ics_headline, trust_headline
from reports.dashboards.summary import summarise
from reports.models import AreaStat, GapScore, IndicatorScore, PillarScore, ProgressStat
from reports.summaries import rules, versions
from trusts.models import ICS, Region, Trust
from trusts.permissions import MIN_GROUP, viewer_of

CACHE_SECONDS = 3600
STATUS_ORDER = ["approved", "submitted", "returned", "draft", "not_started", "published"]
STATUS_LABELS = {
    "approved": "Approved",
    "submitted": "Submitted (provisional)",
    "returned": "Returned",
    "draft": "Draft",
    "not_started": "Not started",
    "published": "Published",
}
DSPT_ORDER = ["Standards Exceeded", "Standards Met", "Approaching Standards", "Standards Not Met", "Not Published"]


@dataclass
class Section:
    title: str
    intro: str = ""
    charts: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        """The section's id in the page, stable as long as its title is: the headline and contents link to it."""
        return slugify(self.title)


@dataclass
class Dashboard:
    year: int | None
    cycles: list[int]
    is_published: bool = False
    is_demo: bool = False
    sections: list[Section] = field(default_factory=list)
    headline: Headline | None = None
    summary: list[str] = field(default_factory=list)

    def attach(self, made: Headline) -> None:
        self.headline = made
        self.summary = summarise(made)

    def theme_anchors(self) -> dict[str, str]:
        """Where each gap theme is shown: its own section, else the section covering it, else the general one."""
        anchors = {}
        for theme, _ in THEMES:
            words = THEME_SECTION_WORDS[theme]
            found = next((s for s in self.sections if any(s.title.lower().startswith(w) for w in words)), None)
            found = found or next((s for s in self.sections if any(w in s.title.lower() for w in words)), None)
            found = found or next((s for s in self.sections if s.title.lower().startswith("gaps")), None)
            if found:
                anchors[theme] = found.anchor
        return anchors

    def chart(self, chart_id: str):
        return next((c for section in self.sections for c in section.charts if c.id == chart_id), None)


# The words a gap theme's section title starts with (or, failing that, contains): its link in the headline.
THEME_SECTION_WORDS = {"epr": ("epr",), "cyber": ("cyber",), "legacy_it": ("legacy it",)}


# --- Cycles ------------------------------------------------------------------------------------------------------


def cycles_with_results() -> list[int]:
    """Newest first. Cached like the dashboards, so that a warm page reads no summary table."""
    return cached(
        "cycles",
        [versions.CYCLES],
        lambda: list(
            AreaStat.objects.filter(area_type="england")
            .order_by("-cycle_year")
            .values_list("cycle_year", flat=True)
            .distinct()
        ),
    )


def choose_cycle(requested, preferred: Callable[[], list[int]] | None = None) -> tuple[int | None, list[int]]:
    """The cycle asked for, if it has results; else the most recent of `preferred()` (a page's own cycles with
    results, newest first) that has; else the most recent one that has."""
    cycles = cycles_with_results()
    try:
        year = int(requested)
    except (TypeError, ValueError):
        year = None
    if year not in cycles:
        own = [c for c in preferred() if c in cycles] if preferred else []
        year = own[0] if own else cycles[0] if cycles else None
    return year, cycles


def trust_cycles(trust: Trust, user) -> list[int]:
    """The cycles with results of this trust that this user may see, newest first: its page opens on the first.
    Cached under the trust's version, so that a warm page reads no summary table."""
    viewer = viewer_of(user)
    return cached(
        f"trust-cycles:{trust.code}:{viewer.scope_key}",
        [versions.CYCLES, versions.trust(trust.code)],
        lambda: list(
            PillarScore.objects.for_org(trust.code)
            .providers()
            .shown_to(viewer)
            .order_by("-cycle_year")
            .values_list("cycle_year", flat=True)
            .distinct()
        ),
    )


def _cycle_facts(year: int | None) -> tuple[bool, bool]:
    cycle = Cycle.objects.filter(year=year).only("kind", "is_demo").first()
    if cycle is None:
        return False, False
    return cycle.kind == CycleKind.PUBLISHED_HISTORY, cycle.is_demo


def previous_comparable(year: int, cycles: list[int]) -> int | None:
    """The cycle to measure movement from. Only published history has a comparable overall score across years here
    (NHS England's own); a collected cycle compares with an earlier one only when its framework names that one's
    version as comparable."""
    earlier = [c for c in cycles if c < year]
    if not earlier:
        return None
    previous = max(earlier)
    both = {c.year: c for c in Cycle.objects.filter(year__in=[year, previous]).select_related("trust_framework")}
    now, before = both.get(year), both.get(previous)
    if now is None or before is None:
        return None
    if now.kind == before.kind == CycleKind.PUBLISHED_HISTORY:
        return previous
    if now.trust_framework and before.trust_framework and now.kind == before.kind == CycleKind.COLLECTED:
        framework = now.trust_framework
        # comparable_with_version lives in the framework's file; a domain linked to the earlier one is the sign.
        if framework.domains.filter(comparable_with__framework=before.trust_framework).exists():
            return previous
    return None


# --- Helpers -----------------------------------------------------------------------------------------------------


def _frame(queryset, columns) -> pd.DataFrame:
    return pd.DataFrame(list(queryset.values_list(*columns)), columns=columns)


def _short(name: str) -> str:
    """'NHS Greater Manchester Integrated Care Board' reads as 'Greater Manchester' in charts (as ICS.short_name)."""
    return name.removeprefix("NHS ").removesuffix(" Integrated Care Board")


def _label(org_name: str, care_setting: str) -> str:
    return f"{org_name} – {care_setting.replace('-', ' ').capitalize()}" if care_setting else org_name


def _code_token() -> str:
    """A digest of the code and templates that shape a cached dashboard and its HTML, so that a deploy (or a roll
    back) never reads a dashboard cached by other code."""
    root = Path(__file__).resolve().parents[2]
    sources = [
        Path(__file__),
        Path(charts.__file__),
        Path(__file__).with_name("headline.py"),
        Path(__file__).with_name("summary.py"),
        *sorted((root / "templates" / "reports").glob("_*.html")),
    ]
    return hashlib.md5(b"".join(path.read_bytes() for path in sources), usedforsecurity=False).hexdigest()[:8]


CODE_TOKEN = _code_token()


def _full_key(key: str, parts) -> str:
    return f"dashboard:{CODE_TOKEN}:{versions.stamp(parts)}:{key}"


def cached(key: str, parts, build):
    """What build() makes, under `key`, built at most once per version of the summary parts it reads (and of the
    code)."""
    return cache.get_or_set(_full_key(key, parts), build, CACHE_SECONDS)


@dataclass(frozen=True)
class CachedDashboard:
    """A dashboard as the cache keeps it: its key (the versions of the summary parts it reads, and the viewer's
    scope) and how to build it. Pages cache their HTML under the same key, so a warm page never loads the
    dashboard itself."""

    key: str | None
    build: Callable[[], Dashboard]

    def load(self) -> Dashboard:
        if self.key is None:
            return self.build()
        return cache.get_or_set(self.key, self.build, CACHE_SECONDS)


def _cached_dashboard(key: str, parts, build) -> CachedDashboard:
    return CachedDashboard(_full_key(key, parts), build)


def _no_results(cycles) -> CachedDashboard:
    return CachedDashboard(None, lambda: Dashboard(year=None, cycles=cycles))


def _new(year, cycles) -> Dashboard:
    is_published, is_demo = _cycle_facts(year)
    return Dashboard(year=year, cycles=cycles, is_published=is_published, is_demo=is_demo)


# --- Trust -------------------------------------------------------------------------------------------------------


def trust_dashboard(trust: Trust, year, cycles, user) -> CachedDashboard:
    if year is None:
        return _no_results(cycles)
    viewer = viewer_of(user)
    parts = [
        versions.trust(trust.code),
        versions.ics(trust.ics.code),
        *(versions.peer(trust.trust_type, setting.pk) for setting in trust.care_settings.all()),
        versions.areas(year),
    ]
    return _cached_dashboard(
        f"trust:{trust.code}:{year}:{viewer.scope_key}", parts, lambda: _trust(trust, year, cycles, viewer)
    )


def _trust(trust, year, cycles, viewer) -> Dashboard:
    dashboard = _new(year, cycles)
    own = _frame(
        PillarScore.objects.in_cycle(year).for_org(trust.code).providers().shown_to(viewer),
        [
            "care_setting",
            "ics_code",
            "ics_name",
            "trust_type",
            "pillar_code",
            "pillar_name",
            "pillar_position",
            "score",
        ],
    )
    if own.empty:
        dashboard.sections.append(
            Section("Scores", notes=[f"No submitted, approved or published assessment of this trust in {year}."])
        )
        return dashboard
    peers = {f"{t}|{s}" for t, s in own[["trust_type", "care_setting"]].drop_duplicates().itertuples(index=False)}
    ics_codes = set(own["ics_code"])
    comparators = AreaStat.objects.in_cycle(year).filter(
        Q(area_type="england") | Q(area_type="ics", area_code__in=ics_codes) | Q(area_type="peer", area_code__in=peers)
    )
    visible = _frame(
        comparators.shown_to(viewer),
        [
            "area_type",
            "area_code",
            "metric_type",
            "metric_code",
            "n",
            "mean",
            "median",
            "q1",
            "q3",
            "source",
            "measured_median",
        ],
    )
    hidden = comparators.count() - len(visible)
    comparison = Section(
        "How the trust compares",
        "Each care setting's pillar scores against its ICS, England and similar trusts (same trust type and setting).",
    )
    for setting, rows in own.groupby("care_setting", sort=False):
        peer = f"{rows['trust_type'].iloc[0]}|{setting}"
        frame = rows.sort_values("pillar_position")[["pillar_code", "pillar_name", "score"]]
        frame = frame.merge(_metric(visible, "ics", rows["ics_code"].iloc[0], "mean", "ics_mean"), how="left")
        frame = frame.merge(_metric(visible, "england", "E", "median", "england_median"), how="left")
        frame = frame.merge(_metric(visible, "peer", peer, "median", "peer_median"), how="left")
        frame = frame.merge(_metric(visible, "peer", peer, "q1", "peer_q1"), how="left")
        frame = frame.merge(_metric(visible, "peer", peer, "q3", "peer_q3"), how="left")
        comparison.charts.append(
            charts.pillar_comparison(
                f"compare-{setting}",
                frame,
                title=f"{_label(trust.name, setting)}: pillar scores against comparators",
                org_label="This trust",
            )
        )
    if hidden:
        comparison.notes.append("Comparisons over fewer than 5 assessments entered here are not shown.")
    dashboard.sections.append(comparison)

    history = _frame(
        PillarScore.objects.for_org(trust.code).providers().filter(cycle_year__in=cycles).shown_to(viewer),
        ["cycle_year", "care_setting", "pillar_name", "pillar_position", "score"],
    )
    trend = Section("Over time", "Each care setting's scores in every cycle with results, published or entered here.")
    for setting, rows in history.groupby("care_setting", sort=False):
        rows = rows.sort_values(["pillar_position", "cycle_year"]).rename(columns={"pillar_name": "series"})
        trend.charts.append(
            charts.trend(
                f"trend-{setting}",
                rows[["cycle_year", "series", "score"]],
                title=f"{_label(trust.name, setting)}: scores over time",
            )
        )
    trend.notes.append("2024 and 2025 are NHS England's published results; later cycles use this service's framework.")
    dashboard.sections.append(trend)

    gaps = _frame(
        GapScore.objects.in_cycle(year).for_org(trust.code).providers().shown_to(viewer),
        ["care_setting", "theme", "theme_name", "target_description", "measured", "target", "gap"],
    )
    gap_section = Section("Gaps to target", "How far each care setting is from the cycle's targets: 0 means met.")
    england_measured = visible[(visible["area_type"] == "england") & (visible["metric_type"] == "gap")]
    for setting, rows in gaps.groupby("care_setting", sort=False):
        frame = rows.rename(columns={"target_description": "description"})
        gap_section.charts.append(
            charts.gaps(
                f"gaps-{setting}",
                frame[["theme_name", "description", "measured", "target", "gap"]],
                title=f"{_label(trust.name, setting)}: gaps to target",
            )
        )
        indicators = rows[rows["measured"].notna() & ~rows["target_description"].str.startswith("Level")]
        if not indicators.empty:
            medians = dict(zip(england_measured["metric_code"], england_measured["measured_median"], strict=True))
            frame = pd.DataFrame(
                {
                    "indicator_name": indicators["target_description"],
                    "value": indicators["measured"],
                    "england_median": [
                        medians.get(rules.target_code(theme, text))
                        for theme, text in zip(indicators["theme"], indicators["target_description"], strict=True)
                    ],
                    "unit": "",
                }
            )
            gap_section.charts.append(
                charts.indicator_comparison(
                    f"indicators-{setting}",
                    frame,
                    title=f"{_label(trust.name, setting)}: indicators against England",
                    org_label="This trust",
                )
            )
    if gaps.empty:
        gap_section.notes.append("No gap targets are set for this cycle.")
    dashboard.sections.append(gap_section)
    previous = previous_comparable(year, cycles)
    dashboard.attach(trust_headline(trust, year, previous, viewer, dashboard.theme_anchors()))
    return dashboard


def _metric(stats: pd.DataFrame, area_type: str, area_code: str, column: str, name: str) -> pd.DataFrame:
    rows = stats[
        (stats["area_type"] == area_type) & (stats["area_code"] == area_code) & (stats["metric_type"] == "pillar")
    ]
    return rows[["metric_code", column]].rename(columns={"metric_code": "pillar_code", column: name})


# --- ICS ---------------------------------------------------------------------------------------------------------


def ics_dashboard(ics: ICS, year, cycles, user) -> CachedDashboard:
    if year is None:
        return _no_results(cycles)
    viewer = viewer_of(user)
    # Every cycle's areas: the headline compares with the previous comparable cycle.
    parts = [versions.ics(ics.code), *(versions.areas(cycle) for cycle in cycles)]
    return _cached_dashboard(
        f"ics:{ics.code}:{year}:{viewer.scope_key}", parts, lambda: _ics(ics, year, cycles, viewer)
    )


def _ics(ics, year, cycles, viewer) -> Dashboard:
    dashboard = _new(year, cycles)
    # Only the wording of the notes depends on this: the rows below are scoped by shown_to.
    named = viewer.names_ics(ics.code) or dashboard.is_published
    name = ics.short_name
    scores = _frame(
        PillarScore.objects.in_cycle(year).for_ics(ics.code).shown_to(viewer),
        ["org_type", "org_code", "org_name", "care_setting", "pillar_code", "pillar_name", "pillar_position", "score"],
    )
    providers = scores[scores["org_type"] == "trust"]
    heat = providers.sort_values(["org_name", "care_setting", "pillar_position"]).assign(
        label=lambda f: [_label(n, s) for n, s in zip(f["org_name"], f["care_setting"], strict=True)]
    )
    overview = Section("Member trusts against the seven pillars")
    overview.charts.append(
        charts.heatmap(
            "heatmap",
            heat[heat["pillar_code"] != "overall"][["label", "pillar_name", "score"]],
            title=f"{name}: pillar scores of each trust and care setting",
            row_title="Trust and care setting",
        )
    )
    if not named:
        overview.notes.append(
            f"Other trusts' assessments entered here are shown only in aggregates of at least {MIN_GROUP}."
        )
    stats = _frame(
        AreaStat.objects.in_cycle(year)
        .filter(Q(area_type="england") | Q(area_type="ics", area_code=ics.code))
        .shown_to(viewer),
        [
            "area_type",
            "metric_type",
            "metric_code",
            "metric_name",
            "metric_position",
            "n",
            "mean",
            "median",
            "q1",
            "q3",
            "deciles",
            "share_met",
            "source",
        ],
    )
    visible_stats = stats[(stats["metric_type"] == "pillar") & (stats["metric_code"] != "overall")]
    if not named and (visible_stats["area_type"] == "ics").sum() == 0:
        overview.notes.append(f"{name}'s spread is not shown: fewer than {MIN_GROUP} assessments were entered here.")
    distribution = visible_stats.assign(
        group=visible_stats["area_type"].map({"ics": name, "england": "England"}),
        pillar_name=visible_stats["metric_name"],
        p10=visible_stats["deciles"].map(lambda d: d[0]),
        p90=visible_stats["deciles"].map(lambda d: d[-1]),
    ).sort_values(["metric_position", "area_type"], ascending=[True, False])
    overview.charts.append(
        charts.distribution(
            "distribution",
            distribution[["pillar_name", "group", "n", "p10", "q1", "median", "q3", "p90", "mean"]],
            title=f"{name} against England: spread of pillar scores",
        )
    )
    dashboard.sections.append(overview)

    dashboard.sections.extend(_gap_panels(ics, year, stats, viewer, named))

    progress = _frame(
        ProgressStat.objects.filter(cycle_year=year, area_type="ics", area_code=ics.code).shown_to(viewer),
        ["area_name", "not_started", "draft", "returned", "submitted", "approved", "published"],
    )
    progress_section = Section("Submission progress")
    progress_section.charts.append(
        charts.stacked_counts(
            "progress",
            _progress_counts(progress.assign(area_name=name)),
            category_order=[STATUS_LABELS[s] for s in STATUS_ORDER],
            title=f"{name}: where the returns stand",
            group_title="ICS",
            count_title="Returns",
        )
    )
    dashboard.sections.append(progress_section)

    icb = scores[(scores["org_type"] == "ics") & (scores["pillar_code"] != "overall")]
    own_section = Section("The ICB's own assessment")
    if named or not icb.empty:
        own_section.charts.append(
            charts.pillar_comparison(
                "icb-own",
                icb.sort_values("pillar_position")[["pillar_name", "score"]],
                title=f"{ics.name}: its own assessment",
                org_label="ICB",
            )
        )
    else:
        own_section.notes.append("The ICB's own assessment is shown to its reviewers and to NHS England.")
    dashboard.sections.append(own_section)

    dashboard.sections.append(_movement_section(year, cycles, Q(ics_code=ics.code), viewer, named, f"{name}: "))
    previous = previous_comparable(year, cycles)
    dashboard.attach(ics_headline(ics, year, previous, viewer, named, dashboard.theme_anchors()))
    return dashboard


def _progress_counts(progress: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {"group": row["area_name"], "category": STATUS_LABELS[status], "count": int(row[status])}
        for row in progress.to_dict("records")
        for status in STATUS_ORDER
        if row.get(status)
    ]
    return pd.DataFrame(rows, columns=["group", "category", "count"])


def _gap_panels(ics, year, stats, viewer, named) -> list[Section]:
    """EPR, cyber and legacy IT: who is below target (the rows this viewer may see), and the spreads behind them
    (aggregates it may see)."""
    gaps = _frame(
        GapScore.objects.in_cycle(year).for_ics(ics.code).providers().shown_to(viewer),
        [
            "org_name",
            "care_setting",
            "theme",
            "target_description",
            "measured",
            "measured_text",
            "target",
            "gap",
            "met",
        ],
    )
    indicators = _frame(
        IndicatorScore.objects.in_cycle(year).for_ics(ics.code).providers().shown_to(viewer),
        ["org_name", "care_setting", "indicator_code", "number", "text"],
    )
    gap_stats = stats[(stats["metric_type"] == "gap") & (stats["area_type"] == "ics")]
    sections = []
    for theme, title, intro in (
        (
            "epr",
            "EPR gap",
            "Trusts and care settings without an EPR, or below target on the EPR domains, and their suppliers.",
        ),
        ("cyber", "Cyber gap", "DSPT status of each trust and care setting, and the cyber and Safe Practice domains."),
        (
            "legacy_it",
            "Legacy IT gap",
            "The share of devices on unsupported systems, and the Smart Foundations and legacy domains.",
        ),
    ):
        section = Section(title, intro)
        rows = gaps[(gaps["theme"] == theme) & (gaps["met"] == False)]  # noqa: E712 - a pandas mask
        theme_stats = gap_stats[gap_stats["metric_code"].str.startswith(f"{theme}:")]
        if not theme_stats.empty:
            summary = pd.DataFrame(
                {
                    "theme_name": theme_stats["metric_name"],
                    "description": [f"{share:.0%} of returns meet it" for share in theme_stats["share_met"]],
                    "measured": None,
                    "target": "",
                    "gap": theme_stats["mean"],
                }
            )
            section.charts.append(
                charts.gaps(
                    f"{theme}-targets",
                    summary,
                    title=f"{title}: mean gap to each target",
                    description="The mean gap over the ICS's returns, and the share of returns meeting each target.",
                    category_title="Target",
                )
            )
        for number, (target, below) in enumerate(rows.groupby("target_description", sort=True), start=1):
            frame = pd.DataFrame(
                {
                    "theme_name": [_label(n, s) for n, s in zip(below["org_name"], below["care_setting"], strict=True)],
                    "description": target,
                    "measured": below["measured"].where(below["measured"].notna(), below["measured_text"]),
                    "target": below["target"],
                    "gap": below["gap"],
                }
            )
            section.charts.append(
                charts.gaps(
                    f"{theme}-below-{number}",
                    frame,
                    title=f"{title}: below target on ‘{target}’",
                    description="Each trust and care setting that misses this target, and by how much.",
                    category_title="Trust and care setting",
                )
            )
        if not named:
            section.notes.append(
                "Only your own trust's returns are shown one by one; other trusts' entered data counts only in "
                f"aggregates of at least {MIN_GROUP}."
            )
        if theme == "epr":
            suppliers = indicators[indicators["indicator_code"] == "epr_supplier"]
            counts = suppliers.groupby("text").size().reset_index(name="count")
            section.charts.append(
                charts.stacked_counts(
                    "epr-suppliers",
                    counts.assign(group="EPR suppliers").rename(columns={"text": "category"})[
                        ["group", "category", "count"]
                    ],
                    category_order=sorted(counts["text"]),
                    title="EPR suppliers of the ICS's trusts",
                    group_title="",
                    count_title="Care settings",
                )
            )
        if theme == "cyber":
            dspt = indicators[indicators["indicator_code"] == "dspt_status"]
            counts = dspt.groupby("text").size().reset_index(name="count")
            section.charts.append(
                charts.stacked_counts(
                    "dspt",
                    counts.assign(group="DSPT status").rename(columns={"text": "category"})[
                        ["group", "category", "count"]
                    ],
                    category_order=DSPT_ORDER,
                    title="Data Security and Protection Toolkit status",
                    group_title="",
                    count_title="Care settings",
                )
            )
        if theme == "legacy_it":
            devices = indicators[indicators["indicator_code"] == "unsupported_devices_pct"]
            labels = [_label(n, s) for n, s in zip(devices["org_name"], devices["care_setting"], strict=True)]
            section.charts.append(
                charts.histogram(
                    "devices",
                    pd.DataFrame({"label": labels, "value": devices["number"]}),
                    value_title="Devices on unsupported systems (%)",
                    title="Devices on unsupported systems",
                )
            )
        sections.append(section)
    return sections


def _movement_section(year, cycles, where: Q, viewer, named: bool, prefix: str, biggest: int | None = None) -> Section:
    """Overall comparable score, previous cycle to this one, per trust and care setting the viewer may see; `biggest`
    keeps only that many rises and falls."""
    section = Section("Movement since the previous cycle")
    previous = previous_comparable(year, cycles)
    if previous is None:
        section.notes.append("There is no earlier cycle comparable with this one, so no movement is shown.")
        return section
    rows = _frame(
        PillarScore.objects.providers()
        .filter(where, cycle_year__in=[previous, year], pillar_code="overall")
        .shown_to(viewer),
        ["cycle_year", "org_name", "care_setting", "score"],
    )
    wide = rows.pivot_table(index=["org_name", "care_setting"], columns="cycle_year", values="score")
    wide = wide.reindex(columns=[previous, year]).dropna()
    if not named:
        section.notes.append("Movement is shown by name only to those who may see each trust's data.")
    if wide.empty:
        return section
    movers = pd.DataFrame(
        {
            "name": [_label(n, s) for n, s in wide.index],
            "previous": wide[previous].to_numpy(),
            "current": wide[year].to_numpy(),
        }
    )
    movers["change"] = movers["current"] - movers["previous"]
    movers = movers.sort_values("change")
    if biggest and len(movers) > 2 * biggest:
        movers = pd.concat([movers.head(biggest), movers.tail(biggest)])
    section.charts.append(
        charts.movers(
            "movers",
            movers,
            title=f"{prefix}overall comparable score, {previous} to {year}",
            previous_label=str(previous),
            current_label=str(year),
        )
    )
    return section


# --- Region and England ------------------------------------------------------------------------------------------


def area_dashboard(region: Region | None, year, cycles, user) -> CachedDashboard:
    """A region's dashboard, or England's (region None). Analysts see trusts by name; others see ICS aggregates."""
    if year is None:
        return _no_results(cycles)
    viewer = viewer_of(user)
    key = f"area:{region.code if region else 'E'}:{year}:{viewer.scope_key}"
    # Every cycle's areas: the movement section reads the previous comparable cycle too.
    parts = [versions.areas(cycle) for cycle in cycles]
    return _cached_dashboard(key, parts, lambda: _area(region, year, cycles, viewer))


def _area(region, year, cycles, viewer) -> Dashboard:
    dashboard = _new(year, cycles)
    # Only the wording of the notes depends on this: the rows below are scoped by shown_to.
    named = viewer.sees_everything or dashboard.is_published
    place = region.name if region else "England"
    area_filter = Q(region_code=region.code) if region else Q()
    areas = AreaStat.objects.in_cycle(year).filter(
        Q(area_type="ics", area_code__in=ICS.objects.filter(region=region).values("code"))
        if region
        else Q(area_type__in=["ics", "region"])
    )
    stats = _frame(
        areas.shown_to(viewer),
        [
            "area_type",
            "area_code",
            "area_name",
            "metric_type",
            "metric_code",
            "metric_name",
            "n",
            "mean",
            "q1",
            "q3",
            "source",
        ],
    )
    stats["area_name"] = stats["area_name"].map(_short)
    shown = stats[(stats["metric_code"] == "overall") & (stats["area_type"] == "ics")]
    ranking = Section(
        "Integrated care systems ranked",
        f"Each ICS in {place} by its mean overall score, with the spread of its assessments.",
    )
    ranking.charts.append(
        charts.ranked(
            "ics-ranked",
            shown.rename(columns={"area_name": "name"})[["name", "mean", "q1", "q3", "n"]],
            title=f"{place}: ICSs by mean overall score",
            name_title="ICS",
        )
    )
    hidden = areas.filter(area_type="ics", metric_code="overall").count() - len(shown)
    if hidden:
        ranking.notes.append(f"{hidden} ICSs with fewer than {MIN_GROUP} assessments entered here are not shown.")
    if region is None:
        regions = stats[(stats["metric_code"] == "overall") & (stats["area_type"] == "region")]
        ranking.charts.append(
            charts.ranked(
                "regions-ranked",
                regions.rename(columns={"area_name": "name"})[["name", "mean", "q1", "q3", "n"]],
                title="Regions by mean overall score",
                name_title="Region",
            )
        )
    dashboard.sections.append(ranking)

    spread = (
        AreaStat.objects.in_cycle(year)
        .filter(
            area_type="region" if region else "england", area_code=region.code if region else "E", metric_type="pillar"
        )
        .shown_to(viewer)
    )
    decile_rows = [
        {"pillar_name": stat.metric_name, "decile": (index + 1) * 10, "value": value}
        for stat in spread.order_by("metric_position")
        for index, value in enumerate(stat.deciles)
    ]
    deciles = Section("Deciles per pillar", f"How pillar scores are spread across {place}'s assessments.")
    deciles.charts.append(
        charts.deciles(
            "deciles",
            pd.DataFrame(decile_rows, columns=["pillar_name", "decile", "value"]),
            title=f"{place}: deciles of pillar scores",
        )
    )
    dashboard.sections.append(deciles)

    indicators = _frame(
        IndicatorScore.objects.in_cycle(year)
        .providers()
        .filter(area_filter, indicator_code__in=["dspt_status", "unsupported_devices_pct"])
        .shown_to(viewer),
        ["ics_name", "org_name", "care_setting", "indicator_code", "number", "text"],
    )
    gaps = Section("Cyber and legacy IT", "DSPT status by ICS, and the share of devices on unsupported systems.")
    indicators["ics_name"] = indicators["ics_name"].map(_short)
    dspt = indicators[indicators["indicator_code"] == "dspt_status"]
    counts = dspt.groupby(["ics_name", "text"]).size().reset_index(name="count")
    gaps.charts.append(
        charts.stacked_counts(
            "dspt",
            counts.rename(columns={"ics_name": "group", "text": "category"}),
            category_order=DSPT_ORDER,
            title=f"{place}: DSPT status by ICS",
            group_title="ICS",
            count_title="Care settings",
        )
    )
    devices = indicators[indicators["indicator_code"] == "unsupported_devices_pct"]
    labels = [_label(n, s) for n, s in zip(devices["org_name"], devices["care_setting"], strict=True)]
    gaps.charts.append(
        charts.histogram(
            "devices",
            pd.DataFrame({"label": labels, "value": devices["number"]}),
            value_title="Devices on unsupported systems (%)",
            title=f"{place}: devices on unsupported systems",
            label_title="Trust",
        )
    )
    if not named:
        gaps.notes.append(
            "Each trust's DSPT status and devices entered here are shown only to those who may see its data: "
            "your own trust's, if it is in this area."
        )
    dashboard.sections.append(gaps)

    dashboard.sections.append(_movement_section(year, cycles, area_filter, viewer, named, f"{place}: ", biggest=10))

    progress = _frame(
        (
            ProgressStat.objects.filter(
                cycle_year=year, area_type="ics", area_code__in=ICS.objects.filter(region=region).values("code")
            )
            if region
            else ProgressStat.objects.filter(cycle_year=year, area_type="region")
        ).shown_to(viewer),
        ["area_name", "not_started", "draft", "returned", "submitted", "approved", "published"],
    )
    progress_section = Section("Submission progress")
    progress_section.charts.append(
        charts.stacked_counts(
            "progress",
            _progress_counts(progress),
            category_order=[STATUS_LABELS[s] for s in STATUS_ORDER],
            title=f"{place}: where the returns stand",
            group_title="ICS" if region else "Region",
            count_title="Returns",
        )
    )
    dashboard.sections.append(progress_section)
    previous = previous_comparable(year, cycles)
    dashboard.attach(area_headline(region, year, previous, viewer, named, dashboard.theme_anchors()))
    return dashboard
