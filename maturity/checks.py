"""Cross-checks as data: a versioned rules file (fixtures/checks/<code>-<version>.yaml, loaded by
`manage.py load_checks`) of checks between a return's answers and what the product knows. A check that fires is a
warning for the lead before submitting, which never blocks, and a query beside the answer for the reviewer, who may
send it to the trust with a return (maturity.review_queries): the lead then answers it before submitting again.

File format, whose structure the JSON Schema maturity/schemas/checks.schema.json checks (unknown keys are refused):

    code: wgll-checks               # lower-case slug, the same across versions
    version: "2026.1"               # quoted; numbers separated by dots
    name: Cross-checks of a return's answers
    rules:                          # at least one; their order is the order the findings are listed in
      - code: cyber_level_with_weak_dspt    # lower-case letters, digits and _, unique in the file
        kind: level_while_indicator_in      # one of KINDS below, with exactly its parameters
        theme: cyber
        min_level: 4
        indicator: dspt_status
        values: [Standards Not Met, Approaching Standards]
        message: "{domain} is at level {level}, but the DSPT status is {value} ({source})."

The kinds, their parameters and the placeholders their message may use:
- level_while_indicator_in (theme, min_level, indicator, values): a domain of the theme at min_level or more while
  the indicator, as entered or else as last published, is one of the values. {domain} {level} {value} {source}
- level_while_indicator_above (theme, min_level, indicator, above): the same, while the indicator is more than
  `above`. {domain} {level} {value} {above} {source}
- level_moved (min_change): a domain whose level moved by min_change or more since the same return's level in the
  previous cycle (through comparable domains). {domain} {level} {previous_level} {previous_year} {change}
- indicator_outside (indicator, min, max): an entered indicator below min or above max. {value} {min} {max}

The rules a schema cannot say are checked here: the file is named after its code and version; rule codes are unique;
each rule has its kind's parameters and no other; its message is a valid template using only its kind's
placeholders; min is not above max; each indicator is one of a loaded framework. Loading reports every problem at
once and writes nothing when there is one; the same file again changes nothing; a changed file under a loaded
version is refused.

Evaluation is pure (`findings`, over a ReturnData of plain values); `return_data` reads those values for an
assessment in a few queries, reusing the review page's reads of last year's levels.
"""

import hashlib
import string
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from maturity import review
from maturity.frameworks import FILE_SUFFIX, Problems, parse, present
from maturity.models import Assessment, CheckKind, CheckRule, CheckSet, Indicator, IndicatorValue, Source
from maturity.pages import PUBLISHED_INDICATOR_LABELS, long_date
from maturity.schema_problems import FileProblems, load_validator, schema_problems
from trusts.permissions import Viewer

KINDS = {
    CheckKind.LEVEL_WHILE_INDICATOR_IN: {
        "parameters": ("theme", "min_level", "indicator", "values"),
        "placeholders": ("domain", "level", "value", "source"),
    },
    CheckKind.LEVEL_WHILE_INDICATOR_ABOVE: {
        "parameters": ("theme", "min_level", "indicator", "above"),
        "placeholders": ("domain", "level", "value", "above", "source"),
    },
    CheckKind.LEVEL_MOVED: {
        "parameters": ("min_change",),
        "placeholders": ("domain", "level", "previous_level", "previous_year", "change"),
    },
    CheckKind.INDICATOR_OUTSIDE: {
        "parameters": ("indicator", "min", "max"),
        "placeholders": ("value", "min", "max"),
    },
}
ENTERED = "entered in this return"


class ChecksError(FileProblems):
    """A rules file that cannot be loaded, with every problem found in it."""


# --- Pure evaluation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    code: str
    kind: str
    parameters: dict
    message: str


@dataclass(frozen=True)
class DomainFacts:
    code: str
    name: str
    themes: tuple[str, ...]
    level: int | None
    previous_level: int | None = None  # the same return's level in the previous cycle, through comparability


@dataclass(frozen=True)
class Figure:
    value: object  # True/False, a number or text
    source: str  # where it comes from, as a message names it


