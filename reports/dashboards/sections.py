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

from maturity.models import Cycle, CycleKind, Theme
from reports.dashboards import charts, gaps, money
from reports.dashboards.gaps import LEVELS, POINTS, UNIT_ORDER, Target, read_frame, setting_name
from reports.dashboards.headline import Headline, area_headline, ics_headline, trust_headline
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
    # False: the board pack gives the section as its answer and figures in words, every chart's table in the
    # appendix, so a board paper keeps to its pages.
    lead_chart_in_pack: bool = True

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
        for theme, _ in gaps.THEMES:
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
        *sorted(Path(__file__).parent.glob("*.py")),
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
    # areas(year) covers England, the regions and the peer groups of the cycle.
    parts = [versions.trust(trust.code), versions.ics(trust.ics.code), versions.areas(year)]
    return _cached_dashboard(
        f"trust:{trust.code}:{year}:{viewer.scope_key}", parts, lambda: _trust(trust, year, cycles, viewer)
    )


def _trust(trust, year, cycles, viewer) -> Dashboard:
    dashboard = _new(year, cycles)
    own = read_frame(
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
            "verified_share",
            "verified_score",
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
        Q(area_type="england") | Q(area_type="ics", area_code__in=ics_codes) | Q(area_type="peer", area_code__in=peers),
        metric_type="pillar",
    )
    visible = read_frame(
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
        frame["code"] = trust.code
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
    if evidence := _trust_evidence_section(trust, own):
        dashboard.sections.append(evidence)

    history = read_frame(
        PillarScore.objects.for_org(trust.code).providers().filter(cycle_year__in=cycles).shown_to(viewer),
        ["cycle_year", "care_setting", "pillar_name", "pillar_position", "score", "source", "status"],
    )
    trend = Section("Over time", "Each care setting's scores in every cycle with results, published or entered here.")
    runs = _comparable_runs(cycles)
    for setting, rows in history.groupby("care_setting", sort=False):
        rows = rows.sort_values(["pillar_position", "cycle_year"]).rename(columns={"pillar_name": "series"})
        rows = rows.assign(
            run=rows["cycle_year"].map(runs),
            source=[_source(source, status) for source, status in zip(rows["source"], rows["status"], strict=True)],
            code=trust.code,
        )
        trend.charts.append(
            charts.trend(
                f"trend-{setting}",
                rows[["cycle_year", "series", "score", "run", "source", "code"]],
                title=f"{_label(trust.name, setting)}: scores over time",
                description="The score in each cycle; lines join only cycles whose scores are comparable.",
            )
        )
    trend.notes.append("2024 and 2025 are NHS England's published results; later cycles use this service's framework.")
    dashboard.sections.append(trend)

    dashboard.sections.append(_trust_gap_section(trust, year, viewer))
    previous = previous_comparable(year, cycles)
    dashboard.attach(trust_headline(trust, year, previous, viewer, dashboard.theme_anchors()))
    return dashboard


def _trust_gap_section(trust, year, viewer) -> Section:
    """The trust's gap to each of the cycle's targets, care setting by care setting: one chart per unit of gap
    (levels, percentage points, met or not), never two units on one axis; and its indicators against England."""
    section = Section("Gaps to target", "How far each care setting is from the cycle's targets: 0 means met.")
    targets = gaps.targets(year)
    returns = gaps.gap_rows(GapScore.objects.in_cycle(year).for_org(trust.code).providers().shown_to(viewer), targets)
    if returns.empty:
        section.notes.append("No gap targets are set for this cycle.")
        return section
    if returns["gap"].isna().any():
        section.notes.append(
            "A target with nothing measured for a care setting (no value, or no domain of its "
            "theme for that setting) is left out for it."
        )
        returns = returns[returns["gap"].notna()]
    england = read_frame(
        AreaStat.objects.in_cycle(year).filter(area_type="england", metric_type="gap").shown_to(viewer),
        ["metric_code", "share_met", "measured_median"],
    ).set_index("metric_code")
    order = {code: position for position, code in enumerate(targets)}
    several = returns["care_setting"].nunique() > 1
    returns = returns.assign(
        position=returns["target_code"].map(order),
        unit=returns["target_code"].map(lambda code: targets[code].unit),
        goal=returns["target_code"].map(lambda code: targets[code].goal),
        label=[
            f"{targets[code].name} – {setting_name(setting)}" if several else targets[code].name
            for code, setting in zip(returns["target_code"], returns["care_setting"], strict=True)
        ],
        england_share_met=returns["target_code"].map(england["share_met"] * 100),
    ).sort_values(["position", "care_setting"])
    units = [unit for unit in UNIT_ORDER if unit in set(returns["unit"])]
    units += sorted(set(returns["unit"]) - set(units))
    for unit in units:
        rows = returns[returns["unit"] == unit]
        section.charts.append(
            charts.gaps(
                f"gaps-{unit.replace(' ', '-')}",
                pd.DataFrame(
                    {
                        "theme_name": rows["label"],
                        "description": rows["theme"].map(dict(Theme.choices)),
                        "measured": rows["measured"],
                        "target": rows["goal"],
                        "gap": rows["gap"],
                        "met": rows["met"],
                        "england_share_met": rows["england_share_met"],
                    }
                ),
                title=f"{trust.name}: "
                + ("targets met or not" if unit == charts.MET_OR_NOT else f"gaps to target in {unit}"),
                description="Each target the trust is measured on, for each care setting; 0 means the target is met."
                if unit != charts.MET_OR_NOT
                else "Targets that are met or not, such as a status: what each care setting reported.",
                category_title="Target",
                description_title="Theme",
                unit=unit,
            )
        )
    # What was measured against the percentage and number targets, beside the median of England's returns.
    measured = returns[returns["unit"].isin([unit for unit in units if unit not in (LEVELS, charts.MET_OR_NOT)])]
    for setting, rows in measured.groupby("care_setting", sort=False):
        rows = rows[rows["measured"].notna()]
        if rows.empty:
            continue
        section.charts.append(
            charts.indicator_comparison(
                f"indicators-{setting}",
                pd.DataFrame(
                    {
                        "indicator_name": rows["target_code"].map(lambda code: targets[code].name),
                        "value": rows["measured"].astype(float),
                        "england_median": rows["target_code"].map(england["measured_median"]),
                        "unit": rows["unit"].map(lambda unit: "%" if unit == POINTS else ""),
                    }
                ),
                title=f"{_label(trust.name, setting)}: measures behind the targets against England",
                org_label="This trust",
            )
        )
    return section


def _metric(stats: pd.DataFrame, area_type: str, area_code: str, column: str, name: str) -> pd.DataFrame:
    rows = stats[
        (stats["area_type"] == area_type) & (stats["area_code"] == area_code) & (stats["metric_type"] == "pillar")
    ]
    return rows[["metric_code", column]].rename(columns={"metric_code": "pillar_code", column: name})


# --- Verified evidence -------------------------------------------------------------------------------------------

EVIDENCE_TITLE = "Verified evidence"
EVIDENCE_INTRO = (
    "How many scores are backed by evidence (a note or link) that a reviewer checked and marked verified, and each "
    "pillar's mean score over every answer beside its mean over the verified answers only. A return's share is the "
    "share of its answered domains with verified evidence; an area's is the mean over its returns."
)


def _verified_rows(own: pd.DataFrame) -> pd.DataFrame:
    """One area's pillars (overall first) as charts.verified_evidence reads them, from its AreaStat rows (columns
    metric_type, metric_code, metric_name, metric_position, n, mean): the pillar means and the evidence metrics."""
    columns = ["pillar_code", "pillar_name", "share", "score", "verified_score", "n"]
    evidence = own[own["metric_type"] == rules.EVIDENCE_METRIC_TYPE]
    if evidence.empty:
        return pd.DataFrame(columns=columns)
    measure = evidence["metric_code"].str.partition(":")
    evidence = evidence.assign(measure=measure[0], pillar_code=measure[2])
    shares = evidence[evidence["measure"] == rules.VERIFIED_SHARE].sort_values("metric_position")
    verified = evidence[evidence["measure"] == rules.VERIFIED_SCORE].set_index("pillar_code")["mean"]
    scores = own[own["metric_type"] == "pillar"].set_index("metric_code")["mean"]
    return pd.DataFrame(
        {
            "pillar_code": shares["pillar_code"],
            "pillar_name": shares["metric_name"],
            "share": shares["mean"],
            "score": shares["pillar_code"].map(scores),
            "verified_score": shares["pillar_code"].map(verified),
            "n": shares["n"],
        },
        columns=columns,
    )


def _share_words(share: float) -> str:
    """A share as the sentences say it: a whole percentage, but "Under 1 %" rather than "0 %" when some are."""
    return "Under 1 %" if 0 < share < 0.005 else f"{share * 100:.0f} %"


def verified_sentence(name: str, rows: pd.DataFrame) -> str:
    """The answer in one line, from an area's overall row: "42 % of Greater Manchester's scores are backed by
    verified evidence", with the overall means with and without the unverified answers."""
    overall = rows[rows["pillar_code"] == "overall"]
    if overall.empty:
        return ""
    row = overall.iloc[0]
    returns = f"{int(row['n'])} return{'s' if int(row['n']) != 1 else ''}"
    sentence = f"{_share_words(row['share'])} of {name}'s scores are backed by verified evidence ({returns})."
    if pd.notna(row["verified_score"]) and pd.notna(row["score"]):
        sentence += (
            f" The mean overall score is {row['score']:.1f} over every answer and {row['verified_score']:.1f} "
            "over the verified answers only."
        )
    return sentence


def _evidence_section(year, viewer, areas: list[tuple[str, str, str]]) -> Section:
    """The verified share and the means with and without unverified answers for each of `areas` (area type, code,
    name for people): aggregates the viewer may read, as every area figure (over at least 5 returns, or an area it
    sees by name)."""
    section = Section(EVIDENCE_TITLE, EVIDENCE_INTRO, lead_chart_in_pack=False)
    where = Q()
    for area_type, code, _ in areas:
        where |= Q(area_type=area_type, area_code=code)
    figures = AreaStat.objects.in_cycle(year).filter(where, metric_type__in=["pillar", rules.EVIDENCE_METRIC_TYPE])
    shown = read_frame(
        figures.shown_to(viewer),
        ["area_type", "area_code", "metric_type", "metric_code", "metric_name", "metric_position", "n", "mean"],
    )
    with_evidence = set(
        figures.filter(metric_code=rules.verified_metric(rules.VERIFIED_SHARE, "overall")).values_list(
            "area_type", "area_code"
        )
    )
    sentences, withheld_means = [], False
    for area_type, code, name in areas:
        rows = _verified_rows(shown[(shown["area_type"] == area_type) & (shown["area_code"] == code)])
        if rows.empty:
            if (area_type, code) in with_evidence:
                section.notes.append(f"{name}'s share is not shown: fewer than {MIN_GROUP} returns were entered here.")
            continue
        # The verified-only mean counts the returns with a verified answer, which may be too few to show.
        withheld_means = withheld_means or bool((rows["verified_score"].isna() & (rows["share"] > 0)).any())
        sentences.append(verified_sentence(name, rows))
        section.charts.append(
            charts.verified_evidence(
                f"evidence-{area_type}",
                # England has no ODS code: its table has no code column rather than one saying "No data".
                rows if code == "E" else rows.assign(code=code),
                title=f"{name}: scores backed by verified evidence",
            )
        )
    if withheld_means:
        section.notes.append(
            f"A mean over the verified answers only is not shown where fewer than {MIN_GROUP} returns have one."
        )
    section.intro = " ".join([*sentences, EVIDENCE_INTRO])
    if not section.charts and not section.notes:
        section.notes.append(f"No return entered here counts in {year} yet.")
    return section


def _trust_evidence_section(trust, own: pd.DataFrame) -> Section | None:
    """The trust's own returns: each care setting's share of scores backed by verified evidence per pillar, with its
    scores over every answer and over the verified answers only. `own` is the trust's pillar rows the viewer may
    read; None when none of them is a return entered here (published results have no evidence)."""
    entered = own[own["verified_share"].notna()]
    if entered.empty:
        return None
    section = Section(EVIDENCE_TITLE, lead_chart_in_pack=False)
    sentences = []
    for setting, rows in entered.groupby("care_setting", sort=False):
        rows = rows.sort_values("pillar_position")
        label = _label(trust.name, setting)
        frame = pd.DataFrame(
            {
                "pillar_code": rows["pillar_code"],
                "pillar_name": rows["pillar_name"],
                "share": rows["verified_share"],
                "score": rows["score"],
                "verified_score": rows["verified_score"],
                "code": trust.code,
            }
        )
        overall = frame[frame["pillar_code"] == "overall"]
        if not overall.empty:
            share = _share_words(overall["share"].iloc[0])
            sentences.append(f"{share} of the scores of {label} are backed by verified evidence.")
        section.charts.append(
            charts.verified_evidence(
                f"evidence-{setting}",
                frame,
                title=f"{label}: scores backed by verified evidence",
                description="Each pillar's share of this return's scores whose evidence a reviewer verified, with "
                "its score over every answer and over the verified answers only.",
            )
        )
    section.intro = " ".join([*sentences, EVIDENCE_INTRO])
    return section


# --- Money and people ----------------------------------------------------------------------------------------------

SPEND_TITLE = "Digital spend (% of budget)"
OVERALL_TITLE = "Overall score (level 1 to 5)"


def _money_section(year, viewer, areas: list[tuple[str, str, str]], trusts: Q, icss: Q, per_trust: bool) -> Section:
    """Digital spend against the 5 % benchmark and DDaT vacancy rates for each of `areas` (area type, code, name
    for people), then spend beside the overall score: a point per trust of `trusts` for a viewer who sees them by
    name (`per_trust`), else a point per ICS of `icss`, each an aggregate the viewer may read (over at least 5
    returns, or an ICS it reviews). Every read is scoped by shown_to; `per_trust` only picks the chart."""
    section = Section(
        "Money and people",
        "Digital spend as a share of budget against the 5 % benchmark, and digital, data and technology (DDaT) "
        "vacancy rates: the barriers NHS England's reviews name, beside the pillar scores.",
        lead_chart_in_pack=False,
    )
    where = Q()
    for area_type, code, _ in areas:
        where |= Q(area_type=area_type, area_code=code)
    figures = AreaStat.objects.in_cycle(year).filter(where, metric_type="indicator")
    columns = ["area_type", "area_code", "metric_code", "n", "mean", "median", "share_met"]
    shown = read_frame(figures.shown_to(viewer), columns)
    every = set(figures.values_list("area_type", "area_code", "metric_code"))
    lines = []
    for area_type, code, name in areas:
        own = shown[(shown["area_type"] == area_type) & (shown["area_code"] == code)]
        hidden = {metric for kind, area, metric in every if (kind, area) == (area_type, code)} - set(own["metric_code"])
        lines += money.figure_sentences(own, hidden, name)

    if per_trust:
        scores = read_frame(
            PillarScore.objects.in_cycle(year).providers().filter(trusts, pillar_code="overall").shown_to(viewer),
            ["org_code", "org_name", "score"],
        )
        spend = read_frame(
            IndicatorScore.objects.in_cycle(year)
            .providers()
            .filter(trusts, indicator_code=money.SPEND, number__isnull=False)
            .shown_to(viewer),
            ["org_code", "number"],
        )
        # A trust's figure is the mean of its care settings' returns, as everywhere else.
        points = (
            scores.groupby(["org_code", "org_name"], as_index=False)["score"]
            .mean()
            .merge(spend.groupby("org_code", as_index=False)["number"].mean(), on="org_code")
        )
        frame = pd.DataFrame(
            {"label": points["org_name"], "x": points["number"], "y": points["score"], "code": points["org_code"]}
        )
        who, label_title = "trusts", "Trust"
    else:
        stats = read_frame(
            AreaStat.objects.in_cycle(year)
            .filter(icss, area_type="ics", metric_code__in=["overall", money.SPEND])
            .shown_to(viewer),
            ["area_code", "area_name", "metric_code", "n", "mean", "median"],
        )
        overall = stats[stats["metric_code"] == "overall"]
        spend = stats[stats["metric_code"] == money.SPEND]
        points = overall.merge(spend, on=["area_code", "area_name"], suffixes=("_score", "_spend"))
        frame = pd.DataFrame(
            {
                "label": points["area_name"].map(_short),
                "x": points["median_spend"],
                "y": points["mean_score"],
                "n": points["n_spend"],
                "code": points["area_code"],
            }
        )
        who, label_title = "ICSs", "ICS"
    section.intro = f"{money.link_sentence(frame.rename(columns={'x': 'spend', 'y': 'score'}), who)} {section.intro}"
    section.charts.append(
        charts.scatter(
            "spend-and-scores",
            frame,
            x_title=SPEND_TITLE if per_trust else f"Median {SPEND_TITLE[0].lower()}{SPEND_TITLE[1:]}",
            y_title=OVERALL_TITLE if per_trust else f"Mean {OVERALL_TITLE[0].lower()}{OVERALL_TITLE[1:]}",
            title="Digital spend beside the overall score, " + ("trust by trust" if per_trust else "ICS by ICS"),
            description="Each point is a trust (the mean of its care settings' returns); the dashed line is the 5 % "
            "benchmark."
            if per_trust
            else "Each point is an ICS: its median digital spend and mean overall score, left out when over fewer than "
            f"{MIN_GROUP} returns (unless you review it); the dashed line is the 5 % benchmark.",
            label_title=label_title,
            x_reference=money.SPEND_BENCHMARK,
        )
    )
    section.notes = lines
    if not per_trust:
        section.notes.append("Spend is shown trust by trust only to those who may see each trust's data.")
    return section


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
    scores = read_frame(
        PillarScore.objects.in_cycle(year).for_ics(ics.code).shown_to(viewer),
        ["org_type", "org_code", "org_name", "care_setting", "pillar_code", "pillar_name", "pillar_position", "score"],
    )
    providers = scores[scores["org_type"] == "trust"]
    # The overall score is the heatmap's last column, read like a row's total after its pillars.
    heat = providers.assign(
        label=lambda f: [_label(n, s) for n, s in zip(f["org_name"], f["care_setting"], strict=True)],
        code=lambda f: f["org_code"],
        column=lambda f: f["pillar_position"].where(f["pillar_code"] != "overall", f["pillar_position"].max() + 1),
    ).sort_values(["org_name", "care_setting", "column"])
    overview = Section("Member trusts against the seven pillars")
    stats = read_frame(
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
    pillar_stats = stats[stats["metric_type"] == "pillar"]
    references = pd.DataFrame(
        {
            "label": pillar_stats["area_type"].map({"ics": f"{name} mean", "england": "England mean"}),
            "pillar_name": pillar_stats["metric_name"],
            "score": pillar_stats["mean"],
            "code": pillar_stats["area_type"].map({"ics": ics.code, "england": None}),
            # The ICS's row above England's, next to its trusts.
            "order": pillar_stats["area_type"].map({"ics": 0, "england": 1}),
        }
    ).sort_values("order", kind="stable")
    overview.charts.append(
        charts.heatmap(
            "heatmap",
            heat[["label", "pillar_name", "score", "code"]],
            references=references.drop(columns="order"),
            title=f"{name}: pillar scores of each trust and care setting",
            description=(
                "Each trust and care setting's pillar and overall scores, with the ICS and England means in bold "
                "below; darker is higher, and each cell shows its score."
            ),
            row_title="Trust and care setting",
        )
    )
    if not named:
        overview.notes.append(
            f"Other trusts' assessments entered here are shown only in aggregates of at least {MIN_GROUP}."
        )
    visible_stats = pillar_stats[pillar_stats["metric_code"] != "overall"]
    if not named and (visible_stats["area_type"] == "ics").sum() == 0:
        overview.notes.append(f"{name}'s spread is not shown: fewer than {MIN_GROUP} assessments were entered here.")
    distribution = visible_stats.assign(
        group=visible_stats["area_type"].map({"ics": name, "england": "England"}),
        pillar_name=visible_stats["metric_name"],
        p10=visible_stats["deciles"].map(lambda d: d[0]),
        p90=visible_stats["deciles"].map(lambda d: d[-1]),
        code=visible_stats["area_type"].map({"ics": ics.code, "england": None}),
    ).sort_values(["metric_position", "area_type"], ascending=[True, False])
    overview.charts.append(
        charts.distribution(
            "distribution",
            distribution[["pillar_name", "group", "n", "p10", "q1", "median", "q3", "p90", "mean", "code"]],
            title=f"{name} against England: spread of pillar scores",
        )
    )
    dashboard.sections.append(overview)

    dashboard.sections.extend(_gap_panels(ics, year, stats, viewer, named))
    dashboard.sections.append(
        _money_section(
            year,
            viewer,
            [("ics", ics.code, name), ("england", "E", "England")],
            trusts=Q(ics_code=ics.code),
            icss=Q(),
            per_trust=named,
        )
    )
    if not dashboard.is_published:
        dashboard.sections.append(
            _evidence_section(year, viewer, [("ics", ics.code, name), ("england", "E", "England")])
        )

    progress = read_frame(
        ProgressStat.objects.filter(cycle_year=year, area_type="ics", area_code=ics.code).shown_to(viewer),
        ["area_code", "area_name", "not_started", "draft", "returned", "submitted", "approved", "published"],
    )
    progress_section = Section("Submission progress")
    progress_section.charts.append(
        charts.stacked_counts(
            "progress",
            _progress_counts(progress.assign(area_name=name)),
            category_order=[STATUS_LABELS[s] for s in PROGRESS_ORDER],
            ordered=True,
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
                icb.sort_values("pillar_position")[["pillar_name", "score"]].assign(code=ics.code),
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


# Statuses from furthest along to not started, for the progress charts' ordered (one-hue) palette.
PROGRESS_ORDER = ["published", "approved", "submitted", "returned", "draft", "not_started"]


def _progress_counts(progress: pd.DataFrame) -> pd.DataFrame:
    rows = [
        {
            "group": row["area_name"],
            "category": STATUS_LABELS[status],
            "count": int(row[status]),
            "code": row["area_code"],
        }
        for row in progress.to_dict("records")
        for status in PROGRESS_ORDER
        if row.get(status)
    ]
    return pd.DataFrame(rows, columns=["group", "category", "count", "code"])


# --- Gap panels ----------------------------------------------------------------------------------------------------
#
# Their figures are reports.dashboards.gaps's, the one definition the headline uses too.

# What each gap theme's section shows; its title is the theme's and "gap" (the headline links to it by its words).
GAP_INTROS = {
    "epr": "Trusts without an EPR, or below target on the EPR domains, and their suppliers.",
    "cyber": "The DSPT status of each trust, and the cyber and Safe Practice domains.",
    "legacy_it": "The share of devices on unsupported systems, and the Smart Foundations and legacy domains.",
}
GAP_THEMES = tuple((theme, f"{title} gap", GAP_INTROS[theme]) for theme, title in gaps.THEMES)


def _target_charts(theme: str, title: str, place: str, rows, stats, targets: list[Target], *, below=True) -> list:
    """A theme's targets in an area: the share meeting each (of trusts where the rows read cover the area, else
    of returns), and for each target the trusts read here that miss it, largest gap first."""
    summary, counted = gaps.target_figures(rows, stats, targets)
    found = [
        charts.gap_targets(
            f"{theme}-targets",
            summary,
            counted=counted,
            title=f"{place}: {title}, share of {counted} meeting each target",
            description=(
                "Each trust counts once: it misses a target when any of its care settings is below it. The mean gap "
                "of those missing it is each trust's largest gap, in the target's unit."
                if counted == "trusts"
                else "Counted over returns (one per trust and care setting), the aggregates you may see: the mean "
                "gap of the returns missing each target is in that target's unit."
            ),
        )
    ]
    if not below:
        return found
    trust_gaps = gaps.trust_gaps(rows)
    for number, target in enumerate(targets, start=1):
        missing = trust_gaps[(trust_gaps["target_code"] == target.code) & trust_gaps["misses"]]
        if missing.empty:
            continue
        size = missing["settings_below"] if target.unit == charts.MET_OR_NOT else missing["gap"]
        found.append(
            charts.gap_below(
                f"{theme}-below-{number}",
                pd.DataFrame(
                    {
                        "org_name": missing["org_name"],
                        "ods_code": missing["org_code"],
                        "settings": missing["settings"],
                        "measured": missing["measured"],
                        "goal": target.goal,
                        "gap": size,
                    }
                ),
                unit=target.unit,
                title=f"{title}: trusts below target on ‘{target.name}’",
                description=(
                    "Each trust with a care setting that does not meet this target, and how many of its care "
                    "settings miss it."
                    if target.unit == charts.MET_OR_NOT
                    else f"Each trust that misses this target, and by how much: its largest gap, in {target.unit}."
                ),
            )
        )
    return found


def _dspt_per_trust(indicators: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Each trust's DSPT status (per `keys` too), a fact about the trust: where its care settings' returns say
    different things, it counts once, at the least good (a status not in DSPT_ORDER counts as worst)."""
    dspt = indicators[indicators["indicator_code"] == "dspt_status"]
    rank = dspt["text"].map(lambda text: DSPT_ORDER.index(text) if text in DSPT_ORDER else len(DSPT_ORDER))
    worst_first = dspt.assign(rank=rank).sort_values("rank", ascending=False, kind="stable")
    return worst_first.drop_duplicates([*keys, "org_code"])


def _devices_per_trust(indicators: pd.DataFrame) -> pd.DataFrame:
    """Each trust's share of devices on unsupported systems: where its care settings' returns differ, the highest."""
    devices = indicators[(indicators["indicator_code"] == "unsupported_devices_pct") & indicators["number"].notna()]
    return devices.sort_values("number", ascending=False, kind="stable").drop_duplicates("org_code")


def _gap_panels(ics, year, stats, viewer, named) -> list[Section]:
    """EPR, cyber and legacy IT: the share of the ICS's trusts meeting each target and by how much those missing it
    miss (or over returns, where only aggregates may be seen), who is below target (the rows this viewer may see),
    and the indicators behind them."""
    targets = gaps.targets(year)
    rows = gaps.gap_rows(GapScore.objects.in_cycle(year).for_ics(ics.code).providers().shown_to(viewer), targets)
    indicators = read_frame(
        IndicatorScore.objects.in_cycle(year).for_ics(ics.code).providers().shown_to(viewer),
        ["org_code", "org_name", "care_setting", "indicator_code", "number", "text"],
    )
    gap_stats = stats[(stats["metric_type"] == "gap") & (stats["area_type"] == "ics")]
    sections = []
    for theme, title, intro in GAP_THEMES:
        section = Section(title, intro)
        theme_targets = gaps.of_theme(targets, theme)
        if theme_targets:
            section.charts.extend(
                _target_charts(theme, title, ics.short_name, rows[rows["theme"] == theme], gap_stats, theme_targets)
            )
        else:
            section.notes.append(f"No targets are set for this theme in {year}.")
        if not named:
            section.notes.append(
                "Only your own trust's returns are shown one by one; other trusts' entered data counts only in "
                f"aggregates of at least {MIN_GROUP}."
            )
        if theme == "epr":
            # A trust can use a different EPR in each care setting: the count is of care settings.
            suppliers = indicators[indicators["indicator_code"] == "epr_supplier"]
            counts = suppliers.groupby("text").size().reset_index(name="count")
            section.charts.append(
                charts.stacked_counts(
                    "epr-suppliers",
                    counts.assign(group="EPR suppliers").rename(columns={"text": "category"})[
                        ["group", "category", "count"]
                    ],
                    category_order=sorted(counts["text"]),
                    title="EPR suppliers of the ICS's trusts, by care setting",
                    description="How many of the trusts' care settings use each EPR supplier.",
                    group_title="What is counted",
                    count_title="Care settings",
                )
            )
        if theme == "cyber":
            counts = _dspt_per_trust(indicators, []).groupby("text").size().reset_index(name="count")
            section.charts.append(
                charts.stacked_counts(
                    "dspt",
                    counts.assign(group="DSPT status").rename(columns={"text": "category"})[
                        ["group", "category", "count"]
                    ],
                    category_order=DSPT_ORDER,
                    ordered=True,
                    title="Data Security and Protection Toolkit status of the ICS's trusts",
                    description="How many trusts are in each DSPT status; each trust counts once, at its least good "
                    "status where its care settings' returns differ.",
                    group_title="What is counted",
                    count_title="Trusts",
                )
            )
        if theme == "legacy_it":
            devices = _devices_per_trust(indicators)
            section.charts.append(
                charts.histogram(
                    "devices",
                    pd.DataFrame(
                        {"label": devices["org_name"], "value": devices["number"], "code": devices["org_code"]}
                    ),
                    value_title="Devices on unsupported systems (%)",
                    title="Devices on unsupported systems",
                    description="How many trusts have each share of devices on unsupported systems; each trust "
                    "counts once, at its highest share where its care settings' returns differ.",
                    label_title="Trust",
                    count_title="Trusts",
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
    rows = read_frame(
        PillarScore.objects.providers()
        .filter(where, cycle_year__in=[previous, year], pillar_code="overall")
        .shown_to(viewer),
        ["cycle_year", "org_name", "care_setting", "org_code", "score"],
    )
    wide = rows.pivot_table(index=["org_name", "care_setting", "org_code"], columns="cycle_year", values="score")
    wide = wide.reindex(columns=[previous, year]).dropna()
    if not named:
        section.notes.append("Movement is shown by name only to those who may see each trust's data.")
    if wide.empty:
        return section
    movers = pd.DataFrame(
        {
            "name": [_label(n, s) for n, s, _ in wide.index],
            "code": [code for _, _, code in wide.index],
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


def _comparable_runs(cycles: list[int]) -> dict[int, str]:
    """Each cycle's run of comparable cycles (a cycle starts a new run when previous_comparable gives no earlier
    cycle), named for the reader; the trend chart joins only cycles of one run."""
    kinds = dict(Cycle.objects.filter(year__in=cycles).values_list("year", "kind"))
    runs, names, name = {}, set(), None
    for year in sorted(cycles):
        if name is None or previous_comparable(year, cycles) is None:
            name = RUN_NAMES.get(kinds.get(year), "Other cycles")
            # Two runs of one kind (a framework that changed) still need names of their own.
            name = f"{name} from {year}" if name in names else name
            names.add(name)
        runs[year] = name
    return runs


RUN_NAMES = {
    CycleKind.PUBLISHED_HISTORY: "NHS England's published scores",
    CycleKind.COLLECTED: "Scores on this service's framework",
}


def _source(source: str, status: str) -> str:
    """Where one organisation's scores come from, as a chart's CSV says it."""
    if source == "published":
        return charts.SOURCE_PUBLISHED
    return charts.SOURCE_APPROVED if status == "approved" else charts.SOURCE_PROVISIONAL


# --- Region and England ------------------------------------------------------------------------------------------


def _ranked_frame(stats: pd.DataFrame) -> pd.DataFrame:
    """Area statistics as charts.ranked reads them; England's code "E" is no ODS code, so it is left empty."""
    frame = stats.rename(columns={"area_name": "name", "area_code": "code"})[["name", "code", "mean", "q1", "q3", "n"]]
    return frame.assign(code=frame["code"].where(frame["code"] != "E", None))


def _ranking_references(year: int, region, viewer) -> pd.DataFrame:
    """The overall means to read a ranking against: England's, and the region's on a region's dashboard."""
    where = Q(area_type="england")
    if region:
        where |= Q(area_type="region", area_code=region.code)
    stats = read_frame(
        AreaStat.objects.in_cycle(year).filter(where, metric_code="overall").shown_to(viewer).order_by("area_type"),
        ["area_type", "area_code", "area_name", "mean", "q1", "q3", "n"],
    )
    stats["area_name"] = stats["area_name"].map(_short)
    return _ranked_frame(stats)


def area_dashboard(region: Region | None, year, cycles, user) -> CachedDashboard:
    """A region's dashboard, or England's (region None). Analysts see trusts by name; others see ICS aggregates."""
    if year is None:
        return _no_results(cycles)
    viewer = viewer_of(user)
    key = f"area:{region.code if region else 'E'}:{year}:{viewer.scope_key}"
    # Every cycle's areas: the movement section reads the previous comparable cycle too.
    parts = [versions.areas(cycle) for cycle in cycles]
    return _cached_dashboard(key, parts, lambda: _area(region, year, cycles, viewer))


def _area_cyber_and_legacy(region, year, viewer, named, place, area_filter) -> Section:
    """Cyber and legacy IT across a region or England: the share meeting each target (of trusts where the rows read
    cover the area, else of returns), each ICS's trusts by DSPT status, and each trust's unsupported devices."""
    section = Section(
        "Cyber and legacy IT",
        "The share meeting each cyber and legacy IT target, the DSPT status of each ICS's trusts, and the share of "
        "devices on unsupported systems.",
    )
    themes = ("cyber", "legacy_it")
    targets = gaps.targets(year)
    rows = gaps.gap_rows(
        GapScore.objects.in_cycle(year).providers().filter(area_filter, theme__in=themes).shown_to(viewer), targets
    )
    stats = read_frame(
        AreaStat.objects.in_cycle(year)
        .filter(
            area_type="region" if region else "england", area_code=region.code if region else "E", metric_type="gap"
        )
        .shown_to(viewer),
        ["metric_code", "n", "mean", "share_met"],
    )
    for theme, title, _ in GAP_THEMES:
        theme_targets = gaps.of_theme(targets, theme)
        if theme in themes and theme_targets:
            section.charts.extend(
                _target_charts(theme, title, place, rows[rows["theme"] == theme], stats, theme_targets, below=False)
            )

    indicators = read_frame(
        IndicatorScore.objects.in_cycle(year)
        .providers()
        .filter(area_filter, indicator_code__in=["dspt_status", "unsupported_devices_pct"])
        .shown_to(viewer),
        ["ics_code", "ics_name", "org_code", "org_name", "care_setting", "indicator_code", "number", "text"],
    )
    indicators["ics_name"] = indicators["ics_name"].map(_short)
    counts = (
        _dspt_per_trust(indicators, ["ics_code", "ics_name"])
        .groupby(["ics_code", "ics_name", "text"])
        .size()
        .reset_index(name="count")
    )
    section.charts.append(
        charts.stacked_counts(
            "dspt",
            counts.rename(columns={"ics_code": "code", "ics_name": "group", "text": "category"}),
            category_order=DSPT_ORDER,
            ordered=True,
            title=f"{place}: DSPT status of each ICS's trusts",
            description="How many trusts of each ICS are in each DSPT status; each trust counts once, at its least "
            "good status where its care settings' returns differ.",
            group_title="ICS",
            count_title="Trusts",
        )
    )
    devices = _devices_per_trust(indicators)
    section.charts.append(
        charts.histogram(
            "devices",
            pd.DataFrame({"label": devices["org_name"], "value": devices["number"], "code": devices["org_code"]}),
            value_title="Devices on unsupported systems (%)",
            title=f"{place}: devices on unsupported systems",
            description="How many trusts have each share of devices on unsupported systems; each trust counts once, "
            "at its highest share where its care settings' returns differ.",
            label_title="Trust",
            count_title="Trusts",
        )
    )
    if not named:
        section.notes.append(
            "Each trust's DSPT status and devices entered here are shown only to those who may see its data: "
            "your own trust's, if it is in this area."
        )
    return section


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
    stats = read_frame(
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
    references = _ranking_references(year, region, viewer)
    ranking.charts.append(
        charts.ranked(
            "ics-ranked",
            _ranked_frame(shown),
            references=references,
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
                _ranked_frame(regions),
                references=references,
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
        {
            "pillar_name": stat.metric_name,
            "decile": (index + 1) * 10,
            "value": value,
            "q1": stat.q1,
            "q3": stat.q3,
            "code": region.code if region else None,
        }
        for stat in spread.order_by("metric_position")
        for index, value in enumerate(stat.deciles)
    ]
    deciles = Section("Deciles per pillar", f"How pillar scores are spread across {place}'s assessments.")
    deciles.charts.append(
        charts.deciles(
            "deciles",
            pd.DataFrame(decile_rows, columns=["pillar_name", "decile", "value", "q1", "q3", "code"]),
            title=f"{place}: deciles of pillar scores",
        )
    )
    dashboard.sections.append(deciles)

    dashboard.sections.append(_area_cyber_and_legacy(region, year, viewer, named, place, area_filter))
    dashboard.sections.append(
        _money_section(
            year,
            viewer,
            [("region", region.code, place)] if region else [("england", "E", place)],
            trusts=area_filter,
            icss=Q(area_code__in=ICS.objects.filter(region=region).values("code")) if region else Q(),
            per_trust=named,
        )
    )
    if not dashboard.is_published:
        evidence_areas = [("region", region.code, place)] if region else []
        dashboard.sections.append(_evidence_section(year, viewer, [*evidence_areas, ("england", "E", "England")]))

    dashboard.sections.append(_movement_section(year, cycles, area_filter, viewer, named, f"{place}: ", biggest=10))

    progress = read_frame(
        (
            ProgressStat.objects.filter(
                cycle_year=year, area_type="ics", area_code__in=ICS.objects.filter(region=region).values("code")
            )
            if region
            else ProgressStat.objects.filter(cycle_year=year, area_type="region")
        ).shown_to(viewer),
        ["area_code", "area_name", "not_started", "draft", "returned", "submitted", "approved", "published"],
    )
    progress_section = Section("Submission progress")
    progress_section.charts.append(
        charts.stacked_counts(
            "progress",
            _progress_counts(progress.assign(area_name=progress["area_name"].map(_short))),
            category_order=[STATUS_LABELS[s] for s in PROGRESS_ORDER],
            ordered=True,
            title=f"{place}: where the returns stand",
            group_title="ICS" if region else "Region",
            count_title="Returns",
        )
    )
    dashboard.sections.append(progress_section)
    previous = previous_comparable(year, cycles)
    dashboard.attach(area_headline(region, year, previous, viewer, named, dashboard.theme_anchors()))
    return dashboard
