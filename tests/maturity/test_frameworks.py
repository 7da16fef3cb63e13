import copy
import functools
import hashlib
import io
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import hypothesis
import pytest
import yaml
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from maturity.frameworks import FrameworkError, load_all_frameworks, load_framework
from maturity.models import REQUIRED_THEMES, Domain, Framework, FrameworkKind, Indicator, IndicatorType, Pillar, Theme
from trusts.models import CareSetting

FRAMEWORKS_DIR = Path(settings.BASE_DIR) / "fixtures" / "frameworks"
TRUST_FILE = FRAMEWORKS_DIR / "wgll-trust-2026.1.yaml"
ICS_FILE = FRAMEWORKS_DIR / "wgll-ics-2026.1.yaml"
ALL_SETTINGS = ["acute", "community", "mental-health", "ambulance"]

pytestmark = pytest.mark.django_db


@functools.cache
def _parsed(path: Path) -> dict:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def document(path: Path = TRUST_FILE) -> dict:
    """A fresh copy of a real file's content, to change."""
    return copy.deepcopy(_parsed(path))


def write(directory: Path, content: dict, name: str | None = None) -> Path:
    """Write a framework where the loader expects it: in a file named after its code and version."""
    path = directory / (name or f"{content['code']}-{content['version']}.yaml")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's, where available: much faster
    path.write_text(yaml.dump(content, Dumper=dumper, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def counts() -> tuple[int, int, int]:
    return Framework.objects.count(), Domain.objects.count(), Indicator.objects.count()


def domain(content: dict, pillar: int, index: int) -> dict:
    return content["pillars"][pillar]["domains"][index]


def all_domains(content: dict) -> list[dict]:
    return [d for pillar in content["pillars"] for d in pillar["domains"]]


def pillar_sizes(framework: Framework) -> dict[str, int]:
    return dict(Counter(framework.domains.values_list("pillar__code", flat=True)))


def theme_sizes(framework: Framework) -> Counter:
    return Counter(theme for themes in framework.domains.values_list("themes", flat=True) for theme in themes)


def test_the_real_files_load():
    results = load_all_frameworks(FRAMEWORKS_DIR)

    assert [(r.framework.code, r.status) for r in results] == [("wgll-ics", "created"), ("wgll-trust", "created")]
    assert Pillar.objects.count() == 7
    for domain_ in Domain.objects.all():
        assert len(domain_.levels) == 5 and all(level.strip() for level in domain_.levels), domain_.code
        assert domain_.weight > 0


def test_the_trust_framework():
    result = load_framework(TRUST_FILE)
    trust = result.framework

    assert (trust.code, trust.version, trust.kind) == ("wgll-trust", "2026.1", FrameworkKind.TRUST)
    assert trust.source_file == TRUST_FILE.name
    assert trust.checksum == hashlib.sha256(TRUST_FILE.read_bytes()).hexdigest()
    assert 44 <= trust.domains.count() <= 48
    sizes = pillar_sizes(trust)
    assert sorted(sizes) == sorted(code for code, _name in Pillar.ALL)
    assert min(sizes.values()) >= 4
    themes = theme_sizes(trust)
    assert all(themes[theme] >= 4 for theme in REQUIRED_THEMES)
    assert themes[Theme.WORKFORCE] >= 2 and themes[Theme.INVESTMENT] >= 2
    # Positions run 1, 2, 3… within each pillar, in file order.
    well_led = trust.domains.filter(pillar__code="well_led")
    assert list(well_led.values_list("position", flat=True)) == list(range(1, well_led.count() + 1))
    assert well_led.first().code == "WL01"
    # Some domains apply to some care settings only.
    assert trust.domains.get(code="SP02").care_settings == ["acute", "community", "mental-health"]
    assert trust.domains.get(code="SP07").care_settings == ["ambulance"]
    assert trust.domains.get(code="SF04").weight == Decimal("1.0")
    assert all(domain_.comparable_with is None for domain_ in trust.domains.all())
    # Every care setting's return has a score in every pillar.
    for setting in ALL_SETTINGS:
        applicable = [d for d in trust.domains.select_related("pillar") if d.applies_to(setting)]
        assert {d.pillar.code for d in applicable} == set(sizes), setting


def test_the_trust_indicators():
    trust = load_framework(TRUST_FILE).framework
    indicators = {i.code: i for i in trust.indicators.all()}

    assert {code: i.value_type for code, i in indicators.items()} == {
        "epr_in_place": "boolean",
        "epr_supplier": "choice",
        "epr_go_live": "date",
        "unsupported_devices_pct": "percent",
        "dspt_status": "choice",
        "digital_spend_pct": "percent",
        "ddat_vacancy_pct": "percent",
    }
    assert {"Epic", "Oracle Health (Cerner)", "TPP (SystmOne)", "Other", "No EPR"} <= set(
        indicators["epr_supplier"].choices
    )
    assert indicators["dspt_status"].choices[:2] == ["Standards Exceeded", "Standards Met"]
    assert (indicators["unsupported_devices_pct"].min_value, indicators["unsupported_devices_pct"].max_value) == (
        0,
        100,
    )
    assert indicators["unsupported_devices_pct"].themes == ["legacy_it"]
    assert indicators["epr_go_live"].required is False
    assert [i.position for i in trust.indicators.all()] == list(range(1, 8))


def test_the_ics_framework():
    ics = load_framework(ICS_FILE).framework

    assert ics.kind == FrameworkKind.ICS
    assert 14 <= ics.domains.count() <= 21
    assert min(pillar_sizes(ics).values()) >= 2 and len(pillar_sizes(ics)) == 7
    assert all(domain_.care_settings == [] for domain_ in ics.domains.all())
    themes = theme_sizes(ics)
    assert all(themes[theme] >= 2 for theme in Theme.values)
    indicators = dict(ics.indicators.values_list("code", "value_type"))
    assert indicators["shared_care_record_live"] == "boolean"
    assert {"dspt_status", "digital_spend_pct", "ddat_vacancy_pct"} <= set(indicators)


def test_loading_again_changes_nothing():
    first = load_framework(TRUST_FILE)
    before = counts()

    again = load_framework(TRUST_FILE)

    assert again.status == "unchanged" and again.framework == first.framework
    assert counts() == before


def test_a_changed_file_under_a_loaded_version_is_refused(tmp_path):
    load_framework(TRUST_FILE)
    before = counts()
    changed = document()
    domain(changed, 0, 0)["name"] = "Digital strategy and roadmap"

    with pytest.raises(FrameworkError) as error:
        load_framework(write(tmp_path, changed))

    assert error.value.problems == [
        "wgll-trust-2026.1.yaml: version: version 2026.1 of wgll-trust is already loaded with different content: "
        "a changed framework is a new version"
    ]
    assert counts() == before


def next_version(version: str, earlier: str) -> dict:
    """The trust framework as a later version whose every domain is comparable with the same code in earlier."""
    content = document()
    content.update(version=version, comparable_with_version=earlier)
    for domain_ in all_domains(content):
        domain_["comparable_with"] = domain_["code"]
    return content


def test_a_second_version_links_its_domains_to_the_first(tmp_path):
    first = load_framework(TRUST_FILE).framework
    second_content = next_version("2026.2", "2026.1")
    # A new domain has no history to compare with.
    new = copy.deepcopy(domain(second_content, 1, 0)) | {
        "code": "SF10",
        "name": "Medical devices",
        "comparable_with": None,
    }
    second_content["pillars"][1]["domains"].append(new)

    second = load_framework(write(tmp_path, second_content)).framework

    assert second.domains.count() == first.domains.count() + 1
    assert second.domains.get(code="SF04").comparable_with == first.domains.get(code="SF04")
    assert second.domains.get(code="SF10").comparable_with is None
    assert second.domains.get(code="SF10").position == 10


def test_a_directory_loads_in_version_order_all_or_nothing(tmp_path):
    # By name "2026.10" sorts before "2026.9"; by version it comes after, and refers to it.
    earlier = document() | {"version": "2026.9"}
    write(tmp_path, next_version("2026.10", "2026.9"))
    write(tmp_path, earlier)

    results = load_all_frameworks(tmp_path)

    assert [r.framework.version for r in results] == ["2026.9", "2026.10"]
    assert (
        Domain.objects.filter(framework__version="2026.10", comparable_with__framework__version="2026.9").count() == 47
    )


def test_one_broken_file_in_a_directory_loads_nothing(tmp_path):
    write(tmp_path, document(ICS_FILE))
    broken = document()
    domain(broken, 0, 0)["weight"] = -1
    write(tmp_path, broken)

    with pytest.raises(FrameworkError) as error:
        load_all_frameworks(tmp_path)

    assert error.value.problems == [
        "wgll-trust-2026.1.yaml: pillars[0].domains[0].weight: must be a positive number, found the number -1"
    ]
    assert counts() == (0, 0, 0)


def set_key(*path, value):
    """A change: set the value at a path of keys and indexes."""

    def change(content):
        target = content
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def remove_key(*path):
    def change(content):
        target = content
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


def keep_theme_in_first(theme: str, keep: int):
    """Remove a theme from every domain but the first `keep` that have it."""

    def change(content):
        having = [d for d in all_domains(content) if theme in d["themes"]]
        for domain_ in having[keep:]:
            domain_["themes"].remove(theme)

    return change


def drop_theme_for_setting(theme: str, setting: str):
    def change(content):
        for domain_ in all_domains(content):
            if setting in domain_["care_settings"] and theme in domain_["themes"]:
                domain_["themes"].remove(theme)

    return change


def drop_setting_from_pillar(pillar: int, setting: str):
    def change(content):
        for domain_ in content["pillars"][pillar]["domains"]:
            if domain_["care_settings"] != [setting]:
                domain_["care_settings"] = [s for s in domain_["care_settings"] if s != setting]
            else:
                domain_["care_settings"] = ["acute"]

    return change


def several(*changes):
    def change(content):
        for one in changes:
            one(content)

    return change


LEVELS = ("pillars", 2, "domains", 3, "levels")
FIRST_DOMAIN = ("pillars", 0, "domains", 0)

BROKEN = [
    # (id, file, change, a problem that must be reported)
    (
        "4 levels",
        TRUST_FILE,
        remove_key(*LEVELS, 5),
        "pillars[2].domains[3].levels: missing key '5'",
    ),
    (
        "levels 0-4",
        TRUST_FILE,
        set_key(*LEVELS, value={n: "A descriptor." for n in range(5)}),
        "pillars[2].domains[3].levels: unknown key '0': expected 1, 2, 3, 4, 5",
    ),
    (
        "a level named yes",
        TRUST_FILE,
        several(remove_key(*LEVELS, 1), set_key(*LEVELS, True, value="A descriptor.")),
        "pillars[2].domains[3].levels: unknown key 'true': expected 1, 2, 3, 4, 5",
    ),
    ("levels a list", TRUST_FILE, set_key(*LEVELS, value=["a"] * 5), "levels: must be a mapping of the levels 1 to 5"),
    (
        "empty level",
        TRUST_FILE,
        set_key(*LEVELS, 3, value=" "),
        "pillars[2].domains[3].levels.3: must be non-empty text",
    ),
    (
        "unknown indicator type",
        TRUST_FILE,
        set_key("indicators", 4, "type", value="float"),
        "indicators[4].type: 'float' is not one of boolean, choice, date, number, percent, text",
    ),
    (
        "required theme on 1 domain",
        TRUST_FILE,
        keep_theme_in_first("epr", 1),
        "wgll-trust-2026.1.yaml: theme 'epr' is used by only 1 domain: a required theme needs at least 2",
    ),
    ("required theme unused", TRUST_FILE, keep_theme_in_first("cyber", 0), "theme 'cyber' is used by no domain"),
    (
        "required theme missing a setting",
        TRUST_FILE,
        drop_theme_for_setting("epr", "ambulance"),
        "wgll-trust-2026.1.yaml: theme 'epr' has no domain for care setting 'ambulance'",
    ),
    (
        "unknown pillar",
        TRUST_FILE,
        set_key("pillars", 0, "code", value="leadership"),
        "pillars[0].code: 'leadership' is not one of well_led, smart_foundations",
    ),
    ("missing pillar", TRUST_FILE, remove_key("pillars", 6), "pillars: missing pillar 'healthy_populations'"),
    (
        "duplicate pillar",
        TRUST_FILE,
        set_key("pillars", 1, "code", value="well_led"),
        "pillars[1].code: pillar 'well_led' is already at pillars[0]",
    ),
    (
        "pillar without domains",
        TRUST_FILE,
        set_key("pillars", 3, "domains", value=[]),
        "pillars[3].domains: must be a list",
    ),
    (
        "duplicate domain code",
        TRUST_FILE,
        set_key("pillars", 0, "domains", 1, "code", value="WL01"),
        "pillars[0].domains[1].code: 'WL01' is already used by pillars[0].domains[0]",
    ),
    (
        "domain code of another pillar",
        TRUST_FILE,
        set_key("pillars", 1, "domains", 0, "code", value="WL99"),
        "pillars[1].domains[0].code: must be SF and two digits like SF01, found 'WL99'",
    ),
    (
        "missing key",
        TRUST_FILE,
        remove_key(*FIRST_DOMAIN, "description"),
        "pillars[0].domains[0]: missing key 'description'",
    ),
    (
        "misspelt key",
        TRUST_FILE,
        several(remove_key(*FIRST_DOMAIN, "weight"), set_key(*FIRST_DOMAIN, "weigth", value=1)),
        "pillars[0].domains[0]: unknown key 'weigth'",
    ),
    (
        "empty name",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "name", value=""),
        "pillars[0].domains[0].name: must be non-empty text",
    ),
    ("name too long", TRUST_FILE, set_key(*FIRST_DOMAIN, "name", value="x" * 121), "name: is 121 characters long"),
    (
        "unknown care setting",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "care_settings", value=["acute", "hospice"]),
        "pillars[0].domains[0].care_settings[1]: 'hospice' is not one of acute, community, mental-health, ambulance",
    ),
    (
        "care setting twice",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "care_settings", value=["acute", "acute"]),
        "care_settings[1]: 'acute' is listed twice",
    ),
    (
        "trust domain without care settings",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "care_settings", value=[]),
        "pillars[0].domains[0].care_settings: must be a list of at least one care setting in a trust framework, "
        "found an empty list",
    ),
    (
        "pillar without an ambulance domain",
        TRUST_FILE,
        drop_setting_from_pillar(2, "ambulance"),
        "pillar 'safe_practice' has no domain for care setting 'ambulance'",
    ),
    (
        "ics domain with care settings",
        ICS_FILE,
        set_key(*FIRST_DOMAIN, "care_settings", value=["acute"]),
        "pillars[0].domains[0].care_settings: must be [] in an ICS framework",
    ),
    (
        "unknown theme",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "themes", value=["legacy-it"]),
        "pillars[0].domains[0].themes[0]: 'legacy-it' is not one of legacy_it, epr, cyber, workforce, investment",
    ),
    (
        "zero weight",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "weight", value=0),
        "weight: must be a positive number, found the number 0",
    ),
    (
        "text weight",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "weight", value="1.5"),
        "weight: must be a positive number, found '1.5'",
    ),
    (
        "weight of 3 decimals",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "weight", value=1.125),
        "weight: must have at most 2 decimals, found the number 1.125",
    ),
    (
        "weight too large",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "weight", value=1000),
        "weight: must be at most 999.99, found the number 1000",
    ),
    (
        "comparable_with in a first version",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "comparable_with", value="WL01"),
        "pillars[0].domains[0].comparable_with: names an earlier domain, but comparable_with_version is null",
    ),
    (
        "earlier version not loaded",
        TRUST_FILE,
        set_key("comparable_with_version", value="2025.1"),
        "comparable_with_version: version 2025.1 of wgll-trust is not loaded: load it first",
    ),
    (
        "earlier version is later",
        TRUST_FILE,
        set_key("comparable_with_version", value="2027.1"),
        "comparable_with_version: 2027.1 must be an earlier version than 2026.1",
    ),
    (
        "choice without choices",
        TRUST_FILE,
        remove_key("indicators", 1, "choices"),
        "indicators[1]: missing key 'choices'",
    ),
    (
        "empty choices",
        TRUST_FILE,
        set_key("indicators", 1, "choices", value=[]),
        "indicators[1].choices: must be a list of at least one choice, found an empty list",
    ),
    (
        "choices on a boolean",
        TRUST_FILE,
        set_key("indicators", 0, "choices", value=["Yes"]),
        "indicators[0]: unknown key 'choices': only a choice indicator has choices",
    ),
    (
        "min on a choice",
        TRUST_FILE,
        set_key("indicators", 1, "min", value=0),
        "indicators[1]: unknown key 'min': only a number or percent indicator has min and max",
    ),
    (
        "min above max",
        TRUST_FILE,
        several(set_key("indicators", 3, "min", value=100), set_key("indicators", 3, "max", value=0)),
        "indicators[3].min: 100 is greater than max 0",
    ),
    (
        "percent above 100",
        TRUST_FILE,
        set_key("indicators", 3, "max", value=150),
        "indicators[3].max: must be at most 100, found the number 150",
    ),
    (
        "percent below 0",
        TRUST_FILE,
        set_key("indicators", 3, "min", value=-5),
        "indicators[3].min: must be at least 0, found the number -5",
    ),
    ("percent without max", TRUST_FILE, remove_key("indicators", 3, "max"), "indicators[3]: missing key 'max'"),
    ("required not a boolean", TRUST_FILE, set_key("indicators", 0, "required", value="yes"), "indicators[0].required"),
    (
        "duplicate indicator",
        TRUST_FILE,
        set_key("indicators", 1, "code", value="epr_in_place"),
        "indicators[1].code: 'epr_in_place' is already used by indicators[0]",
    ),
    (
        "unknown top-level key",
        TRUST_FILE,
        set_key("owner", value="NHS England"),
        "wgll-trust-2026.1.yaml: unknown key 'owner'",
    ),
    ("missing top-level key", TRUST_FILE, remove_key("indicators"), "wgll-trust-2026.1.yaml: missing key 'indicators'"),
    ("unknown kind", TRUST_FILE, set_key("kind", value="provider"), "kind: 'provider' is not one of trust, ics"),
    (
        "version a number",
        TRUST_FILE,
        set_key("version", value=2026.1),
        'version: must be numbers separated by dots, in quotes like "2026.1", found the number 2026.1',
    ),
    ("version not numbers", TRUST_FILE, set_key("version", value="next"), "version: must be numbers separated by dots"),
    ("bad framework code", TRUST_FILE, set_key("code", value="WGLL trust"), "code: must be a lower-case slug"),
    (
        "code ending in a new line",
        TRUST_FILE,
        set_key("indicators", 0, "code", value="epr_in_place\n"),
        "indicators[0].code: must be lower-case letters, digits and _ like epr_in_place, found 'epr_in_place\\n'",
    ),
    (
        "domain code not text",
        TRUST_FILE,
        set_key(*FIRST_DOMAIN, "code", value=1),
        "pillars[0].domains[0].code: must be a domain code like SF03: its pillar's prefix and two digits, "
        "found the number 1",
    ),
    ("pillars not a list", TRUST_FILE, set_key("pillars", value={}), "pillars: must be a list of the seven pillars"),
]


