"""Cross-checks as data: the rules file loads (and a broken or changed one is refused with every problem listed),
each of its five checks fires on a return that breaks it and not on a clean one, the gatherer reads the same figures
from the database, the lead sees the checks as warnings that do not block, and the reviewer sees them as queries."""

import datetime
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from maturity import checks
from maturity.checks import ENTERED, ChecksError, DomainFacts, Figure, ReturnData
from maturity.models import (
    Assessment,
    CheckRule,
    CheckSet,
    Cycle,
    CycleKind,
    CycleState,
    DomainAnswer,
    Framework,
    IndicatorValue,
    Source,
    Status,
)
from tests.factories import AssessmentFactory, analyst
from tests.maturity.test_views import URL, as_user, full_form, main_of
from tests.maturity.test_views import world as world  # noqa: F401 (the views' fixture, used by the page tests)
from trusts import permissions

RULES_FILE = Path(settings.BASE_DIR) / "fixtures" / "checks" / "wgll-checks-2026.1.yaml"
DSPT = "NHS England's published Data Security and Protection Toolkit 24/25"


@pytest.fixture
def frameworks(db):
    call_command("load_frameworks", stdout=io.StringIO())


@pytest.fixture
def rules(frameworks):
    call_command("load_checks", stdout=io.StringIO())
    return checks.rules_in_force()


# --- The file ----------------------------------------------------------------------------------------------------


def test_the_rules_file_loads_its_five_checks_once(frameworks):
    out = io.StringIO()
    call_command("load_checks", stdout=out)
    call_command("load_checks", stdout=out)
    assert out.getvalue().splitlines() == [
        "wgll-checks-2026.1.yaml: created wgll-checks 2026.1 (5 rules)",
        "wgll-checks-2026.1.yaml: unchanged wgll-checks 2026.1 (5 rules)",
    ]
    assert CheckSet.objects.count() == 1
    assert [rule.code for rule in checks.rules_in_force()] == [
        "cyber_level_with_weak_dspt",
        "legacy_level_with_unsupported_devices",
        "epr_level_without_epr",
        "level_moved_two_or_more",
        "digital_spend_outside_range",
    ]


BROKEN = """\
code: wgll-checks
version: "2099.1"
name: Broken checks
rules:
  - code: twice
    kind: level_while_indicator_in
    theme: cyber
    min_level: 9
    indicator: dspt_status
    values: [Standards Not Met]
    message: "{domain} at {level} with {figure}"
  - code: twice
    kind: level_while_indicator_above
    theme: legacy_it
    indicator: no_such_indicator
    above: 10
    min_change: 2
    message: "{domain:>10} and {value"
  - code: range
    kind: indicator_outside
    indicator: digital_spend_pct
    min: 30
    max: 20
    message: "{value} outside"
    colour: red
"""


