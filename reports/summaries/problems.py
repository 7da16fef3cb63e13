"""Stored values a refresh cannot use, in plain English. Entry refuses them (maturity.actions._target_errors, the
indicator forms), but a value written past the forms (a shell, a migration, an import) must not stop every summary:
the refresh skips that one figure, records why on its run (shown at /summaries/) and writes all the others.

Gap targets are checked here in Python, before the SQL (a handful of rows); numbers that are not finite are found
by one query over the values the refresh reads (reports.summaries.sql.unusable_numbers) and left out by the SQL."""

import math

from maturity.models import TargetKind, Theme

# A run lists this many problems; a bad value copied into thousands of rows would otherwise fill the page.
MOST_LISTED = 50


def _shown(value) -> str:
    """A stored value as the analyst would recognise it: text in quotes, anything else as JSON would write it."""
    return f"'{value}'" if isinstance(value, str) else repr(value)


def _number_problem(value) -> str | None:
    if isinstance(value, str):
        return f"value {_shown(value)} is text, not a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"value {_shown(value)} is not a number"
    if not math.isfinite(value):
        return f"value {_shown(value)} is not a finite number"
    return None


def _allowed_problem(value) -> str | None:
    """'One of' targets compare values as Python prints them: any text, yes/no or number, or a list of them."""
    items = value if isinstance(value, list) else [value]
    if not items:
        return "it lists no allowed values"
    for item in items:
        if not isinstance(item, str | bool | int | float) or (isinstance(item, float) and not math.isfinite(item)):
            return f"allowed value {_shown(item)} is not a text, yes/no or number"
    return None


def _value_problem(kind: str, value) -> str | None:
    if kind == TargetKind.INDICATOR_IN:
        return _allowed_problem(value)
    if problem := _number_problem(value):
        return problem
    if kind == TargetKind.DOMAIN_LEVEL and not 1 <= value <= 5:
        return f"value {_shown(value)} is not a level from 1 to 5"
    return None


def target_problem(*, year: int, theme: str, kind: str, value, description: str) -> str | None:
    """Why the refresh cannot use this gap target, or None when it can."""
    if theme not in Theme.values:
        problem = f"theme {_shown(theme)} is not a theme"
    elif kind not in TargetKind.values:
        problem = f"kind {_shown(kind)} is not a kind of target"
    else:
        problem = _value_problem(kind, value)
    if problem is None:
        return None
    return f"Gap target '{description}' ({year}): {problem}; that target's figure was skipped"


NUMBER_SOURCES = {
    # reports.summaries.sql.unusable_numbers' sources: what the number is, by its name
    "indicator": "Indicator '{}'",
    "snapshot": "Published indicator '{}'",
    "score": "Published {} score",
}


def number_problem(source: str, name: str, org_code: str, year: int, value) -> str:
    """A stored number that is not finite (NaN or infinity), as unusable_numbers finds it: the SQL reads it as none."""
    what = NUMBER_SOURCES[source].format(name or "overall")
    return f"{what} of {org_code} ({year}): value {value!r} is not a finite number; that value was skipped"


def listed(problems: list[str]) -> list[str]:
    """Each problem once, in the order met, at most MOST_LISTED of them and a line saying how many more."""
    unique = list(dict.fromkeys(problems))
    if len(unique) <= MOST_LISTED:
        return unique
    return [*unique[:MOST_LISTED], f"… and {len(unique) - MOST_LISTED} more problems of the same kinds"]
