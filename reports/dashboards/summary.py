"""A plain-English summary of a dashboard, written from its headline (reports.dashboards.headline): where it stands,
its strongest and weakest pillars, what moved since the last comparable cycle and who misses which target. The same
data always gives the same sentences; it tops the dashboard and the board pack and is the charts' text alternative.
"""

from reports.dashboards.headline import Headline, Position, ThemeGap


def summarise(headline: Headline) -> list[str]:
    sentences = [
        _overall(headline),
        _pillars(headline),
        _change(headline),
        _movers(headline),
        *(_theme(theme) for theme in headline.themes),
        _progress(headline),
    ]
    return [sentence for sentence in sentences if sentence]


def _score(value: float) -> str:
    return f"{value:.2f}"


def _against(headline: Headline, position: Position) -> str:
    pairs = [
        f"{name} {_score(value)}"
        for name, value in zip(headline.comparator_names, position.comparators, strict=True)
        if value is not None
    ]
    return " and ".join([", ".join(pairs[:-1]), pairs[-1]] if len(pairs) > 1 else pairs)


def _overall(headline: Headline) -> str:
    overall = headline.overall
    owner = f"{headline.place}'s"
    if overall is None or overall.value is None:
        return f"{owner} overall score in {headline.year} is not shown: too few returns can be shown to you."
    counted = f"mean of {overall.n} {headline.scored}"
    if not overall.comparators and overall.spread:
        counted += f"; the middle half of returns between {_score(overall.spread[0])} and {_score(overall.spread[1])}"
    against = _against(headline, overall)
    return f"{owner} overall score in {headline.year} is {_score(overall.value)} ({counted})" + (
        f", against {against}." if against else "."
    )


def _england_of(headline: Headline, position: Position) -> str:
    if headline.comparator_names and headline.comparator_names[-1] == "England" and position.comparators[-1]:
        return f"; England {_score(position.comparators[-1])}"
    return ""


def _pillars(headline: Headline) -> str:
    pillars = [p for p in headline.positions if p.name != "Overall" and p.value is not None]
    if len(pillars) < 2:
        return ""
    ranked = sorted(pillars, key=lambda p: (-p.value, p.name))
    best, weakest = ranked[0], ranked[-1]
    return (
        f"The strongest pillar is {best.name} ({_score(best.value)}{_england_of(headline, best)}) and the weakest "
        f"{weakest.name} ({_score(weakest.value)}{_england_of(headline, weakest)})."
    )


def _moved(change: float) -> str:
    if round(change, 2) == 0:
        return "has not changed"
    return f"{'rose' if change > 0 else 'fell'} by {_score(abs(change))}"


def _change(headline: Headline) -> str:
    if headline.previous_year is None:
        return f"No earlier cycle is comparable with {headline.year}, so no change is shown."
    overall = headline.overall
    if overall is None or overall.change is None:
        return f"There is no {headline.previous_year} overall score to compare with."
    sentence = (
        f"Since {headline.previous_year} the overall score {_moved(overall.change)} (from {_score(overall.previous)})."
    )
    moved = [p for p in headline.positions if p.name != "Overall" and p.change is not None]
    if moved:
        biggest = sorted(moved, key=lambda p: (-abs(p.change), p.name))[0]
        sentence += f" The biggest move among the pillars: {biggest.name} {_moved(biggest.change)}."
    return sentence


def _movers(headline: Headline) -> str:
    if not headline.movers:
        return ""
    parts = [f"{name} {_moved(change)}" for name, change in headline.movers]
    return f"Biggest movers since {headline.previous_year}: {'; '.join(parts)}."


def _theme(theme: ThemeGap) -> str:
    if theme.facts:
        return f"{theme.title}: {'; '.join(theme.facts)}."
    if not theme.targets:
        return ""
    if not any(target.missing for target in theme.targets):
        counted = max(target.counted for target in theme.targets)
        which = "the target" if len(theme.targets) == 1 else f"all {len(theme.targets)} targets"
        return f"{theme.title}: all {counted} {theme.targets[0].counts} with a value meet {which}."
    parts = []
    for target in theme.targets:
        part = f"{target.missing} of {target.counted} {target.counts} miss ‘{target.description}’"
        if target.gap_text:
            part += f", {target.gap_text}"
        if target.furthest:
            part += f" (furthest: {target.furthest})"
        parts.append(part)
    return f"{theme.title}: {'; '.join(parts)}."


def _progress(headline: Headline) -> str:
    progress = headline.progress
    if progress is None or not progress.expected:
        return ""
    if progress.published:
        return f"NHS England published {progress.published} of {progress.expected} expected returns."
    return (
        f"{progress.submitted} of {progress.expected} expected returns are in (submitted or approved), "
        f"{progress.approved} of them approved."
    )
