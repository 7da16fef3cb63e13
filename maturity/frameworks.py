"""The WGLL framework as versioned data files: fixtures/frameworks/<code>-<version>.yaml, loaded by
`manage.py load_frameworks`.

File format (every key shown is required; unknown keys are refused):

    code: wgll-trust                # lower-case slug, the same across versions
    version: "2026.1"               # quoted; numbers separated by dots
    kind: trust                     # trust (one return per care setting) or ics (the ICB's own return)
    name: What Good Looks Like - trust digital maturity
    description: One or two sentences.
    comparable_with_version: null   # or an earlier, already loaded version of this code
    pillars:                        # each of the seven WGLL pillars exactly once
      - code: smart_foundations     # well_led, smart_foundations, safe_practice, support_workforce,
                                    # empower_people, improve_care, healthy_populations
        domains:                    # at least one; their order is the order on the page
          - code: SF03              # pillar prefix (WL SF SP SW EP IC HP) + 2 digits, unique in the file
            name: End-user devices and operating systems
            description: One or two sentences.
            levels:                 # a descriptor for each whole level, 1 (not started) to 5 (leading)
              1: ...
              2: ...
              3: ...
              4: ...
              5: ...
            care_settings: [acute, community, mental-health, ambulance]  # trust: at least one; ics: []
            themes: [legacy_it]     # gap themes: legacy_it, epr, cyber, workforce, investment; may be []
            weight: 1.0             # > 0, at most 2 decimals: the domain's weight in the overall score
            comparable_with: null   # or the code of the same pillar's domain in comparable_with_version
    indicators:                     # contextual, not scored
      - code: unsupported_devices_pct   # lower-case, digits and _; the same code across versions
        name: Devices on unsupported operating systems
        help_text: What to enter and where to find it.
        type: percent               # boolean, choice, date, number, percent or text
        required: true
        themes: [legacy_it]
        min: 0                      # number and percent only (percent within 0 to 100)
        max: 100
        # choices: [A, B]           # choice only: the allowed answers

Framework-wide rules: the file is named after its code and version; each required theme (legacy_it, epr, cyber) is
used by at least 2 domains; in a trust framework every pillar and every required theme has a domain for each care
setting (acute, community, mental-health, ambulance), so no return lacks a pillar score or a gap; an earlier
domain is compared with at most one domain.

Loading validates the whole file first and reports every problem at once (file, key path, what is wrong), then
writes the framework, its domains and indicators in one transaction: nothing is written when there is a problem.
Loading the same file again changes nothing. A version, once loaded, never changes: a changed file under a loaded
version is refused, because assessments already point at it. A change is a new file with a new version, whose
domains name the earlier domains they stay comparable with.
"""

import hashlib
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import transaction

from maturity.models import REQUIRED_THEMES, Domain, Framework, FrameworkKind, Indicator, IndicatorType, Pillar, Theme
from trusts.models import CareSetting

FILE_SUFFIX = ".yaml"

TOP_LEVEL_KEYS = ("code", "version", "kind", "name", "description", "comparable_with_version", "pillars", "indicators")
PILLAR_KEYS = ("code", "domains")
DOMAIN_KEYS = (
    "code",
    "name",
    "description",
    "levels",
    "care_settings",
    "themes",
    "weight",
    "comparable_with",
)
INDICATOR_KEYS = ("code", "name", "help_text", "type", "required", "themes")
# Keys only some indicator types take.
INDICATOR_TYPE_KEYS = {
    IndicatorType.CHOICE: ("choices",),
    IndicatorType.NUMBER: ("min", "max"),
    IndicatorType.PERCENT: ("min", "max"),
}

PILLAR_CODES = [code for code, _name in Pillar.ALL]
DOMAIN_CODE_PREFIXES = {
    "well_led": "WL",
    "smart_foundations": "SF",
    "safe_practice": "SP",
    "support_workforce": "SW",
    "empower_people": "EP",
    "improve_care": "IC",
    "healthy_populations": "HP",
}
CARE_SETTING_SLUGS = [slug for slug, _name, _position in CareSetting.ALL]
THEME_CODES = list(Theme.values)
INDICATOR_TYPES = sorted(IndicatorType.values)
LEVELS = (1, 2, 3, 4, 5)
MIN_DOMAINS_PER_REQUIRED_THEME = 2

