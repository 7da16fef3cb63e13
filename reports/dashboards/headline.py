"""The headline at the top of each dashboard: where the trust or area stands (overall and per pillar, against its
comparators and the last comparable cycle), how far its returns have got, and for EPR, cyber and legacy IT how many
trusts miss each target and by how much. Built with the dashboard and cached with it, as plain data.

Every read goes through the summary tables' `shown_to(viewer)`. Who misses each target and by how much is
reports.dashboards.gaps's one definition, the gap panels' too: an area's figures are its panels' figures.
"""

from dataclasses import dataclass, field

import pandas as pd
from django.db.models import Q

from reports.dashboards import gaps, positions_svg
from reports.dashboards.gaps import LEVELS, POINTS, read_frame
from reports.models import AreaStat, GapScore, IndicatorScore, PillarScore, ProgressStat
from reports.summaries import rules
from trusts.permissions import MIN_GROUP


@dataclass
class Position:
    """One score of the trust or area (overall, or a pillar) with what it is compared against."""

    name: str
    value: float | None
    n: int | None
    comparators: list[float | None] = field(default_factory=list)
    previous: float | None = None
    spread: tuple[float, float] | None = None

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass
class Progress:
    """How far the returns expected in a cycle have got: submitted counts the approved too."""

    expected: int
    submitted: int
    approved: int
    published: int


@dataclass
class TargetGap:
    """One target: how many of the counted units (trusts, returns, or a trust's care settings) miss it, the share
    meeting it (%), and by how much in the target's unit (None for targets met or not), as reports.dashboards.gaps
    defines them."""

    code: str
    description: str
    unit: str
    missing: int
    counted: int
    counts: str
    gap: float | None
    share_meeting: float | None = None
    furthest: str = ""
    england_met: float | None = None

    @property
    def gap_amount(self) -> str:
        if self.gap is None or not self.missing:
            return ""
        return format_amount(self.gap, self.unit)

    @property
    def gap_text(self) -> str:
        if not self.gap_amount:
            return ""
        return f"by up to {self.gap_amount}" if self.counts == "care settings" else f"by {self.gap_amount} on average"


@dataclass
class ThemeGap:
    theme: str
    title: str
    anchor: str
    targets: list[TargetGap] = field(default_factory=list)
    facts: list[str] = field(default_factory=list)


