"""The WGLL framework as versioned data files: fixtures/frameworks/<code>-<version>.yaml, loaded by
`manage.py load_frameworks`.

File format, whose structure the JSON Schema maturity/schemas/framework.schema.json checks (every key shown is
required; unknown keys are refused):

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

The rules between parts, which a schema cannot say, are checked here: the file is named after its code and version;
each pillar comes once; domain codes and indicator codes are unique; an indicator's min is not above its max; the
earlier version is loaded and each comparable_with names a domain of the same pillar in it, compared with at most
one domain; each required theme (legacy_it, epr, cyber) is used by at least 2 domains; in a trust framework every
pillar and every required theme has a domain for each care setting (acute, community, mental-health, ambulance),
so no return lacks a pillar score or a gap.

Loading validates the whole file first and reports every problem at once (file, key path, what is wrong): the
schema's, then those of the rules on the parts the schema found valid. Then it writes the framework, its domains and
indicators in one transaction: nothing is written when there is a problem.
Loading the same file again changes nothing. A version, once loaded, never changes: a changed file under a loaded
version is refused, because assessments already point at it. A change is a new file with a new version, whose
domains name the earlier domains they stay comparable with.
"""

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import yaml
from django.db import transaction

from maturity.models import REQUIRED_THEMES, Domain, Framework, FrameworkKind, Indicator, Pillar
from maturity.schema_problems import FileProblems, load_validator, schema_problems
from trusts.models import CareSetting

FILE_SUFFIX = ".yaml"
PILLAR_CODES = [code for code, _name in Pillar.ALL]
CARE_SETTING_SLUGS = [slug for slug, _name, _position in CareSetting.ALL]
MIN_DOMAINS_PER_REQUIRED_THEME = 2


class FrameworkError(FileProblems):
    """A framework file that cannot be loaded, with every problem found in it."""


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


