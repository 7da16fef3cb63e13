"""The planner's arithmetic, as pure functions of the answers and the planned steps: no database, no request.

The scores follow the summaries' rules exactly (reports.summaries.sql): a pillar score is the plain mean of the
answered domain levels in the pillar; the overall score is the weight-weighted mean of all answered domain levels
(none when the weights add up to 0); a 'domain_level' gap target measures the mean level of the answered domains
carrying its theme and is met when that reaches the goal. Indicator targets measure no domain, so a plan never moves
them: the planner shows them as they stand.

"Holding back": a pillar's next whole level is the whole number above its score (a pillar at 2.0 or 2.4 is aiming
for 3). Every answered domain of the pillar below that level holds it back; they are listed by how much raising that
one domain to the next level lifts the pillar (the furthest below first, then in the framework's order), and
`fewest_raises` says how many of the first of them, each raised to the next level, would carry the pillar there."""

import math
from dataclasses import dataclass, field
from decimal import Decimal

from maturity.models import TargetKind

TOP_LEVEL = 5


@dataclass(frozen=True)
class Answer:
    """One applicable domain of the assessment and the level answered now (None: not answered)."""

    code: str
    name: str
    pillar_code: str
    pillar_name: str
    pillar_position: int
    position: int
    level: int | None
    weight: Decimal
    themes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Target:
    """One of the cycle's gap targets. For an indicator target, `met_now` is what the summaries measured (None when
    nothing was); a plan leaves it as it is."""

    theme: str
    theme_name: str
    description: str
    kind: str
    goal: float | None
    met_now: bool | None = None

    @property
    def is_domain_level(self) -> bool:
        return self.kind == TargetKind.DOMAIN_LEVEL


@dataclass(frozen=True)
class Scores:
    pillars: dict[str, float]  # pillar code → score, answered pillars only
    overall: float | None


@dataclass(frozen=True)
class TargetResult:
    target: Target
    measured_now: float | None
    measured_planned: float | None
    met_now: bool | None
    met_planned: bool | None
    # The answered domains carrying the theme below the goal now, furthest below first.
    below: list[Answer] = field(default_factory=list)


@dataclass(frozen=True)
class PillarResult:
    code: str
    name: str
    now: float | None
    planned: float | None
    next_level: int | None  # None when the pillar is at the top level or has no answers
    holding_back: list[Answer]  # below next_level now, most helpful raise first
    fewest_raises: int  # how many of holding_back, raised to next_level, are enough

    @property
    def moves_up_a_level(self) -> bool:
        """The plan carries the pillar to (at least) its next whole level."""
        return self.next_level is not None and self.planned is not None and self.planned >= self.next_level


@dataclass(frozen=True)
class Simulation:
    pillars: list[PillarResult]
    overall_now: float | None
    overall_planned: float | None
    targets: list[TargetResult]

    @property
    def targets_met_now(self) -> int:
        return sum(1 for result in self.targets if result.met_now)

    @property
    def targets_met_planned(self) -> int:
        return sum(1 for result in self.targets if result.met_planned)

    @property
    def newly_met(self) -> list[TargetResult]:
        return [result for result in self.targets if result.met_planned and not result.met_now]

    @property
    def pillars_moving_up(self) -> list[PillarResult]:
        return [pillar for pillar in self.pillars if pillar.moves_up_a_level]


def planned_levels(answers: list[Answer], steps: dict[str, int]) -> dict[str, int | None]:
    """Each domain's level once the plan is done: the planned level where a step names the domain, else today's."""
    return {answer.code: steps.get(answer.code, answer.level) for answer in answers}


def scores(answers: list[Answer], levels: dict[str, int | None]) -> Scores:
    by_pillar: dict[str, list[int]] = {}
    weighted, weights = Decimal(0), Decimal(0)
    for answer in answers:
        level = levels.get(answer.code)
        if level is None:
            continue
        by_pillar.setdefault(answer.pillar_code, []).append(level)
        weighted += level * Decimal(answer.weight)
        weights += Decimal(answer.weight)
    pillars = {code: sum(found) / len(found) for code, found in by_pillar.items()}
    overall = float(weighted) / float(weights) if weights != 0 else None
    return Scores(pillars, overall)