FRAMEWORK_CODE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
VERSION = re.compile(r"[0-9]+(\.[0-9]+)*")
INDICATOR_CODE = re.compile(r"[a-z][a-z0-9_]*")

# The columns' sizes in maturity.models, checked here so that PostgreSQL never refuses a validated file.
MAX_CODE_LENGTH = 40
MAX_VERSION_LENGTH = 20
MAX_NAME_LENGTH = 120
MAX_CHOICE_LENGTH = 200
# Domain.weight is DecimalField(max_digits=5, decimal_places=2).
MAX_WEIGHT = Decimal("999.99")
WEIGHT_STEP = Decimal("0.01")


class FrameworkError(Exception):
    """A framework file that cannot be loaded, with every problem found in it."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class LoadResult:
    framework: Framework
    created: bool

    @property
    def status(self) -> str:
        return "created" if self.created else "unchanged"

    def describe(self) -> str:
        framework = self.framework
        return (
            f"{framework.source_file}: {self.status} {framework.code} {framework.version} "
            f"({framework.domains.count()} domains, {framework.indicators.count()} indicators)"
        )


def load_all_frameworks(directory: Path) -> list[LoadResult]:
    """Load every framework file of a directory (fixtures/frameworks/), all or nothing."""
    paths = list(Path(directory).glob(f"*{FILE_SUFFIX}"))
    if not paths:
        raise FrameworkError([f"{directory}: no framework files (*{FILE_SUFFIX})"])
    return load_frameworks(paths)


def load_frameworks(paths: list[Path]) -> list[LoadResult]:
    """Load several files, earlier versions first so that a later version can refer to an earlier one of the same
    run. All or nothing: the problems of every file are reported together and none is kept."""
    results, problems = [], []
    with transaction.atomic():
        for path in sorted(paths, key=version_order):
            try:
                results.append(load_framework(path))
            except FrameworkError as e:
                problems.extend(e.problems)
        if problems:
            raise FrameworkError(problems)
    return results


def version_order(path: Path) -> list:
    """Files are named <code>-<version>.yaml, so a natural sort of the names puts 2026.2 before 2026.10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"([0-9]+)", Path(path).name)]


def load_framework(path: Path) -> LoadResult:
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as e:
        raise FrameworkError([f"{path.name}: cannot be read: {e.strerror}"]) from e
    checksum = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        # The same bytes are the same code and version: already loaded, nothing to check or write.
        loaded = Framework.objects.filter(checksum=checksum).first()
        if loaded:
            return LoadResult(loaded, created=False)
        problems = Problems(path.name)
        document = parse(content, problems)
        earlier = check_document(document, problems) if document is not None else None
        if problems.items:
            raise FrameworkError(problems.items)
        framework = write(document, path.name, checksum, earlier)
    return LoadResult(framework, created=True)


@dataclass
class Problems:
    file_name: str
    items: list[str] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        where = f"{self.file_name}: {path}: " if path else f"{self.file_name}: "
        self.items.append(where + message)


# libyaml's parser, where PyYAML was built with it, reads a framework file about ten times faster.
SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class UniqueKeyLoader(SafeLoader):
    """YAML keeps the last of two equal keys without a word; in a framework that silently drops a level or a
    domain's settings, so a repeated key is an error."""

    def construct_mapping(self, node, deep=False):
        seen = []
        for key_node, _value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.append(key)
        return super().construct_mapping(node, deep)


def parse(content: bytes, problems: Problems):
    try:
        # A SafeLoader: it builds plain data only, never Python objects.
        document = yaml.load(content, Loader=UniqueKeyLoader)
    except yaml.constructor.ConstructorError as e:
        # Well-formed YAML that does not make plain data: a repeated key, or a tag such as !!python/object.
        problems.add(f"line {e.problem_mark.line + 1}", e.problem)
        return None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problems.add(f"line {mark.line + 1}" if mark else "", f"YAML syntax error: {e.problem or e.context}")
        return None
    except yaml.YAMLError as e:
        problems.add("", f"not valid YAML: {e}")
        return None
    if document is None:
        problems.add("", "the file is empty")
    return document