@dataclass
class Headline:
    place: str
    year: int
    previous_year: int | None
    comparator_names: list[str]
    positions: list[Position]
    progress: Progress | None
    themes: list[ThemeGap]
    movers: list[tuple[str, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # What the overall score is a mean of.
    scored: str = "returns"

    @property
    def overall(self) -> Position | None:
        return self.positions[0] if self.positions and self.positions[0].name == "Overall" else None

    @property
    def positions_chart(self):
        """The pillar positions drawn as SVG (the table beside it in the headline carries the same figures)."""
        return positions_svg.pillar_positions(self.place, self.comparator_names, self.positions)

    @property
    def has_targets(self) -> bool:
        return any(theme.targets for theme in self.themes)

    @property
    def counts(self) -> str:
        """What the gaps count: trusts, returns (aggregates only) or the trust's care settings."""
        return next((target.counts for theme in self.themes for target in theme.targets), "trusts")

    @property
    def overall_context(self) -> str:
        """What the overall score is and what it stands against: n, the comparators, and the last comparable
        cycle (or the spread, for England)."""
        overall = self.overall
        parts = [f"mean of {overall.n} {self.scored}"]
        parts += [
            f"{name} {_two(value) if value is not None else 'not shown'}"
            for name, value in zip(self.comparator_names, overall.comparators, strict=True)
        ]
        if not self.comparator_names and overall.spread:
            parts.append(f"middle half {_two(overall.spread[0])} to {_two(overall.spread[1])}")
        if self.previous_year is None:
            parts.append("no comparable earlier cycle")
        else:
            previous = _two(overall.previous) if overall.previous is not None else "no score"
            parts.append(f"{self.previous_year}: {previous}")
        return "; ".join(parts)


def _two(value: float) -> str:
    return f"{value:.2f}"


def format_amount(value: float, unit: str) -> str:
    if unit == LEVELS:
        return f"{value:.2f} levels"
    if unit == POINTS:
        return f"{value:.1f} percentage points"
    return f"{value:.1f}"


# --- Pure rules --------------------------------------------------------------------------------------------------


def target_gaps(summary: pd.DataFrame, counts: str) -> list[TargetGap]:
    """The headline's figures of some targets, as gaps.target_figures gives them (counted in `counts`)."""
    return [
        TargetGap(
            code=row.code,
            description=row.target,
            unit=row.unit,
            missing=int(row.missing),
            counted=int(row.with_value),
            counts=counts,
            gap=None if pd.isna(row.mean_gap) else float(row.mean_gap),
            share_meeting=float(row.share_meeting),
            furthest=str(row.furthest),
        )
        for row in summary.itertuples(index=False)
    ]


def setting_gaps(rows: pd.DataFrame, of: list[gaps.Target]) -> list[TargetGap]:
    """One trust's figures on some targets from its gap rows (gaps.gap_rows), counted in its care settings: how
    many are below each target and by up to how much (the trust's largest gap, as gaps.trust_gaps gives it)."""
    trust = gaps.trust_gaps(rows).set_index("target_code")
    found = []
    for target in of:
        if target.code not in trust.index:
            continue
        position = trust.loc[target.code]
        below, measured = int(position["settings_below"]), int(position["settings_measured"])
        found.append(
            TargetGap(
                code=target.code,
                description=target.name,
                unit=target.unit,
                missing=below,
                counted=measured,
                counts="care settings",
                gap=float(position["gap"]) if target.sized and below else None,
                share_meeting=100 * (measured - below) / measured,
            )
        )
    return found


def positions(stats: pd.DataFrame, own: tuple[str, str], comparators: list[tuple[str, str]], year, previous):
    """Overall first, then each pillar: the mean of `own` (area type, code) in `year`, the comparators' means, and
    its own mean in the `previous` comparable cycle. `stats` holds pillar aggregates (cycle_year, area_type,
    area_code, metric_code, metric_name, metric_position, n, mean, q1, q3)."""

    def lookup(cycle, area):
        rows = stats[(stats["cycle_year"] == cycle) & (stats["area_type"] == area[0]) & (stats["area_code"] == area[1])]
        return {row.metric_code: row for row in rows.itertuples(index=False)}

    mine, before = lookup(year, own), lookup(previous, own)
    others = [lookup(year, area) for area in comparators]
    metrics = (
        stats[stats["cycle_year"] == year]
        .sort_values("metric_position")
        .drop_duplicates("metric_code")[["metric_code", "metric_name"]]
    )
    result = []
    for code, name in metrics.itertuples(index=False):
        row = mine.get(code)
        result.append(
            Position(
                name="Overall" if code == rules.OVERALL[0] else name,
                value=row.mean if row else None,
                n=int(row.n) if row else None,
                comparators=[other[code].mean if code in other else None for other in others],
                previous=before[code].mean if code in before else None,
                spread=(row.q1, row.q3) if row else None,
            )
        )
    return result


def progress_of(rows: list[dict]) -> Progress | None:
    if not rows:
        return None
    row = rows[0]
    return Progress(
        expected=row["expected"],
        submitted=row["submitted"] + row["approved"],
        approved=row["approved"],
        published=row["published"],
    )


def biggest_movers(rows: pd.DataFrame, year: int, previous: int) -> list[tuple[str, float]]:
    """The biggest rise and the biggest fall in overall score (each trust's mean over its care settings), previous
    comparable cycle to this one, from rows of (cycle_year, org_name, score)."""
    means = rows.pivot_table(index="org_name", columns="cycle_year", values="score", aggfunc="mean")
    if previous not in means or year not in means:
        return []
    change = (means[year] - means[previous]).dropna().sort_index().sort_values(kind="stable")
    movers = []
    if len(change) and change.iloc[-1] > 0:
        movers.append((str(change.index[-1]), float(change.iloc[-1])))
    if len(change) and change.iloc[0] < 0:
        movers.append((str(change.index[0]), float(change.iloc[0])))
    return movers


# --- Reads -------------------------------------------------------------------------------------------------------


PILLAR_COLUMNS = [
    "cycle_year",
    "area_type",
    "area_code",
    "metric_code",
    "metric_name",
    "metric_position",
    "n",
    "mean",
    "q1",
    "q3",
]
GAP_STAT_COLUMNS = ["area_type", "area_code", "metric_code", "n", "mean", "share_met"]


def _pillar_stats(years, areas: Q, viewer) -> pd.DataFrame:
    return read_frame(
        AreaStat.objects.filter(areas, cycle_year__in=[y for y in years if y], metric_type="pillar").shown_to(viewer),
        PILLAR_COLUMNS,
    )


def _gap_stats(year, areas: Q, viewer) -> pd.DataFrame:
    return read_frame(
        AreaStat.objects.in_cycle(year).filter(areas, metric_type="gap").shown_to(viewer), GAP_STAT_COLUMNS
    )


def _themes(figures: dict[str, list[TargetGap]], england: pd.DataFrame, anchors) -> list[ThemeGap]:
    """EPR, cyber and legacy IT in that order, each with its targets' figures and England's share of returns meeting
    each (`england`: its gap aggregates: metric_code, share_met)."""
    england_met = dict(zip(england["metric_code"], england["share_met"], strict=True))
    themes = []
    for theme, title in gaps.THEMES:
        found = figures.get(theme, [])
        for gap in found:
            gap.england_met = england_met.get(gap.code)
        themes.append(ThemeGap(theme, title, anchors.get(theme, ""), found))
    return themes


def _area_gaps(year, where: Q, own: tuple[str, str], viewer, anchors) -> tuple[list[ThemeGap], set[str], bool]:
    """The area's gaps per theme exactly as its gap panels count them (gaps.target_figures): in trusts where the
    rows the viewer reads cover the area's aggregates, else from the aggregates it may see, in returns. With what
    the themes that have targets count, and whether the cycle has targets at all."""
    targets = gaps.targets(year)
    stats = _gap_stats(year, Q(area_type="england") | Q(area_type=own[0], area_code=own[1]), viewer)
    rows = gaps.gap_rows(GapScore.objects.in_cycle(year).providers().filter(where).shown_to(viewer), targets)
    area = stats[stats["area_type"] == own[0]]
    figures, counts, hidden = {}, set(), []
    for theme, _ in gaps.THEMES:
        of = gaps.of_theme(targets, theme)
        if not of:
            continue
        summary, counted = gaps.target_figures(rows, area, of)
        figures[theme] = target_gaps(summary, counted)
        counts.add(counted)
        if summary.empty and counted == "returns":
            hidden.append(theme)
    themes = _themes(figures, stats[stats["area_type"] == "england"], anchors)
    for theme in themes:
        if theme.theme in hidden:
            theme.facts.append(f"Too few returns to show (at least {MIN_GROUP} are needed)")
    return themes, counts, bool(targets)


def _movers(year, previous, where: Q, named: bool, viewer) -> list[tuple[str, float]]:
    if previous is None or not named:
        return []
    rows = read_frame(
        PillarScore.objects.providers()
        .filter(where, cycle_year__in=[previous, year], pillar_code=rules.OVERALL[0])
        .shown_to(viewer),
        ["cycle_year", "org_name", "score"],
    )
    return biggest_movers(rows, year, previous)


def _progress(year, area_type: str, area_code: str, viewer) -> Progress | None:
    return progress_of(
        list(
            ProgressStat.objects.filter(cycle_year=year, area_type=area_type, area_code=area_code)
            .shown_to(viewer)
            .values()
        )
    )


def _no_targets_note(has_targets: bool, year: int) -> list[str]:
    return [] if has_targets else [f"No EPR, cyber or legacy IT targets were set for {year}."]


def ics_headline(ics, year, previous, viewer, named: bool, anchors) -> Headline:
    region = ics.region
    stats = _pillar_stats(
        [year, previous],
        Q(area_type="england") | Q(area_type="region", area_code=region.code) | Q(area_type="ics", area_code=ics.code),
        viewer,
    )
    themes, counts, has_targets = _area_gaps(year, Q(ics_code=ics.code), ("ics", ics.code), viewer, anchors)
    notes = _no_targets_note(has_targets, year)
    if "returns" in counts:
        notes.append(
            f"Other trusts' entered returns count here only in aggregates of at least {MIN_GROUP}, so gaps are "
            "counted in returns, not trusts."
        )
    return Headline(
        place=ics.short_name,
        year=year,
        previous_year=previous,
        comparator_names=[region.name, "England"],
        positions=positions(stats, ("ics", ics.code), [("region", region.code), ("england", "E")], year, previous),
        progress=_progress(year, "ics", ics.code, viewer),
        themes=themes,
        movers=_movers(year, previous, Q(ics_code=ics.code), named, viewer),
        notes=notes,
    )


def area_headline(region, year, previous, viewer, named: bool, anchors) -> Headline:
    """A region's headline against England, or England's own (region None) with its spread."""
    own = ("region", region.code) if region else ("england", "E")
    comparators = [("england", "E")] if region else []
    areas = Q(area_type="england") | (Q(area_type="region", area_code=region.code) if region else Q(pk__in=[]))
    stats = _pillar_stats([year, previous], areas, viewer)
    where = Q(region_code=region.code) if region else Q()
    themes, counts, has_targets = _area_gaps(year, where, own, viewer, anchors)
    notes = _no_targets_note(has_targets, year)
    if "returns" in counts:
        notes.append("Entered returns count here only in aggregates, so gaps are counted in returns, not trusts.")
    return Headline(
        place=region.name if region else "England",
        year=year,
        previous_year=previous,
        comparator_names=["England"] if region else [],
        positions=positions(stats, own, comparators, year, previous),
        progress=_progress(year, *own, viewer),
        themes=themes,
        movers=_movers(year, previous, where, named, viewer),
        notes=notes,
    )


def trust_headline(trust, year, previous, viewer, anchors) -> Headline:
    """The trust against its ICS, similar trusts (when it has one care setting, so one peer group) and England; its
    gaps counted in its care settings, with its ICS's and England's share of returns meeting each target."""
    settings = list(
        PillarScore.objects.in_cycle(year)
        .for_org(trust.code)
        .providers()
        .shown_to(viewer)
        .values_list("trust_type", "care_setting", "ics_code")
        .distinct()
    )
    ics_code = settings[0][2] if settings else trust.ics.code
    peers = [f"{kind}|{setting}" for kind, setting, _ in settings]
    comparators = [("ics", ics_code), *([("peer", peers[0])] if len(peers) == 1 else []), ("england", "E")]
    names = [
        trust.ics.short_name,
        *(["Similar trusts"] if len(peers) == 1 else []),
        "England",
    ]
    areas = Q(area_type="trust", area_code=trust.code)
    for area_type, area_code in comparators:
        areas |= Q(area_type=area_type, area_code=area_code)
    stats = _pillar_stats([year, previous], areas, viewer)
    targets = gaps.targets(year)
    rows = gaps.gap_rows(GapScore.objects.in_cycle(year).for_org(trust.code).providers().shown_to(viewer), targets)
    figures = {theme: setting_gaps(rows, gaps.of_theme(targets, theme)) for theme, _ in gaps.THEMES}
    themes = _themes(figures, _gap_stats(year, Q(area_type="england"), viewer), anchors)
    if not any(theme.targets for theme in themes):
        _indicator_facts(themes, year, trust, viewer)
    notes = []
    if len(peers) > 1:
        notes.append("Each care setting against similar trusts is in ‘How the trust compares’.")
    return Headline(
        place=trust.name,
        year=year,
        previous_year=previous,
        comparator_names=names,
        positions=positions(stats, ("trust", trust.code), comparators, year, previous),
        progress=None,
        themes=themes,
        notes=notes,
        scored="care settings",
    )


def _indicator_facts(themes: list[ThemeGap], year, trust, viewer) -> None:
    """Without targets (published cycles), what was published on cyber and legacy IT: DSPT status and devices on
    unsupported systems, per care setting where they differ."""
    rows = read_frame(
        IndicatorScore.objects.in_cycle(year)
        .for_org(trust.code)
        .providers()
        .filter(indicator_code__in=["dspt_status", "unsupported_devices_pct"])
        .shown_to(viewer),
        ["indicator_code", "number", "text"],
    )
    by_theme = {theme.theme: theme for theme in themes}
    statuses = sorted(set(rows.loc[rows["indicator_code"] == "dspt_status", "text"]))
    if statuses:
        by_theme["cyber"].facts.append(f"DSPT status: {', '.join(statuses)}")
    devices = sorted(set(rows.loc[rows["indicator_code"] == "unsupported_devices_pct", "number"].dropna()))
    if devices:
        shares = f"{devices[0]:.1f}%" + (f" to {devices[-1]:.1f}%" if len(devices) > 1 else "")
        by_theme["legacy_it"].facts.append(f"{shares} of devices on unsupported systems")
    for theme in themes:
        if not theme.facts:
            theme.facts.append(f"No {theme.title} target or published figure for {year}")