def theme_level(answers: list[Answer], levels: dict[str, int | None], theme: str) -> float | None:
    """The mean level of the answered domains carrying `theme` (a domain listing it twice counts twice, as in SQL)."""
    found = [levels[a.code] for a in answers for t in a.themes if t == theme and levels.get(a.code) is not None]
    return sum(found) / len(found) if found else None


def _met(goal: float, measured: float | None) -> bool | None:
    if measured is None:
        return None
    return not goal - measured > 0


def target_result(answers: list[Answer], now: dict, planned: dict, target: Target) -> TargetResult:
    if not target.is_domain_level:
        return TargetResult(target, None, None, target.met_now, target.met_now)
    measured_now = theme_level(answers, now, target.theme)
    measured_planned = theme_level(answers, planned, target.theme)
    below = sorted(
        (a for a in answers if target.theme in a.themes and a.level is not None and a.level < target.goal),
        key=lambda a: (a.level, a.pillar_position, a.position),
    )
    return TargetResult(
        target,
        measured_now,
        measured_planned,
        _met(target.goal, measured_now),
        _met(target.goal, measured_planned),
        below,
    )


def next_whole_level(score: float | None) -> int | None:
    if score is None or score >= TOP_LEVEL:
        return None
    return math.floor(score) + 1


def holding_back(answers: list[Answer], pillar_code: str, next_level: int | None) -> tuple[list[Answer], int]:
    """The pillar's answered domains below `next_level`, the most helpful raise first, and how many of the first of
    them, each raised to `next_level`, bring the pillar's mean to it."""
    answered = [a for a in answers if a.pillar_code == pillar_code and a.level is not None]
    if next_level is None:
        return [], 0
    below = sorted(
        (a for a in answered if a.level < next_level),
        key=lambda a: (a.level, a.position),
    )
    shortfall = next_level * len(answered) - sum(a.level for a in answered)
    raises = 0
    for answer in below:
        if shortfall <= 0:
            break
        shortfall -= next_level - answer.level
        raises += 1
    return below, raises


def simulate(answers: list[Answer], steps: dict[str, int], targets: list[Target]) -> Simulation:
    """The assessment as it stands and as it would stand with `steps` (domain code → planned level) done."""
    now = planned_levels(answers, {})
    planned = planned_levels(answers, steps)
    scores_now, scores_planned = scores(answers, now), scores(answers, planned)
    pillars = []
    seen = {}
    for answer in sorted(answers, key=lambda a: a.pillar_position):
        seen.setdefault(answer.pillar_code, answer.pillar_name)
    for code, name in seen.items():
        score_now = scores_now.pillars.get(code)
        next_level = next_whole_level(score_now)
        below, fewest = holding_back(answers, code, next_level)
        pillars.append(PillarResult(code, name, score_now, scores_planned.pillars.get(code), next_level, below, fewest))
    return Simulation(
        pillars,
        scores_now.overall,
        scores_planned.overall,
        [target_result(answers, now, planned, target) for target in targets],
    )


# --- Where the trust would stand ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where an overall score falls among a group's deciles (the 10th to 90th percentiles of its counted returns'
    overall scores, which its dashboards show): a band, not a rank. A rank among the other trusts' scores would let
    anyone trying plan after plan find each of those scores; the deciles are aggregates already shown."""

    group: str
    percentile: int  # the highest of 10, 20, … 90 that the score reaches; 0 when below the 10th

    def __str__(self):
        if self.percentile == 0:
            return f"below the 10th percentile in {self.group}"
        return f"at or above the {ordinal(self.percentile)} percentile in {self.group}"


def position(group: str, score: float, deciles: list[float | None]) -> Position:
    """The band of `score` among `deciles` (the 10th to 90th percentiles, lowest first)."""
    reached = [10 * number for number, value in enumerate(deciles, start=1) if value is not None and score >= value]
    return Position(group, max(reached, default=0))


def ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"