@pytest.mark.parametrize(("source", "change", "expected"), [case[1:] for case in BROKEN], ids=[c[0] for c in BROKEN])
def test_a_broken_file_is_refused_with_its_problems_and_loads_nothing(tmp_path, source, change, expected):
    content = document(source)
    change(content)
    path = write(tmp_path, content)

    with pytest.raises(FrameworkError) as error:
        load_framework(path)

    problems = error.value.problems
    assert any(expected in problem for problem in problems), problems
    assert all(problem.startswith(f"{path.name}: ") for problem in problems)
    assert counts() == (0, 0, 0)


def test_a_second_version_with_a_wrong_comparison_is_refused(tmp_path):
    load_framework(TRUST_FILE)
    before = counts()
    content = next_version("2026.2", "2026.1")
    domain(content, 0, 0)["comparable_with"] = "WL99"  # not in 2026.1
    domain(content, 0, 1)["comparable_with"] = "SF01"  # another pillar's
    domain(content, 0, 3)["comparable_with"] = "WL03"  # WL03 is compared by WL03 already

    with pytest.raises(FrameworkError) as error:
        load_framework(write(tmp_path, content))

    assert error.value.problems == [
        "wgll-trust-2026.2.yaml: pillars[0].domains[0].comparable_with: 'WL99' is not a domain of version 2026.1",
        "wgll-trust-2026.2.yaml: pillars[0].domains[1].comparable_with: "
        "'SF01' of version 2026.1 is in pillar smart_foundations, not well_led",
        "wgll-trust-2026.2.yaml: pillars[0].domains[3].comparable_with: "
        "'WL03' is already compared by pillars[0].domains[2]",
    ]
    assert counts() == before


