"""Indicators NHS England already publishes (DSPT status, devices on unsupported systems) are filled in when an
assessment is started, keep where they came from, and are shown as such for the lead to check; a value the lead
changes becomes theirs."""

import datetime
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils.html import escape

from maturity import actions
from maturity.demo import load_demo_data
from maturity.frameworks import load_all_frameworks
from maturity.models import AuditEvent, IndicatorType, IndicatorValue, Source
from tests.factories import CycleFactory, ICSFactory, IndicatorFactory, TrustFactory, lead_of, reviewer_of
from trusts.models import CareSetting, Trust
from trusts.ods import load_organisations

URL = "/trusts/R0A/assessments/2026/acute/"
DSPT_CHOICES = ["Standards Exceeded", "Standards Met", "Approaching Standards", "Standards Not Met", "Not Published"]


def published(code, *, as_of, edition, trust=None, ics=None, **value):
    return IndicatorValue.objects.create(
        indicator_code=code,
        trust=trust,
        ics=ics,
        source=Source.PUBLISHED,
        edition=edition,
        as_of=as_of,
        source_note=f"{code}.csv",
        **value,
    )


@pytest.fixture
def world(db):
    cycle = CycleFactory()
    for framework in (cycle.trust_framework, cycle.ics_framework):
        IndicatorFactory(
            framework=framework,
            code="dspt_status",
            name="DSPT status",
            help_text="The status in the latest published DSPT assessment.",
            value_type=IndicatorType.CHOICE,
            choices=DSPT_CHOICES,
        )
    ics = ICSFactory(code="QOP")
    trust = TrustFactory(code="R0A", ics=ics)
    published(
        "dspt_status", trust=trust, text="Approaching Standards", edition="21/22", as_of=datetime.date(2022, 9, 9)
    )
    published("dspt_status", trust=trust, text="Standards Met", edition="22/23", as_of=datetime.date(2023, 6, 30))
    published(
        "unsupported_devices_pct",
        trust=trust,
        number=2.354734881,
        edition="2022-09-09 snapshot",
        as_of=datetime.date(2022, 9, 9),
    )
    published("dspt_status", ics=ics, text="Standards Exceeded", edition="22/23", as_of=datetime.date(2023, 6, 26))
    return cycle, trust, ics


def start(world, client=None):
    cycle, trust, _ = world
    lead = lead_of(trust)
    assessment = actions.start_assessment(by=lead, cycle=cycle, trust=trust, care_setting=trust.care_settings.get())
    if client is not None:
        client.force_login(lead)
    return assessment


def values_of(assessment) -> dict:
    return {
        value.indicator_code: (value.text or value.number, value.source, value.edition, value.as_of)
        for value in IndicatorValue.objects.filter(assessment=assessment)
    }


def test_starting_fills_in_the_latest_published_values_with_where_they_came_from(world):
    assessment = start(world)
    assert values_of(assessment) == {
        "dspt_status": ("Standards Met", Source.PUBLISHED, "22/23", datetime.date(2023, 6, 30)),
        # To one decimal, as pages show it: saving the form unchanged must not change it.
        "unsupported_devices_pct": (2.4, Source.PUBLISHED, "2022-09-09 snapshot", datetime.date(2022, 9, 9)),
    }
    event = AuditEvent.objects.get(assessment=assessment, action="start")
    assert event.summary == (
        "Started the assessment, with Devices on unsupported systems and DSPT status from NHS England's published data"
    )
    assert event.after == {
        "indicator:unsupported_devices_pct": {"number": 2.4},
        "indicator:dspt_status": {"text": "Standards Met"},
    }


def test_an_icbs_own_assessment_gets_the_icbs_own_status(world):
    cycle, trust, ics = world
    assessment = actions.start_assessment(by=reviewer_of(ics), cycle=cycle, ics=ics)
    assert values_of(assessment) == {
        "dspt_status": ("Standards Exceeded", Source.PUBLISHED, "22/23", datetime.date(2023, 6, 26))
    }


def test_values_published_as_unknown_or_not_published_at_all_are_left_to_the_lead(world):
    cycle, trust, _ = world
    IndicatorValue.objects.filter(indicator_code="unsupported_devices_pct").update(is_unknown=True, number=None)
    IndicatorValue.objects.filter(indicator_code="dspt_status", trust=trust).delete()
    assessment = start(world)
    assert values_of(assessment) == {}
    assert AuditEvent.objects.get(assessment=assessment, action="start").summary == "Started the assessment"


def test_the_indicators_page_says_where_a_filled_in_value_came_from(world, client):
    start(world, client)
    content = client.get(URL + "indicators/").content.decode()
    source = escape(
        "From NHS England's published data, Data Security and Protection Toolkit 22/23 (30 June 2023) – check it"
    )
    assert 'id="indicator-dspt_status-source"' in content
    assert source in content
    assert 'aria-describedby="indicator-dspt_status-hint indicator-dspt_status-source"' in content
    assert '<option value="Standards Met" selected>' in content
    assert 'value="2.4"' in content
    assert "Windows 10 devices on unsupported versions (9 September 2022) – check it" in content
    assert source in client.get(URL + "check/").content.decode()


def test_saving_the_page_unchanged_keeps_the_published_values_as_published(world, client):
    assessment = start(world, client)
    response = client.post(
        URL + "indicators/",
        {"version": 1, "indicator-dspt_status": "Standards Met", "indicator-unsupported_devices_pct": "2.4"},
    )
    assert response.status_code == 302
    assert {source for _, source, _, _ in values_of(assessment).values()} == {Source.PUBLISHED}
    assert not AuditEvent.objects.filter(assessment=assessment, action="save").exists()


def test_a_value_the_lead_changes_becomes_their_own(world, client):
    assessment = start(world, client)
    client.post(
        URL + "indicators/",
        {"version": 1, "indicator-dspt_status": "Standards Exceeded", "indicator-unsupported_devices_pct": "2.4"},
    )
    assert values_of(assessment) == {
        "dspt_status": ("Standards Exceeded", Source.RETURN, "", None),
        "unsupported_devices_pct": (2.4, Source.PUBLISHED, "2022-09-09 snapshot", datetime.date(2022, 9, 9)),
    }
    content = client.get(URL + "indicators/").content.decode()
    assert "Data Security and Protection Toolkit 22/23" not in content
    assert "Windows 10 devices on unsupported versions (9 September 2022)" in content


FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@override_settings(DEBUG=True)
def test_the_demo_leads_fresh_drafts_are_filled_in_as_if_just_started(db):
    load_organisations(FIXTURES / "ods")
    load_all_frameworks(FIXTURES / "frameworks")
    published("dspt_status", trust=Trust.objects.get(code="R0A"), text="Standards Met", edition="22/23", as_of=None)
    load_demo_data()
    filled = IndicatorValue.objects.filter(assessment__trust__code="R0A", assessment__cycle__year=2026)
    assert sorted(filled.values_list("assessment__care_setting", "indicator_code", "text", "source")) == [
        (CareSetting.ACUTE, "dspt_status", "Standards Met", Source.PUBLISHED),
        (CareSetting.COMMUNITY, "dspt_status", "Standards Met", Source.PUBLISHED),
    ]
