"""save_answers on a real framework: a whole acute return saved in a fixed, small number of queries, a second save
writing and auditing exactly what changed, and no summaries refresh for a save that cannot change a counted figure.
"""

import contextlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from maturity import actions
from maturity.frameworks import load_framework
from maturity.models import AuditEvent, DomainAnswer, IndicatorType, IndicatorValue, RefreshMark, Status
from tests.factories import AssessmentFactory, CycleFactory, TrustFactory, lead_of, reviewer_of

TRUST_FILE = Path(settings.BASE_DIR) / "fixtures" / "frameworks" / "wgll-trust-2026.1.yaml"
MAX_QUERIES = 10

RAW_VALUES = {
    IndicatorType.BOOLEAN: "Yes",
    IndicatorType.DATE: "2024-03-31",
    IndicatorType.PERCENT: "4.5",
    IndicatorType.NUMBER: "12",
    IndicatorType.TEXT: "Some text",
}


@pytest.fixture
def acute(db):
    framework = load_framework(TRUST_FILE).framework
    cycle = CycleFactory(trust_framework=framework)
    trust = TrustFactory(code="R0A")
    assessment = AssessmentFactory(cycle=cycle, trust=trust, framework=framework)
    domains = assessment.applicable_domains()
    indicators = assessment.indicators()
    return SimpleNamespace(
        assessment=assessment,
        lead=lead_of(trust),
        reviewer=reviewer_of(trust.ics),
        answers={
            domain.code: {
                "level": str(1 + n % 5),
                "evidence_note": f"Board paper {n} on {domain.name}",
                "evidence_link": f"https://example.nhs.uk/evidence/{domain.code.lower()}",
            }
            for n, domain in enumerate(domains)
        },
        indicators={
            indicator.code: indicator.choices[0] if indicator.choices else RAW_VALUES[indicator.value_type]
            for indicator in indicators
        },
    )


def save(world, answers=None, indicators=None, *, queries=None):
    """Save as the lead on the current version; `queries` (a CaptureQueriesContext) counts the action alone."""
    world.assessment.refresh_from_db()
    with queries if queries is not None else contextlib.nullcontext():
        return actions.save_answers(
            by=world.lead,
            assessment=world.assessment,
            expected_version=world.assessment.version,
            answers=answers,
            indicators=indicators,
        )


def test_a_whole_acute_draft_is_saved_in_a_few_queries(acute):
    assert len(acute.answers) >= 40 and len(acute.indicators) >= 7
    queries = CaptureQueriesContext(connection)
    saved = save(acute, acute.answers, acute.indicators, queries=queries)
    assert len(queries) <= MAX_QUERIES, "\n".join(query["sql"][:200] for query in queries.captured_queries)

    assert saved.version == 2
    answers = {a.domain.code: a for a in DomainAnswer.objects.filter(assessment=saved).select_related("domain")}
    assert set(answers) == set(acute.answers)
    for code, raw in acute.answers.items():
        answer = answers[code]
        assert (str(answer.level), answer.evidence_note, answer.evidence_link) == (
            raw["level"],
            raw["evidence_note"],
            raw["evidence_link"],
        )
    values = {v.indicator_code: v for v in IndicatorValue.objects.filter(assessment=saved)}
    assert set(values) == set(acute.indicators)
    assert all(value.source == "return" for value in values.values())
    assert values["epr_in_place"].boolean is True
    assert values["unsupported_devices_pct"].number == 4.5
    assert str(values["epr_go_live"].date) == "2024-03-31"
    assert values["epr_supplier"].text == "Epic"

    event = AuditEvent.objects.get(assessment=saved, action="save")
    assert event.version == 2
    assert len(event.after) == len(acute.answers) + len(acute.indicators)
    assert all(
        before in (None, {"level": None, "evidence_note": "", "evidence_link": ""}) for before in event.before.values()
    )