def test_a_weight_of_2_decimals_is_exact(tmp_path):
    # In binary floating point 1.1 is not a multiple of 0.01: the file's numbers are read as decimals.
    content = document()
    domain(content, 0, 0)["weight"] = 1.1
    domain(content, 0, 1)["weight"] = 2.35

    trust = load_framework(write(tmp_path, content)).framework

    assert trust.domains.get(code="WL01").weight == Decimal("1.10")
    assert trust.domains.get(code="WL02").weight == Decimal("2.35")


def test_the_schema_s_problems_and_the_rules_problems_are_reported_together(tmp_path):
    content = document()
    domain(content, 0, 0)["weight"] = 0
    content["indicators"][1]["code"] = "epr_in_place"

    with pytest.raises(FrameworkError) as error:
        load_framework(write(tmp_path, content))

    assert error.value.problems == [
        "wgll-trust-2026.1.yaml: pillars[0].domains[0].weight: must be a positive number, found the number 0",
        "wgll-trust-2026.1.yaml: indicators[1].code: 'epr_in_place' is already used by indicators[0]",
    ]


def test_every_problem_is_reported_at_once(tmp_path):
    content = document()
    domain(content, 0, 0)["weight"] = 0
    content["indicators"][4]["type"] = "float"
    del domain(content, 2, 3)["levels"][5]

    with pytest.raises(FrameworkError) as error:
        load_framework(write(tmp_path, content))

    assert len(error.value.problems) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("code: wgll-trust\nversion: [2026.1\n", "wgll-trust-2026.1.yaml: line 3: YAML syntax error"),
        (
            "code: wgll-trust\ncode: wgll-ics\n",
            "wgll-trust-2026.1.yaml: line 2: duplicate key 'code'",
        ),
        ("", "wgll-trust-2026.1.yaml: the file is empty"),
        ("- code: wgll-trust\n", "wgll-trust-2026.1.yaml: must be a mapping, found a list"),
        # Keys are read as text, as the schema sees them: 1 and "1" are the same level.
        ("levels:\n  1: First.\n  '1': Again.\n", "wgll-trust-2026.1.yaml: line 3: duplicate key '1'"),
        ("weight: .nan\n", "wgll-trust-2026.1.yaml: line 1: .nan is not a finite number"),
    ],
    ids=["syntax", "duplicate key", "empty", "not a mapping", "duplicate level", "not a number"],
)
def test_a_file_that_is_not_a_framework_is_refused(tmp_path, text, expected):
    path = tmp_path / "wgll-trust-2026.1.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(FrameworkError) as error:
        load_framework(path)

    assert any(problem.startswith(expected) for problem in error.value.problems), error.value.problems