# Checking. Each check reports what it finds wrong and returns the value when it is valid, None otherwise, so the
# checks that depend on it can carry on with what is valid.


@dataclass
class Earlier:
    """The version named by comparable_with_version: domains is None when none is named or it cannot be used."""

    version: str | None
    domains: dict[str, Domain] | None


@dataclass
class DomainEntry:
    path: str
    pillar: str | None
    code: str | None
    care_settings: list[str]
    themes: list[str]
    comparable_with: str | None


def check_document(document, problems: Problems) -> Earlier | None:
    if not check_keys(document, "", TOP_LEVEL_KEYS, problems):
        return None
    code = check_pattern(document, "code", "", FRAMEWORK_CODE, "a lower-case slug like wgll-trust", problems)
    if code and len(code) > MAX_CODE_LENGTH:
        problems.add("code", f"is longer than {MAX_CODE_LENGTH} characters")
    version = check_version(document, "version", "", problems)
    kind = check_one_of(document, "kind", "", FrameworkKind.values, problems)
    check_text(document, "name", "", problems, MAX_NAME_LENGTH)
    check_text(document, "description", "", problems)
    if code and version:
        check_file_name(code, version, problems)
        check_not_loaded(code, version, problems)
    earlier = check_earlier_version(document, code, version, problems)
    entries = check_pillars(document, kind, earlier, problems)
    # Without a list of pillars there is nothing to cover: the missing list is the one problem worth reporting.
    if entries is not None:
        check_required_themes(entries, kind, problems)
        if kind == FrameworkKind.TRUST:
            check_pillars_cover_care_settings(entries, problems)
    check_indicators(document, problems)
    return earlier


def check_keys(mapping, path: str, keys, problems: Problems, extra_keys=()) -> bool:
    """Every key required, nothing else allowed but extra_keys: a misspelt key would otherwise go unnoticed."""
    if not isinstance(mapping, dict):
        problems.add(path, f"must be a mapping, found {describe(mapping)}")
        return False
    for key in keys:
        if key not in mapping:
            problems.add(path, f"missing key '{key}'")
    for key in mapping:
        if key not in keys and key not in extra_keys:
            problems.add(path, f"unknown key '{key}': expected {', '.join(keys)}")
    return True


def join(path: str, key) -> str:
    return f"{path}.{key}" if path else str(key)