def test_a_second_save_writes_and_audits_exactly_what_changed(acute):
    save(acute, acute.answers, acute.indicators)
    untouched = {
        a.domain.code: (a.pk, a.level, a.evidence_note, a.evidence_link)
        for a in DomainAnswer.objects.filter(assessment=acute.assessment).select_related("domain")
    }
    first, second, third = list(acute.answers)[:3]
    changed = {
        first: {**acute.answers[first], "level": "5" if acute.answers[first]["level"] != "5" else "4"},
        second: {**acute.answers[second], "evidence_note": "A newer board paper"},
        third: {**acute.answers[third], "evidence_link": ""},
    }
    indicators = {**acute.indicators, "epr_go_live": ""}

    queries = CaptureQueriesContext(connection)
    saved = save(acute, {**acute.answers, **changed}, indicators, queries=queries)
    assert len(queries) <= MAX_QUERIES, "\n".join(query["sql"][:200] for query in queries.captured_queries)

    assert saved.version == 3
    event = AuditEvent.objects.filter(assessment=saved).order_by("pk").last()
    assert event.version == 3
    assert set(event.after) == {first, second, third, "indicator:epr_go_live"}
    assert event.before == {
        **{code: _audited(acute.answers[code]) for code in (first, second, third)},
        "indicator:epr_go_live": {"date": "2024-03-31"},
    }
    assert event.after == {
        **{code: _audited(changed[code]) for code in (first, second, third)},
        "indicator:epr_go_live": None,
    }
    assert event.summary == f"Changed {', '.join(sorted([first, second, third, 'epr_go_live']))}"

    now = {
        a.domain.code: (a.pk, a.level, a.evidence_note, a.evidence_link)
        for a in DomainAnswer.objects.filter(assessment=saved).select_related("domain")
    }
    assert {code for code in now if now[code] != untouched[code]} == {first, second, third}
    assert all(now[code][0] == untouched[code][0] for code in now), "answers are updated in place, not replaced"
    assert now[first][1] == int(changed[first]["level"])
    assert now[second][2] == "A newer board paper"
    assert now[third][3] == ""
    codes = set(IndicatorValue.objects.filter(assessment=saved).values_list("indicator_code", flat=True))
    assert codes == set(acute.indicators) - {"epr_go_live"}


def test_saving_the_same_answers_again_writes_nothing(acute):
    save(acute, acute.answers, acute.indicators)
    queries = CaptureQueriesContext(connection)
    saved = save(acute, acute.answers, acute.indicators, queries=queries)
    assert saved.version == 2
    assert AuditEvent.objects.filter(action="save").count() == 1
    assert not any(
        sql["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for sql in queries.captured_queries
    )


def test_a_new_indicator_value_and_a_changed_one_in_the_same_save(acute):
    save(acute, indicators={"unsupported_devices_pct": "4.5"})
    saved = save(acute, indicators={"unsupported_devices_pct": "7", "digital_spend_pct": "3"})
    values = dict(IndicatorValue.objects.filter(assessment=saved).values_list("indicator_code", "number"))
    assert values == {"unsupported_devices_pct": 7.0, "digital_spend_pct": 3.0}
    event = AuditEvent.objects.filter(assessment=saved).order_by("pk").last()
    assert event.before == {"indicator:unsupported_devices_pct": {"number": 4.5}, "indicator:digital_spend_pct": None}
    assert event.after == {
        "indicator:unsupported_devices_pct": {"number": 7.0},
        "indicator:digital_spend_pct": {"number": 3.0},
    }


def test_an_invalid_value_anywhere_writes_nothing(acute):
    with pytest.raises(actions.Invalid):
        save(acute, acute.answers, {**acute.indicators, "unsupported_devices_pct": "101"})
    assert not DomainAnswer.objects.exists()
    assert not IndicatorValue.objects.exists()
    assert not AuditEvent.objects.exists()
    acute.assessment.refresh_from_db()
    assert acute.assessment.version == 1


# --- Refresh marks -----------------------------------------------------------------------------------------------


def test_a_draft_save_marks_nothing_for_refresh_and_a_submission_does(acute):
    save(acute, acute.answers, acute.indicators)
    assert not RefreshMark.objects.exists()
    acute.assessment.refresh_from_db()
    actions.submit_assessment(
        by=acute.lead,
        assessment=acute.assessment,
        expected_version=acute.assessment.version,
        sign_off_name="Jo Bloggs",
        sign_off_role="Chief Executive",
        declared=True,
    )
    assert [(m.assessment_id, m.reason) for m in RefreshMark.objects.all()] == [(acute.assessment.pk, "submit")]


def test_a_save_on_a_returned_assessment_marks_nothing_and_the_resubmission_does(acute):
    save(acute, acute.answers, acute.indicators)
    acute.assessment.refresh_from_db()
    actions.submit_assessment(
        by=acute.lead,
        assessment=acute.assessment,
        expected_version=acute.assessment.version,
        sign_off_name="Jo Bloggs",
        sign_off_role="Chief Executive",
        declared=True,
    )
    acute.assessment.refresh_from_db()
    actions.return_assessment(
        by=acute.reviewer,
        assessment=acute.assessment,
        expected_version=acute.assessment.version,
        comments=[actions.Comment("Check the evidence")],
    )
    assert [m.reason for m in RefreshMark.objects.all()] == ["submit", "return"]

    first = next(iter(acute.answers))
    saved = save(acute, {first: {**acute.answers[first], "evidence_note": "Checked"}})
    assert saved.status == Status.RETURNED
    assert [m.reason for m in RefreshMark.objects.all()] == ["submit", "return"]

    actions.submit_assessment(
        by=acute.lead,
        assessment=saved,
        expected_version=saved.version,
        sign_off_name="Jo Bloggs",
        sign_off_role="Chief Executive",
        declared=True,
    )
    assert [m.reason for m in RefreshMark.objects.all()] == ["submit", "return", "submit"]


def _audited(raw: dict) -> dict:
    return {"level": int(raw["level"]), "evidence_note": raw["evidence_note"], "evidence_link": raw["evidence_link"]}