def test_the_file_is_named_after_its_code_and_version(tmp_path):
    with pytest.raises(FrameworkError) as error:
        load_framework(write(tmp_path, document(), name="trust.yaml"))

    assert error.value.problems == [
        "trust.yaml: the file must be named wgll-trust-2026.1.yaml, after its code and version"
    ]


def test_the_command_loads_every_framework_and_reports_each():
    out = io.StringIO()
    call_command("load_frameworks", stdout=out)
    call_command("load_frameworks", stdout=out)

    assert out.getvalue().splitlines() == [
        "wgll-ics-2026.1.yaml: created wgll-ics 2026.1 (18 domains, 4 indicators)",
        "wgll-trust-2026.1.yaml: created wgll-trust 2026.1 (47 domains, 7 indicators)",
        "wgll-ics-2026.1.yaml: unchanged wgll-ics 2026.1 (18 domains, 4 indicators)",
        "wgll-trust-2026.1.yaml: unchanged wgll-trust 2026.1 (47 domains, 7 indicators)",
    ]


def test_the_command_prints_every_problem_and_fails(tmp_path):
    content = document()
    domain(content, 0, 0)["weight"] = 0
    content["indicators"][4]["type"] = "float"
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError) as error:
        call_command("load_frameworks", str(ICS_FILE), str(write(tmp_path, content)), stdout=out, stderr=err)

    assert error.value.returncode != 0
    assert "2 problem(s) found: nothing was loaded" in str(error.value)
    assert err.getvalue().splitlines() == [
        "wgll-trust-2026.1.yaml: pillars[0].domains[0].weight: must be a positive number, found the number 0",
        "wgll-trust-2026.1.yaml: indicators[4].type: "
        "'float' is not one of boolean, choice, date, number, percent, text",
    ]
    assert out.getvalue() == ""
    assert counts() == (0, 0, 0)


