from pathlib import Path

import pytest
from django.test import override_settings

from maturity.demo import DemoRefused, load_demo_data
from maturity.frameworks import load_all_frameworks
from maturity.models import Assessment, AuditEvent, Cycle, DomainAnswer, IndicatorValue, RefreshMark, Status
from trusts.ods import load_organisations

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture
def loaded(db):
    load_organisations(FIXTURES / "ods")
    load_all_frameworks(FIXTURES / "frameworks")


def snapshot():
    rows = DomainAnswer.objects.values_list(
        "assessment__ics__code", "assessment__trust__code", "assessment__care_setting", "domain__code", "level"
    )
    return sorted(rows, key=lambda row: tuple(str(value) for value in row))


@override_settings(DEBUG=True)
def test_demo_data_covers_every_organisation_with_a_mix_of_statuses(loaded):
    summary = load_demo_data()
    cycle = Cycle.objects.get(year=2026)
    assert cycle.is_demo and cycle.state == "open"
    assessments = Assessment.objects.filter(cycle=cycle)
    assert assessments.count() == summary.assessments > 250
    assert set(assessments.values_list("status", flat=True)) == {
        Status.DRAFT,
        Status.SUBMITTED,
        Status.RETURNED,
        Status.APPROVED,
    }
    assert not assessments.filter(is_demo=False).exists()
    assert assessments.filter(trust__isnull=True).count() > 30
    assert set(DomainAnswer.objects.values_list("level", flat=True)) <= {1, 2, 3, 4, 5}
    suppliers = set(IndicatorValue.objects.filter(indicator_code="epr_supplier").values_list("text", flat=True))
    assert "Epic" in suppliers
    assert cycle.targets.count() == 8
    assert AuditEvent.objects.filter(action="load_demo_data").count() == 1
    assert RefreshMark.objects.filter(cycle=cycle, assessment__isnull=True).count() == 1


@override_settings(DEBUG=True)
def test_demo_data_is_the_same_every_time(loaded):
    load_demo_data()
    first = snapshot()
    load_demo_data()
    assert snapshot() == first


@override_settings(DEBUG=True)
def test_the_readme_lead_finds_fresh_drafts(loaded):
    load_demo_data()
    r0a = Assessment.objects.filter(cycle__year=2026, trust__code="R0A")
    assert set(r0a.values_list("status", flat=True)) == {Status.DRAFT}
    assert not DomainAnswer.objects.filter(assessment__in=r0a).exists()


@override_settings(DEBUG=False)
def test_demo_data_is_refused_when_debug_is_off(loaded):
    with pytest.raises(DemoRefused):
        load_demo_data()
    assert not Cycle.objects.exists()


@override_settings(DEBUG=True)
def test_demo_data_never_replaces_a_real_cycle(loaded):
    from maturity.models import Framework

    Cycle.objects.create(
        year=2026,
        kind="collected",
        trust_framework=Framework.objects.get(kind="trust"),
        ics_framework=Framework.objects.get(kind="ics"),
    )
    with pytest.raises(DemoRefused, match="real data"):
        load_demo_data()


@override_settings(DEBUG=True)
def test_submitted_demo_returns_name_their_organisations_demo_account(loaded):
    from trusts.demo import create_demo_accounts

    create_demo_accounts()
    load_demo_data()
    submitted = Assessment.objects.filter(cycle__year=2026, status=Status.SUBMITTED).select_related("submitted_by")
    trust_return = submitted.filter(trust__isnull=False).select_related("trust").first()
    ics_return = submitted.filter(trust__isnull=True).select_related("ics").first()
    assert trust_return.submitted_by.username == f"lead-{trust_return.trust.code.lower()}"
    assert ics_return.submitted_by.username == f"ics-{ics_return.ics.code.lower()}"
    assert not Assessment.objects.filter(status=Status.DRAFT, submitted_by__isnull=False).exists()