def describe(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"a {type(value).__name__}"


def check_text(mapping, key, path: str, problems: Problems, max_length: int | None = None) -> str | None:
    if key not in mapping:
        return None
    value = mapping[key]
    if not isinstance(value, str) or not value.strip():
        problems.add(join(path, key), f"must be non-empty text, found {describe(value)}")
        return None
    if max_length and len(value.strip()) > max_length:
        problems.add(join(path, key), f"is {len(value.strip())} characters long: at most {max_length}")
        return None
    return value


def check_pattern(mapping, key, path: str, pattern: re.Pattern, expected: str, problems: Problems) -> str | None:
    if key not in mapping:
        return None
    value = mapping[key]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        problems.add(join(path, key), f"must be {expected}, found {describe(value)}")
        return None
    return value


def check_version(mapping, key, path: str, problems: Problems) -> str | None:
    if key not in mapping:
        return None
    value = mapping[key]
    if isinstance(value, int | float) and not isinstance(value, bool):
        # An unquoted 2026.10 reads as the number 2026.1: versions must be quoted.
        problems.add(join(path, key), f'must be a quoted string like "2026.1", found {describe(value)}')
        return None
    version = check_pattern(mapping, key, path, VERSION, 'numbers separated by dots like "2026.1"', problems)
    if version and len(version) > MAX_VERSION_LENGTH:
        problems.add(join(path, key), f"is longer than {MAX_VERSION_LENGTH} characters")
        return None
    return version


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def check_one_of(mapping, key, path: str, allowed, problems: Problems):
    if key not in mapping:
        return None
    value = mapping[key]
    if not isinstance(value, str) or value not in allowed:
        shown = repr(value) if isinstance(value, str) else describe(value)
        problems.add(join(path, key), f"{shown} is not one of {', '.join(allowed)}")
        return None
    return value


def check_list_of(mapping, key, path: str, allowed, problems: Problems) -> list[str]:
    """A list of distinct values from allowed (care settings, themes); the valid ones are returned."""
    if key not in mapping:
        return []
    values = mapping[key]
    if not isinstance(values, list):
        problems.add(join(path, key), f"must be a list, found {describe(values)}")
        return []
    valid = []
    for i, value in enumerate(values):
        where = f"{join(path, key)}[{i}]"
        if value in valid:
            problems.add(where, f"'{value}' is listed twice")
        elif not isinstance(value, str) or value not in allowed:
            shown = repr(value) if isinstance(value, str) else describe(value)
            problems.add(where, f"{shown} is not one of {', '.join(allowed)}")
        else:
            valid.append(value)
    return valid


def check_number(mapping, key, path: str, problems: Problems) -> float | None:
    if key not in mapping:
        return None
    value = mapping[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        problems.add(join(path, key), f"must be a number, found {describe(value)}")
        return None
    return value


def check_file_name(code: str, version: str, problems: Problems) -> None:
    expected = f"{code}-{version}{FILE_SUFFIX}"
    if problems.file_name != expected:
        problems.add("", f"the file must be named {expected}, after its code and version")


def check_not_loaded(code: str, version: str, problems: Problems) -> None:
    # Only reached when no loaded framework has this file's checksum: this is different content.
    if Framework.objects.filter(code=code, version=version).exists():
        problems.add(
            "version",
            f"version {version} of {code} is already loaded with different content: a changed framework is a new "
            "version",
        )


def check_earlier_version(document, code: str | None, version: str | None, problems: Problems) -> Earlier:
    named = document.get("comparable_with_version")
    if named is None:
        return Earlier(version=None, domains=None)
    earlier = check_version(document, "comparable_with_version", "", problems)
    if not earlier or not code:
        return Earlier(version=str(named), domains=None)
    if version and version_key(earlier) >= version_key(version):
        problems.add("comparable_with_version", f"{earlier} must be an earlier version than {version}")
        return Earlier(version=earlier, domains=None)
    framework = Framework.objects.filter(code=code, version=earlier).first()
    if framework is None:
        problems.add("comparable_with_version", f"version {earlier} of {code} is not loaded: load it first")
        return Earlier(version=earlier, domains=None)
    domains = {domain.code: domain for domain in framework.domains.select_related("pillar")}
    return Earlier(version=earlier, domains=domains)


def check_pillars(document, kind: str | None, earlier: Earlier, problems: Problems) -> list[DomainEntry] | None:
    if "pillars" not in document:
        return None
    pillars = document["pillars"]
    if not isinstance(pillars, list):
        problems.add("pillars", f"must be a list of the seven pillars, found {describe(pillars)}")
        return None
    seen_pillars, entries = {}, []
    for i, pillar in enumerate(pillars):
        path = f"pillars[{i}]"
        if not check_keys(pillar, path, PILLAR_KEYS, problems):
            continue
        code = check_one_of(pillar, "code", path, PILLAR_CODES, problems)
        if code in seen_pillars:
            problems.add(join(path, "code"), f"pillar '{code}' is already at {seen_pillars[code]}")
        elif code:
            seen_pillars[code] = path
        entries += check_domains(pillar, path, code, kind, earlier, problems)
    for code in PILLAR_CODES:
        if code not in seen_pillars:
            problems.add("pillars", f"missing pillar '{code}'")
    check_unique_domains(entries, problems)
    return entries


def check_domains(pillar, path: str, pillar_code, kind, earlier: Earlier, problems: Problems) -> list[DomainEntry]:
    if "domains" not in pillar:
        return []
    domains = pillar["domains"]
    if not isinstance(domains, list) or not domains:
        problems.add(join(path, "domains"), f"must be a list of at least one domain, found {describe(domains)}")
        return []
    entries = []
    for j, domain in enumerate(domains):
        entry = check_domain(domain, f"{path}.domains[{j}]", pillar_code, kind, earlier, problems)
        if entry:
            entries.append(entry)
    return entries


def check_domain(domain, path: str, pillar_code, kind, earlier: Earlier, problems: Problems) -> DomainEntry | None:
    if not check_keys(domain, path, DOMAIN_KEYS, problems):
        return None
    code = check_domain_code(domain, path, pillar_code, problems)
    check_text(domain, "name", path, problems, MAX_NAME_LENGTH)
    check_text(domain, "description", path, problems)
    check_levels(domain, path, problems)
    care_settings = check_care_settings(domain, path, kind, problems)
    themes = check_list_of(domain, "themes", path, THEME_CODES, problems)
    check_weight(domain, path, problems)
    comparable_with = check_comparable_with(domain, path, pillar_code, earlier, problems)
    return DomainEntry(path, pillar_code, code, care_settings, themes, comparable_with)


def check_domain_code(domain, path: str, pillar_code, problems: Problems) -> str | None:
    if pillar_code is None:
        # The pillar's own code is wrong (reported there): any prefix will do until it is fixed.
        pattern, expected = re.compile(r"[A-Z]{2}[0-9]{2}"), "two capitals and two digits like SF03"
    else:
        prefix = DOMAIN_CODE_PREFIXES[pillar_code]
        pattern, expected = re.compile(prefix + r"[0-9]{2}"), f"{prefix} and two digits like {prefix}01"
    return check_pattern(domain, "code", path, pattern, expected, problems)


def check_levels(domain, path: str, problems: Problems) -> None:
    if "levels" not in domain:
        return
    levels, where = domain["levels"], join(path, "levels")
    if not isinstance(levels, dict):
        problems.add(where, f"must be a mapping of the levels 1 to 5 to their descriptors, found {describe(levels)}")
        return
    if len(levels) != len(LEVELS):
        problems.add(where, f"needs exactly 5 levels (1 to 5), found {len(levels)}")
        return
    # True == 1 in Python, so a YAML key `yes:` would pass a plain set comparison.
    if any(isinstance(key, bool) for key in levels) or set(levels) != set(LEVELS):
        problems.add(where, f"the levels must be 1 to 5, found {', '.join(repr(key) for key in levels)}")
        return
    for level in LEVELS:
        check_text(levels, level, where, problems)


def check_care_settings(domain, path: str, kind, problems: Problems) -> list[str]:
    care_settings = check_list_of(domain, "care_settings", path, CARE_SETTING_SLUGS, problems)
    values = domain.get("care_settings")
    if kind == FrameworkKind.TRUST and values == []:
        problems.add(join(path, "care_settings"), "a trust framework's domain applies to at least one care setting")
    elif kind == FrameworkKind.ICS and values:
        problems.add(join(path, "care_settings"), "must be [] in an ICS framework: its domains apply to the ICB")
    return care_settings


def check_weight(domain, path: str, problems: Problems) -> None:
    if "weight" not in domain:
        return
    value = domain["weight"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        problems.add(join(path, "weight"), f"must be a positive number, found {describe(value)}")
        return
    weight = Decimal(str(value))
    if weight > MAX_WEIGHT or weight != weight.quantize(WEIGHT_STEP):
        problems.add(join(path, "weight"), f"must be at most {MAX_WEIGHT} with at most 2 decimals, found {value}")


def check_comparable_with(domain, path: str, pillar_code, earlier: Earlier, problems: Problems) -> str | None:
    value = domain.get("comparable_with")
    if value is None:
        return None
    where = join(path, "comparable_with")
    if not isinstance(value, str):
        problems.add(where, f"must be a domain code of the earlier version, found {describe(value)}")
        return None
    if earlier.version is None:
        problems.add(where, "names an earlier domain, but comparable_with_version is null")
        return None
    if earlier.domains is None:
        # The earlier version itself is wrong or missing: reported once, at comparable_with_version.
        return None
    earlier_domain = earlier.domains.get(value)
    if earlier_domain is None:
        problems.add(where, f"'{value}' is not a domain of version {earlier.version}")
        return None
    if pillar_code and earlier_domain.pillar.code != pillar_code:
        pillar = earlier_domain.pillar.code
        problems.add(where, f"'{value}' of version {earlier.version} is in pillar {pillar}, not {pillar_code}")
        return None
    return value


def check_unique_domains(entries: list[DomainEntry], problems: Problems) -> None:
    codes, compared = {}, {}
    for entry in entries:
        if entry.code in codes:
            problems.add(join(entry.path, "code"), f"'{entry.code}' is already used by {codes[entry.code]}")
        elif entry.code:
            codes[entry.code] = entry.path
        # Year-on-year comparison pairs one earlier domain with one domain; two would count its history twice.
        if entry.comparable_with in compared:
            problems.add(
                join(entry.path, "comparable_with"),
                f"'{entry.comparable_with}' is already compared by {compared[entry.comparable_with]}",
            )
        elif entry.comparable_with:
            compared[entry.comparable_with] = entry.path


def check_required_themes(entries: list[DomainEntry], kind, problems: Problems) -> None:
    """The gap panels need each required theme measured by several domains, in every care setting it is shown for."""
    for theme in REQUIRED_THEMES:
        users = [entry for entry in entries if theme.value in entry.themes]
        if len(users) < MIN_DOMAINS_PER_REQUIRED_THEME:
            count = f"only {len(users)} domain" if users else "no domain"
            problems.add(
                "",
                f"theme '{theme.value}' is used by {count}: a required theme needs at least "
                f"{MIN_DOMAINS_PER_REQUIRED_THEME}",
            )
        if kind != FrameworkKind.TRUST or not users:
            continue
        for setting in CARE_SETTING_SLUGS:
            if not any(setting in entry.care_settings for entry in users):
                problems.add("", f"theme '{theme.value}' has no domain for care setting '{setting}'")


def check_pillars_cover_care_settings(entries: list[DomainEntry], problems: Problems) -> None:
    """A pillar score is the mean of its domains: a care setting without a domain in a pillar would have none."""
    for pillar in PILLAR_CODES:
        domains = [entry for entry in entries if entry.pillar == pillar]
        if not domains:
            continue
        for setting in CARE_SETTING_SLUGS:
            if not any(setting in entry.care_settings for entry in domains):
                problems.add("", f"pillar '{pillar}' has no domain for care setting '{setting}'")


def check_indicators(document, problems: Problems) -> None:
    if "indicators" not in document:
        return
    indicators = document["indicators"]
    if not isinstance(indicators, list):
        problems.add("indicators", f"must be a list, found {describe(indicators)}")
        return
    codes = {}
    for i, indicator in enumerate(indicators):
        path = f"indicators[{i}]"
        code = check_indicator(indicator, path, problems)
        if code in codes:
            problems.add(join(path, "code"), f"'{code}' is already used by {codes[code]}")
        elif code:
            codes[code] = path


def check_indicator(indicator, path: str, problems: Problems) -> str | None:
    if not isinstance(indicator, dict):
        problems.add(path, f"must be a mapping, found {describe(indicator)}")
        return None
    value_type = check_one_of(indicator, "type", path, INDICATOR_TYPES, problems)
    if value_type is None:
        # Without a valid type, which of choices, min and max belong is unknown: allow them, require none.
        all_type_keys = {key for keys in INDICATOR_TYPE_KEYS.values() for key in keys}
        check_keys(indicator, path, INDICATOR_KEYS, problems, extra_keys=all_type_keys)
    else:
        check_keys(indicator, path, INDICATOR_KEYS + INDICATOR_TYPE_KEYS.get(value_type, ()), problems)
    code = check_pattern(
        indicator, "code", path, INDICATOR_CODE, "lower-case letters, digits and _ like epr_in_place", problems
    )
    if code and len(code) > MAX_CODE_LENGTH:
        problems.add(join(path, "code"), f"is longer than {MAX_CODE_LENGTH} characters")
    check_text(indicator, "name", path, problems, MAX_NAME_LENGTH)
    check_text(indicator, "help_text", path, problems)
    if "required" in indicator and not isinstance(indicator["required"], bool):
        problems.add(join(path, "required"), f"must be true or false, found {describe(indicator['required'])}")
    check_list_of(indicator, "themes", path, THEME_CODES, problems)
    if value_type == IndicatorType.CHOICE:
        check_choices(indicator, path, problems)
    elif value_type in (IndicatorType.NUMBER, IndicatorType.PERCENT):
        check_bounds(indicator, path, value_type, problems)
    return code


def check_choices(indicator, path: str, problems: Problems) -> None:
    if "choices" not in indicator:
        return
    choices, where = indicator["choices"], join(path, "choices")
    if not isinstance(choices, list) or not choices:
        problems.add(where, f"a choice indicator needs a list of at least one choice, found {describe(choices)}")
        return
    seen = []
    for i, choice in enumerate(choices):
        if not isinstance(choice, str) or not choice.strip() or len(choice) > MAX_CHOICE_LENGTH:
            problems.add(
                f"{where}[{i}]",
                f"must be non-empty text of at most {MAX_CHOICE_LENGTH} characters, found {describe(choice)}",
            )
        elif choice in seen:
            problems.add(f"{where}[{i}]", f"'{choice}' is listed twice")
        else:
            seen.append(choice)


def check_bounds(indicator, path: str, value_type, problems: Problems) -> None:
    low = check_number(indicator, "min", path, problems)
    high = check_number(indicator, "max", path, problems)
    if low is not None and high is not None and low > high:
        problems.add(join(path, "min"), f"{low} is greater than max {high}")
    if value_type == IndicatorType.PERCENT:
        for key, value in (("min", low), ("max", high)):
            if value is not None and not 0 <= value <= 100:
                problems.add(join(path, key), f"a percentage lies within 0 to 100, found {value}")


# Writing: only reached with a valid document.


def write(document, file_name: str, checksum: str, earlier: Earlier) -> Framework:
    Pillar.objects.ensure_all()
    pillars = {pillar.code: pillar for pillar in Pillar.objects.all()}
    framework = Framework.objects.create(
        code=document["code"],
        version=document["version"],
        kind=document["kind"],
        name=document["name"].strip(),
        description=document["description"].strip(),
        source_file=file_name,
        checksum=checksum,
    )
    Domain.objects.bulk_create(
        [
            new_domain(framework, pillars[pillar["code"]], domain, position, earlier)
            for pillar in document["pillars"]
            for position, domain in enumerate(pillar["domains"], start=1)
        ]
    )
    Indicator.objects.bulk_create(
        [new_indicator(framework, indicator, position) for position, indicator in enumerate(document["indicators"], 1)]
    )
    return framework


def new_domain(framework: Framework, pillar: Pillar, domain: dict, position: int, earlier: Earlier) -> Domain:
    comparable_with = domain["comparable_with"]
    return Domain(
        framework=framework,
        pillar=pillar,
        code=domain["code"],
        name=domain["name"].strip(),
        description=domain["description"].strip(),
        levels=[domain["levels"][level].strip() for level in LEVELS],
        care_settings=domain["care_settings"],
        themes=domain["themes"],
        weight=Decimal(str(domain["weight"])),
        comparable_with=earlier.domains[comparable_with] if comparable_with else None,
        position=position,
    )


def new_indicator(framework: Framework, indicator: dict, position: int) -> Indicator:
    return Indicator(
        framework=framework,
        code=indicator["code"],
        name=indicator["name"].strip(),
        help_text=indicator["help_text"].strip(),
        value_type=indicator["type"],
        choices=indicator.get("choices", []),
        min_value=indicator.get("min"),
        max_value=indicator.get("max"),
        required=indicator["required"],
        themes=indicator["themes"],
        position=position,
    )