def value_paths(value, path=()):
    """The path of every value in a document, the document itself included."""
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from value_paths(child, (*path, key))


ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30) | st.dates(),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=6,
)


@hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(path=st.sampled_from(list(value_paths(document(ICS_FILE)))), value=ANY_VALUE)
@pytest.mark.slow
def test_any_value_anywhere_is_loaded_or_refused_with_problems(tmp_path, path, value):
    content = document(ICS_FILE)
    if path:
        set_key(*path, value=value)(content)
    else:
        content = value
    before = counts()

    try:
        load_framework(write(tmp_path, content, name=ICS_FILE.name))
    except FrameworkError as error:
        assert error.problems and all(problem.startswith(f"{ICS_FILE.name}: ") for problem in error.problems)
        assert counts() == before


SCHEMA = json.loads((Path(settings.BASE_DIR) / "maturity" / "schemas" / "framework.schema.json").read_text())


def test_the_schema_is_a_draft_2020_12_schema():
    Draft202012Validator.check_schema(SCHEMA)


def test_the_schema_s_lists_and_lengths_are_the_models():
    defs = SCHEMA["$defs"]
    assert defs["pillar"]["properties"]["code"]["enum"] == [code for code, _name in Pillar.ALL]
    care_settings = defs["domain"]["properties"]["care_settings"]["items"]["enum"]
    assert care_settings == [slug for slug, _name, _position in CareSetting.ALL]
    assert defs["themes"]["items"]["enum"] == list(Theme.values)
    assert defs["indicator"]["properties"]["type"]["enum"] == sorted(IndicatorType.values)
    assert SCHEMA["properties"]["kind"]["enum"] == list(FrameworkKind.values)
    assert SCHEMA["properties"]["code"]["maxLength"] == Framework._meta.get_field("code").max_length
    assert SCHEMA["properties"]["version"]["maxLength"] == Framework._meta.get_field("version").max_length
    assert (
        defs["name"]["maxLength"]
        == Framework._meta.get_field("name").max_length
        == Domain._meta.get_field("name").max_length
    )
    assert defs["indicator"]["properties"]["code"]["maxLength"] == Indicator._meta.get_field("code").max_length
    weight = Domain._meta.get_field("weight")
    assert Decimal(str(defs["domain"]["properties"]["weight"]["maximum"])) == Decimal(
        "9" * (weight.max_digits - weight.decimal_places) + "." + "9" * weight.decimal_places
    )