class FrameworkLoader(SafeLoader):
    """YAML read as the schema sees data. A mapping's keys are text (level `1:` is "1", a key `yes:` is "true").
    A number with a fraction is a Decimal, so that the weight's "at most 2 decimals" is exact. YAML keeps the last of
    two equal keys without a word, which in a framework silently drops a level or a domain's settings: a repeated
    key is an error, and so is .nan or .inf, which no framework means."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _value_node in node.value:
            key = as_text(self.construct_object(key_node, deep=deep))
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        return {as_text(key): value for key, value in super().construct_mapping(node, deep).items()}

    def construct_yaml_float(self, node):
        value = super().construct_yaml_float(node)
        if not math.isfinite(value):
            raise yaml.constructor.ConstructorError(None, None, f"{node.value} is not a finite number", node.start_mark)
        return Decimal(str(value))


FrameworkLoader.add_constructor("tag:yaml.org,2002:float", FrameworkLoader.construct_yaml_float)


def as_text(key) -> str:
    # true, false and null as JSON spells them.
    return json.dumps(key) if isinstance(key, bool | None) else str(key)


def parse(content: bytes, problems: Problems):
    try:
        # A SafeLoader: it builds plain data only, never Python objects.
        document = yaml.load(content, Loader=FrameworkLoader)
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


# Checking: the schema first, then the rules between parts, on what the schema found valid.

VALIDATOR = load_validator(Path(__file__).parent / "schemas" / "framework.schema.json")


@dataclass
class Earlier:
    """The version named by comparable_with_version (None when it is null); domains is None when it cannot be
    used."""

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
    schema_found, valid = schema_problems(VALIDATOR, document)
    for where, message in schema_found:
        problems.add(where, message)
    if valid is None:
        return None
    code, version = valid.get("code"), valid.get("version")
    if code and version:
        check_file_name(code, version, problems)
        check_not_loaded(code, version, problems)
    earlier = check_earlier_version(valid, code, version, problems)
    # Without a list of pillars there is nothing to cover: the missing list is the one problem worth reporting.
    if "pillars" in valid:
        check_each_pillar_once(valid["pillars"], problems)
        entries = domain_entries(valid["pillars"])
        check_comparisons(entries, earlier, problems)
        check_unique_domains(entries, problems)
        check_required_themes(entries, valid.get("kind"), problems)
        if valid.get("kind") == FrameworkKind.TRUST:
            check_pillars_cover_care_settings(entries, problems)
    check_indicators(valid.get("indicators", []), problems)
    return earlier


def present(items: list):
    """The items the schema found valid, with their index (an invalid one is None)."""
    return ((i, item) for i, item in enumerate(items) if item is not None)


def domain_entries(pillars: list) -> list[DomainEntry]:
    return [
        DomainEntry(
            path=f"pillars[{i}].domains[{j}]",
            pillar=pillar.get("code"),
            code=domain.get("code"),
            care_settings=domain.get("care_settings", []),
            themes=domain.get("themes", []),
            comparable_with=domain.get("comparable_with"),
        )
        for i, pillar in present(pillars)
        for j, domain in present(pillar.get("domains", []))
    ]


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


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def check_earlier_version(document: dict, code: str | None, version: str | None, problems: Problems) -> Earlier | None:
    """None when comparable_with_version is missing or wrong itself (reported by the schema)."""
    if "comparable_with_version" not in document:
        return None
    earlier = document["comparable_with_version"]
    if earlier is None or not code:
        return Earlier(version=earlier, domains=None)
    if version and version_key(earlier) >= version_key(version):
        problems.add("comparable_with_version", f"{earlier} must be an earlier version than {version}")
        return Earlier(version=earlier, domains=None)
    framework = Framework.objects.filter(code=code, version=earlier).first()
    if framework is None:
        problems.add("comparable_with_version", f"version {earlier} of {code} is not loaded: load it first")
        return Earlier(version=earlier, domains=None)
    domains = {domain.code: domain for domain in framework.domains.select_related("pillar")}
    return Earlier(version=earlier, domains=domains)


def check_each_pillar_once(pillars: list, problems: Problems) -> None:
    seen = {}
    for i, pillar in present(pillars):
        code = pillar.get("code")
        if code in seen:
            problems.add(f"pillars[{i}].code", f"pillar '{code}' is already at {seen[code]}")
        elif code:
            seen[code] = f"pillars[{i}]"
    for code in PILLAR_CODES:
        if code not in seen:
            problems.add("pillars", f"missing pillar '{code}'")


def check_unique_domains(entries: list[DomainEntry], problems: Problems) -> None:
    codes = {}
    for entry in entries:
        if entry.code in codes:
            problems.add(f"{entry.path}.code", f"'{entry.code}' is already used by {codes[entry.code]}")
        elif entry.code:
            codes[entry.code] = entry.path


def check_comparisons(entries: list[DomainEntry], earlier: Earlier | None, problems: Problems) -> None:
    compared = {}
    for entry in entries:
        if not is_comparable(entry, earlier, problems):
            continue
        # Year-on-year comparison pairs one earlier domain with one domain; two would count its history twice.
        if entry.comparable_with in compared:
            problems.add(
                f"{entry.path}.comparable_with",
                f"'{entry.comparable_with}' is already compared by {compared[entry.comparable_with]}",
            )
        else:
            compared[entry.comparable_with] = entry.path


def is_comparable(entry: DomainEntry, earlier: Earlier | None, problems: Problems) -> bool:
    """Whether the domain names an earlier domain that it can be compared with."""
    # Without a usable earlier version, its own problem is reported once, at comparable_with_version.
    if entry.comparable_with is None or earlier is None:
        return False
    where, named = f"{entry.path}.comparable_with", entry.comparable_with
    if earlier.version is None:
        problems.add(where, "names an earlier domain, but comparable_with_version is null")
    elif earlier.domains is None:
        return False
    elif named not in earlier.domains:
        problems.add(where, f"'{named}' is not a domain of version {earlier.version}")
    elif entry.pillar and earlier.domains[named].pillar.code != entry.pillar:
        pillar = earlier.domains[named].pillar.code
        problems.add(where, f"'{named}' of version {earlier.version} is in pillar {pillar}, not {entry.pillar}")
    else:
        return True
    return False


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


def check_indicators(indicators: list, problems: Problems) -> None:
    codes = {}
    for i, indicator in present(indicators):
        path, code = f"indicators[{i}]", indicator.get("code")
        if code in codes:
            problems.add(f"{path}.code", f"'{code}' is already used by {codes[code]}")
        elif code:
            codes[code] = path
        low, high = indicator.get("min"), indicator.get("max")
        if low is not None and high is not None and low > high:
            problems.add(f"{path}.min", f"{low} is greater than max {high}")


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
        # The keys are "1" to "5", in whatever order the file has them.
        levels=[text.strip() for _level, text in sorted(domain["levels"].items())],
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