@dataclass(frozen=True)
class ReturnData:
    domains: list[DomainFacts]
    entered: dict[str, object] = field(default_factory=dict)  # indicator code -> the value entered
    published: dict[str, Figure] = field(default_factory=dict)  # indicator code -> the latest published figure
    previous_year: int | None = None
    # Indicator code -> where an entered value came from when the return was prefilled with it and it was left as
    # published: the lead did not type it, and a message must not say they did.
    prefilled: dict[str, str] = field(default_factory=dict)

    def figures(self, indicator: str) -> list[Figure]:
        """The entered value first, then the last published one: a check holds the answer against both."""
        source = (
            f"prefilled in this return from {self.prefilled[indicator]}" if indicator in self.prefilled else ENTERED
        )
        entered = [Figure(self.entered[indicator], source)] if indicator in self.entered else []
        return entered + ([self.published[indicator]] if indicator in self.published else [])


@dataclass(frozen=True)
class Finding:
    rule: str
    message: str
    domain: str = ""  # the code of the domain it concerns, if any
    indicator: str = ""  # the code of the indicator it concerns, when it concerns no domain


def shown(value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float | Decimal):
        return f"{float(value):g}"
    return str(value)


def _say(rule: Rule, **figures) -> str:
    return rule.message.format_map({name: shown(value) for name, value in figures.items()})


def _levelled(rule: Rule, data: ReturnData):
    p = rule.parameters
    return [d for d in data.domains if p["theme"] in d.themes and d.level is not None and d.level >= p["min_level"]]


def _level_while(rule: Rule, data: ReturnData, matches) -> list[Finding]:
    indicator = rule.parameters["indicator"]
    hit = next((figure for figure in data.figures(indicator) if matches(figure.value)), None)
    if hit is None:
        return []
    return [
        Finding(
            rule.code,
            _say(rule, domain=f"{d.code} {d.name}", level=d.level, value=hit.value, source=hit.source, **extra(rule)),
            domain=d.code,
        )
        for d in _levelled(rule, data)
    ]


def extra(rule: Rule) -> dict:
    return {"above": rule.parameters["above"]} if "above" in rule.parameters else {}


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def level_while_indicator_in(rule: Rule, data: ReturnData) -> list[Finding]:
    values = rule.parameters["values"]
    # True == 1 in Python: a boolean matches only a boolean.
    return _level_while(
        rule, data, lambda value: any(value == v and isinstance(value, bool) == isinstance(v, bool) for v in values)
    )


def level_while_indicator_above(rule: Rule, data: ReturnData) -> list[Finding]:
    above = rule.parameters["above"]
    return _level_while(rule, data, lambda value: _is_number(value) and value > above)


def level_moved(rule: Rule, data: ReturnData) -> list[Finding]:
    return [
        Finding(
            rule.code,
            _say(
                rule,
                domain=f"{d.code} {d.name}",
                level=d.level,
                previous_level=d.previous_level,
                previous_year=data.previous_year,
                change=abs(d.level - d.previous_level),
            ),
            domain=d.code,
        )
        for d in data.domains
        if d.level is not None
        and d.previous_level is not None
        and abs(d.level - d.previous_level) >= rule.parameters["min_change"]
    ]


def indicator_outside(rule: Rule, data: ReturnData) -> list[Finding]:
    p = rule.parameters
    value = data.entered.get(p["indicator"])
    if not _is_number(value) or p["min"] <= value <= p["max"]:
        return []
    return [Finding(rule.code, _say(rule, value=value, min=p["min"], max=p["max"]), indicator=p["indicator"])]


EVALUATORS = {
    CheckKind.LEVEL_WHILE_INDICATOR_IN: level_while_indicator_in,
    CheckKind.LEVEL_WHILE_INDICATOR_ABOVE: level_while_indicator_above,
    CheckKind.LEVEL_MOVED: level_moved,
    CheckKind.INDICATOR_OUTSIDE: indicator_outside,
}


def findings(data: ReturnData, rules: list[Rule]) -> list[Finding]:
    """Every check that fires on the return, in the rules' order."""
    return [found for rule in rules for found in EVALUATORS[rule.kind](rule, data)]


# --- Reads -----------------------------------------------------------------------------------------------------


def check_set_in_force() -> CheckSet | None:
    """The check set loaded last: a new version replaces the old for every open return."""
    return CheckSet.objects.order_by("-loaded_at", "-pk").first()