# The keywords that only give a schema its shape, and those maturity.schema_problems words plainly.
SHAPE_KEYWORDS = {"$schema", "$comment", "$defs", "$ref", "title", "description", "properties", "items", "allOf"}
SHAPE_KEYWORDS |= {"if", "then", "else"}
WORDED_KEYWORDS = {"type", "pattern", "const", "minItems", "enum", "maxLength", "minimum", "maximum"}
WORDED_KEYWORDS |= {"exclusiveMinimum", "multipleOf", "required", "additionalProperties", "not", "uniqueItems"}


def subschemas(schema: dict, conditions: bool = True):
    """Every schema in a schema; without the conditions of if-then, whose failures are never reported."""
    yield schema
    for keyword, value in schema.items():
        if keyword in ("properties", "$defs"):
            for subschema in value.values():
                yield from subschemas(subschema, conditions)
        elif keyword == "allOf":
            for subschema in value:
                yield from subschemas(subschema, conditions)
        elif keyword in ("items", "not", "then", "else") or keyword == "if" and conditions:
            yield from subschemas(value, conditions)


def test_every_keyword_of_the_schema_has_a_plain_message():
    used = {keyword for subschema in subschemas(SCHEMA) for keyword in subschema}

    assert used <= SHAPE_KEYWORDS | WORDED_KEYWORDS, used - SHAPE_KEYWORDS - WORDED_KEYWORDS
    # A description is the message when one of these fails: each needs one.
    for subschema in subschemas(SCHEMA, conditions=False):
        if {"pattern", "const", "minItems", "not"} & set(subschema):
            assert subschema.get("description"), subschema