def test_a_broken_rules_file_is_refused_with_every_problem_listed(frameworks, tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    with pytest.raises(ChecksError) as refused:
        checks.load_checks(path)
    assert refused.value.problems == [
        "broken.yaml: rules[0].min_level: must be at most 5, found the number 9",
        "broken.yaml: rules[2]: unknown key 'colour': expected code, kind, message, theme, min_level, indicator, "
        "values, above, min_change, min, max",
        "broken.yaml: the file must be named wgll-checks-2099.1.yaml, after its code and version",
        "broken.yaml: rules[0].message: uses {figure}, which this kind does not fill: it may use {domain}, {level}, "
        "{value}, {source}",
        "broken.yaml: rules[1].code: 'twice' is already used by rules[0]",
        "broken.yaml: rules[1]: missing key 'min_level': kind level_while_indicator_above needs theme, min_level, "
        "indicator, above",
        "broken.yaml: rules[1].min_change: is not a parameter of kind level_while_indicator_above: it takes theme, "
        "min_level, indicator, above",
        "broken.yaml: rules[1].message: is not a valid template (expected '}' before end of string): write "
        "placeholders as {domain}, {level}, {value}, {above}, {source}, and a brace as {{",
        "broken.yaml: rules[1].indicator: 'no_such_indicator' is not an indicator of any loaded framework",
        "broken.yaml: rules[2].min: 30 is greater than max 20",
    ]
    assert not CheckSet.objects.exists() and not CheckRule.objects.exists()


def test_a_format_of_its_own_in_a_message_is_refused(frameworks, tmp_path):
    path = tmp_path / "wgll-checks-2099.1.yaml"
    formatted = BROKEN.replace("{domain:>10} and {value", "{value:.1f}")
    path.write_text(formatted.replace("no_such_indicator", "dspt_status"))
    with pytest.raises(ChecksError) as refused:
        checks.load_checks(path)
    assert (
        "wgll-checks-2099.1.yaml: rules[1].message: {value} has a format of its own: the figures come formatted, "
        "write {domain}, {level}, {value}, {above}, {source}"
    ) in refused.value.problems


def test_a_changed_file_under_a_loaded_version_is_refused(rules, tmp_path):
    changed = tmp_path / RULES_FILE.name
    changed.write_text(RULES_FILE.read_text().replace("above: 10", "above: 15"))
    err = io.StringIO()
    with pytest.raises(Exception, match="1 problem"):
        call_command("load_checks", str(changed), stdout=io.StringIO(), stderr=err)
    assert err.getvalue().strip() == (
        "wgll-checks-2026.1.yaml: version: version 2026.1 of wgll-checks is already loaded with different content: "
        "changed checks are a new version"
    )
    assert CheckRule.objects.get(code="legacy_level_with_unsupported_devices").parameters["above"] == 10


# --- Pure evaluation ---------------------------------------------------------------------------------------------


def a_return(**changes) -> ReturnData:
    """A clean return: high levels backed by good figures, steady since last year, spend within range."""
    data = {
        "domains": [
            DomainFacts("WL06", "Cyber security governance", ("cyber",), 4, 4),
            DomainFacts("SF03", "End-user devices", ("legacy_it",), 4, 3),
            DomainFacts("SF01", "Electronic patient record coverage", ("epr",), 3, 3),
        ],
        "entered": {"dspt_status": "Standards Met", "unsupported_devices_pct": 4.0, "epr_in_place": True},
        "published": {"dspt_status": Figure("Standards Met", DSPT)},
        "previous_year": 2025,
    }
    data.update(changes)
    return ReturnData(**data)


def fired(data: ReturnData, rules) -> list[tuple[str, str, str]]:
    return [(found.rule, found.domain or found.indicator, found.message) for found in checks.findings(data, rules)]


def test_no_check_fires_on_a_clean_return(rules):
    assert fired(a_return(), rules) == []


def test_a_cyber_level_of_4_with_a_published_dspt_not_met_fires(rules):
    data = a_return(published={"dspt_status": Figure("Standards Not Met", DSPT)})
    assert fired(data, rules) == [
        (
            "cyber_level_with_weak_dspt",
            "WL06",
            "WL06 Cyber security governance is at level 4, but the DSPT status is Standards Not Met "
            f"({DSPT}): a level of 4 or more expects the DSPT standards to be met.",
        )
    ]


def test_an_entered_dspt_approaching_fires_too_and_a_level_below_4_does_not(rules):
    entered = {**a_return().entered, "dspt_status": "Approaching Standards"}
    assert [rule for rule, *_ in fired(a_return(entered=entered), rules)] == ["cyber_level_with_weak_dspt"]
    assert ENTERED in fired(a_return(entered=entered), rules)[0][2]
    low = [DomainFacts("WL06", "Cyber security governance", ("cyber",), 3, 3)]
    assert fired(a_return(entered=entered, domains=low), rules) == []


def test_a_legacy_it_level_of_4_with_more_than_10_percent_unsupported_devices_fires(rules):
    entered = {**a_return().entered, "unsupported_devices_pct": 12.5}
    assert fired(a_return(entered=entered), rules) == [
        (
            "legacy_level_with_unsupported_devices",
            "SF03",
            "SF03 End-user devices is at level 4, but 12.5% of devices run an unsupported operating system "
            f"({ENTERED}), more than 10%.",
        )
    ]
    exactly_ten = {**a_return().entered, "unsupported_devices_pct": 10.0}
    assert fired(a_return(entered=exactly_ten), rules) == []


def test_the_last_published_device_figure_counts_when_none_is_entered(rules):
    entered = {"dspt_status": "Standards Met", "epr_in_place": True}
    published = {"unsupported_devices_pct": Figure(31.0, "NHS England's published figure 1 March 2025")}
    assert [rule for rule, *_ in fired(a_return(entered=entered, published=published), rules)] == [
        "legacy_level_with_unsupported_devices"
    ]


def test_an_epr_level_of_3_with_no_epr_in_place_fires(rules):
    entered = {**a_return().entered, "epr_in_place": False}
    assert fired(a_return(entered=entered), rules) == [
        (
            "epr_level_without_epr",
            "SF01",
            "SF01 Electronic patient record coverage is at level 3, but the answer to "
            f'"Electronic patient record in place" is No ({ENTERED}).',
        )
    ]


def test_a_domain_moving_by_2_levels_fires_and_by_1_does_not(rules):
    domains = [
        DomainFacts("WL06", "Cyber security governance", ("cyber",), 2, 4),
        DomainFacts("SF03", "End-user devices", ("legacy_it",), 4, 3),
        DomainFacts("SF01", "Electronic patient record coverage", ("epr",), 3, None),
    ]
    assert fired(a_return(domains=domains), rules) == [
        (
            "level_moved_two_or_more",
            "WL06",
            "WL06 Cyber security governance moved from level 4 in 2025 to level 2: 2 levels in one cycle.",
        )
    ]


@pytest.mark.parametrize(("spend", "fires"), [(-1.0, True), (0.0, False), (20.0, False), (20.5, True)])
def test_digital_spend_outside_0_to_20_percent_fires(rules, spend, fires):
    entered = {**a_return().entered, "digital_spend_pct": spend}
    expected = [
        (
            "digital_spend_outside_range",
            "digital_spend_pct",
            f"Digital spend is {spend:g}% of turnover, outside the expected 0 to 20%.",
        )
    ]
    assert fired(a_return(entered=entered), rules) == (expected if fires else [])


# --- Through the database ----------------------------------------------------------------------------------------


def test_the_gatherer_reads_levels_last_years_levels_and_published_figures(rules, django_assert_max_num_queries):
    trust_framework = Framework.objects.get(code="wgll-trust")
    ics_framework = Framework.objects.get(code="wgll-ics")
    cycles = {
        year: Cycle.objects.create(
            year=year,
            kind=CycleKind.COLLECTED,
            state=CycleState.OPEN,
            trust_framework=trust_framework,
            ics_framework=ics_framework,
        )
        for year in (2025, 2026)
    }
    last_year = AssessmentFactory(cycle=cycles[2025], status=Status.APPROVED)
    assessment = AssessmentFactory(cycle=cycles[2026], trust=last_year.trust)
    domain = trust_framework.domains.get(code="WL06")
    DomainAnswer.objects.create(assessment=last_year, domain=domain, level=2)
    DomainAnswer.objects.create(assessment=assessment, domain=domain, level=4)
    IndicatorValue.objects.create(assessment=assessment, indicator_code="digital_spend_pct", number=25)
    IndicatorValue.objects.create(
        trust=assessment.trust,
        indicator_code="dspt_status",
        text="Approaching Standards",
        source=Source.PUBLISHED,
        edition="24/25",
        as_of=datetime.date(2025, 6, 30),
    )
    viewer = permissions.viewer_of(analyst())

    data = checks.return_data(assessment, viewer)
    assert data.previous_year == 2025
    assert data.published == {"dspt_status": Figure("Approaching Standards", DSPT)}
    # A few queries, whatever the number of domains, answers and rules.
    with django_assert_max_num_queries(15):
        found = checks.findings_for(Assessment.objects.get(pk=assessment.pk), viewer)
    assert [(finding.rule, finding.domain or finding.indicator) for finding in found] == [
        ("cyber_level_with_weak_dspt", "WL06"),
        ("level_moved_two_or_more", "WL06"),
        ("digital_spend_outside_range", "digital_spend_pct"),
    ]


def test_a_value_prefilled_from_the_published_figures_is_not_called_entered(rules):
    """The DSPT status the return was prefilled with, left as published: the lead did not type it."""
    trust_framework = Framework.objects.get(code="wgll-trust")
    cycle = Cycle.objects.create(
        year=2026,
        kind=CycleKind.COLLECTED,
        state=CycleState.OPEN,
        trust_framework=trust_framework,
        ics_framework=Framework.objects.get(code="wgll-ics"),
    )
    assessment = AssessmentFactory(cycle=cycle)
    DomainAnswer.objects.create(assessment=assessment, domain=trust_framework.domains.get(code="WL06"), level=4)
    published = {"text": "Approaching Standards", "source": Source.PUBLISHED, "edition": "24/25"}
    IndicatorValue.objects.create(trust=assessment.trust, indicator_code="dspt_status", **published)
    IndicatorValue.objects.create(assessment=assessment, indicator_code="dspt_status", **published)

    [finding] = checks.findings_for(assessment, permissions.viewer_of(analyst()))
    assert finding.message == (
        "WL06 Cyber security governance is at level 4, but the DSPT status is Approaching Standards (prefilled in "
        f"this return from {DSPT}): a level of 4 or more expects the DSPT standards to be met."
    )
    IndicatorValue.objects.filter(assessment=assessment).update(source=Source.RETURN)
    [finding] = checks.findings_for(assessment, permissions.viewer_of(analyst()))
    assert f"Approaching Standards ({ENTERED})" in finding.message


# --- The pages ---------------------------------------------------------------------------------------------------

PAGE_RULES = """\
code: page-checks
version: "1"
name: Checks for the page tests
rules:
  - code: legacy
    kind: level_while_indicator_above
    theme: legacy_it
    min_level: 4
    indicator: unsupported_devices_pct
    above: 10
    message: "{domain} is at level {level}, but {value}% of devices are unsupported ({source})."
"""


def test_the_lead_sees_the_checks_as_warnings_that_do_not_block_and_the_reviewer_sees_them_as_queries(
    client, world, tmp_path
):
    path = tmp_path / "page-checks-1.yaml"
    path.write_text(PAGE_RULES)
    checks.load_checks(path)
    lead = as_user(client, world, "lead")
    lead.post(URL + "pillars/well_led/", full_form(1))
    lead.post(URL + "pillars/smart_foundations/", {"version": 2, "SF01-level": "4", "SF02-level": "4"})
    lead.post(URL + "indicators/", {"version": 3, "indicator-unsupported_devices_pct": "40"})

    content = main_of(lead.get(URL + "check/"))
    message = f"SF01 Infrastructure is at level 4, but 40% of devices are unsupported ({ENTERED})."
    callout = content[content.index('id="checks"') : content.index("</div>", content.index('id="checks"'))]
    assert "Answers to check" in callout and message in callout
    assert f'<a class="nhsuk-link" href="{URL}pillars/smart_foundations/#SF01-level">Change' in callout
    assert "Continue to sign-off" in content

    response = lead.post(
        URL + "submit/", {"version": 4, "sign_off_name": "Jo Bloggs", "sign_off_role": "CEO", "declared": "yes"}
    )
    assert response.status_code == 302
    assert Assessment.objects.get(pk=world.assessment.pk).status == Status.SUBMITTED

    review = main_of(as_user(client, world, "reviewer").get(URL + "review/"))
    row = review[review.index('id="domain-SF01"') : review.index('id="domain-SF02"')]
    assert f'<strong class="nhsuk-tag nhsuk-tag--yellow">Query</strong> {message}' in row
    assert review.count(">Query</strong>") == 1