def rules_in_force() -> list[Rule]:
    latest = check_set_in_force()
    if latest is None:
        return []
    return [Rule(rule.code, rule.kind, rule.parameters, rule.message) for rule in latest.rules.all()]


def _entered(value: IndicatorValue):
    for typed in (value.boolean, value.number, value.date):
        if typed is not None:
            return typed
    return value.text or None


def _published_source(value: IndicatorValue) -> str:
    label = PUBLISHED_INDICATOR_LABELS.get(value.indicator_code, value.indicator_code)
    when = value.edition if value.indicator_code == "dspt_status" else (long_date(value.as_of) if value.as_of else "")
    return f"NHS England's published {label} {when}".strip()


def latest_published(assessment: Assessment) -> dict[str, Figure]:
    """The latest published national figure of the organisation for each indicator, unknowns left out."""
    values = IndicatorValue.objects.filter(assessment__isnull=True, is_unknown=False)
    if assessment.is_ics_assessment:
        values = values.filter(ics_id=assessment.ics_id)
    else:
        values = values.filter(trust_id=assessment.trust_id)
    latest = {}
    for value in values.order_by("indicator_code", "-as_of", "-pk"):
        entered = _entered(value)
        if value.indicator_code not in latest and entered is not None:
            latest[value.indicator_code] = Figure(entered, _published_source(value))
    return latest


def return_data(assessment: Assessment, viewer: Viewer) -> ReturnData:
    """What the checks compare, read for one assessment: its levels and last cycle's (as the review page reads
    them), its entered indicators and the organisation's latest published figures."""
    domains = assessment.applicable_domains()
    levels = dict(assessment.answers.filter(level__isnull=False).values_list("domain_id", "level"))
    earlier = review.previous_cycle(assessment.cycle)
    previous = review.last_year_levels(assessment, viewer, earlier, [domain.pk for domain in domains])
    values = [value for value in assessment.indicator_values.filter(is_unknown=False) if _entered(value) is not None]
    return ReturnData(
        domains=[DomainFacts(d.code, d.name, tuple(d.themes), levels.get(d.pk), previous.get(d.pk)) for d in domains],
        entered={value.indicator_code: _entered(value) for value in values},
        published=latest_published(assessment),
        previous_year=earlier.year if previous else None,
        prefilled={
            value.indicator_code: _published_source(value) for value in values if value.source == Source.PUBLISHED
        },
    )


def findings_for(assessment: Assessment, viewer: Viewer) -> list[Finding]:
    rules = rules_in_force()
    return findings(return_data(assessment, viewer), rules) if rules else []


# --- Loading ---------------------------------------------------------------------------------------------------

VALIDATOR = load_validator(Path(__file__).parent / "schemas" / "checks.schema.json")


@dataclass(frozen=True)
class LoadResult:
    check_set: CheckSet
    created: bool

    def describe(self) -> str:
        check_set = self.check_set
        status = "created" if self.created else "unchanged"
        rules = check_set.rules.count()
        return f"{check_set.source_file}: {status} {check_set.code} {check_set.version} ({rules} rules)"


def load_all_checks(directory: Path) -> list[LoadResult]:
    """Load every rules file of a directory (fixtures/checks/), all or nothing."""
    paths = sorted(Path(directory).glob(f"*{FILE_SUFFIX}"))
    if not paths:
        raise ChecksError([f"{directory}: no rules files (*{FILE_SUFFIX})"])
    results, problems = [], []
    with transaction.atomic():
        for path in paths:
            try:
                results.append(load_checks(path))
            except ChecksError as e:
                problems.extend(e.problems)
        if problems:
            raise ChecksError(problems)
    return results


def load_checks(path: Path) -> LoadResult:
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as e:
        raise ChecksError([f"{path.name}: cannot be read: {e.strerror}"]) from e
    checksum = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        loaded = CheckSet.objects.filter(checksum=checksum).first()
        if loaded:
            return LoadResult(loaded, created=False)
        problems = Problems(path.name)
        document = parse(content, problems)
        if document is not None:
            check_document(document, problems)
        if problems.items:
            raise ChecksError(problems.items)
        check_set = write(document, path.name, checksum)
    return LoadResult(check_set, created=True)


def check_document(document, problems: Problems) -> None:
    found, valid = schema_problems(VALIDATOR, document)
    for where, message in found:
        problems.add(where, message)
    if valid is None:
        return
    code, version = valid.get("code"), valid.get("version")
    if code and version:
        expected = f"{code}-{version}{FILE_SUFFIX}"
        if problems.file_name != expected:
            problems.add("", f"the file must be named {expected}, after its code and version")
        # Only reached when no loaded set has this file's checksum: this is different content.
        if CheckSet.objects.filter(code=code, version=version).exists():
            problems.add(
                "version",
                f"version {version} of {code} is already loaded with different content: changed checks are a new "
                "version",
            )
    known_indicators = set(Indicator.objects.values_list("code", flat=True).distinct())
    codes = {}
    for i, rule in present(valid.get("rules", [])):
        path = f"rules[{i}]"
        if rule.get("code") in codes:
            problems.add(f"{path}.code", f"'{rule['code']}' is already used by {codes[rule['code']]}")
        elif rule.get("code"):
            codes[rule["code"]] = path
        if rule.get("kind"):
            check_rule(path, rule, known_indicators, problems)


def check_rule(path: str, rule: dict, known_indicators: set[str], problems: Problems) -> None:
    kind = KINDS[rule["kind"]]
    # An unknown key is the schema's to report: only another kind's parameter is reported here.
    given = {name for name in rule if any(name in other["parameters"] for other in KINDS.values())}
    takes = ", ".join(kind["parameters"])
    for name in kind["parameters"]:
        # A value the schema refused is reported there, not again as missing.
        if name not in rule and not reported(problems, f"{path}.{name}"):
            problems.add(path, f"missing key '{name}': kind {rule['kind']} needs {takes}")
    for name in sorted(given - set(kind["parameters"])):
        problems.add(f"{path}.{name}", f"is not a parameter of kind {rule['kind']}: it takes {takes}")
    if "message" in rule:
        check_message(f"{path}.message", rule["message"], kind["placeholders"], problems)
    if "indicator" in rule and rule["indicator"] not in known_indicators:
        problems.add(f"{path}.indicator", f"'{rule['indicator']}' is not an indicator of any loaded framework")
    if "min" in rule and "max" in rule and rule["min"] > rule["max"]:
        problems.add(f"{path}.min", f"{rule['min']} is greater than max {rule['max']}")


def reported(problems: Problems, where: str) -> bool:
    """Whether a problem is already reported at this key path."""
    return any(item.startswith(f"{problems.file_name}: {where}: ") for item in problems.items)


def check_message(where: str, message: str, placeholders: tuple[str, ...], problems: Problems) -> None:
    allowed = ", ".join("{" + name + "}" for name in placeholders)
    try:
        fields = [(name, spec, conversion) for _text, name, spec, conversion in string.Formatter().parse(message)]
    except ValueError as e:
        problems.add(where, f"is not a valid template ({e}): write placeholders as {allowed}, and a brace as {{{{")
        return
    for name, spec, conversion in fields:
        if name is None:
            continue
        if spec or conversion:
            problems.add(where, f"{{{name}}} has a format of its own: the figures come formatted, write {allowed}")
        elif name not in placeholders:
            problems.add(where, f"uses {{{name}}}, which this kind does not fill: it may use {allowed}")


def write(document: dict, file_name: str, checksum: str) -> CheckSet:
    check_set = CheckSet.objects.create(
        code=document["code"],
        version=document["version"],
        name=document["name"].strip(),
        source_file=file_name,
        checksum=checksum,
    )
    CheckRule.objects.bulk_create(
        [
            CheckRule(
                check_set=check_set,
                code=rule["code"],
                kind=rule["kind"],
                parameters={name: as_json(rule[name]) for name in KINDS[rule["kind"]]["parameters"]},
                message=rule["message"].strip(),
                position=position,
            )
            for position, rule in enumerate(document["rules"], start=1)
        ]
    )
    return check_set


def as_json(value):
    # The YAML loader reads a number with a fraction as a Decimal, which JSON does not store.
    return float(value) if isinstance(value, Decimal) else value
