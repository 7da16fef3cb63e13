"""The pages' forms on their own: what each reads from a post, which mistakes come back to the page beside their
field and which make the post malformed (a 400 that says what was wrong), with maturity.answers' own messages."""

import datetime

import pytest

from config.errors import MalformedPost
from maturity.answers import DateParts
from maturity.forms import (
    VERSION_MISSING,
    AssessmentChangeForm,
    CycleForm,
    GapTargetsForm,
    IndicatorsForm,
    NewCycleForm,
    PillarForm,
    ReviewForm,
    SubmitForm,
)
from maturity.models import Domain, Indicator, IndicatorType

DOMAINS = [Domain(code="WL01", name="Board leadership"), Domain(code="SF01", name="Infrastructure")]
INDICATORS = [
    Indicator(code="devices", name="Devices on unsupported systems", value_type=IndicatorType.PERCENT, max_value=100),
    Indicator(code="go_live", name="EPR go-live date", value_type=IndicatorType.DATE),
    Indicator(code="supplier", name="EPR supplier", value_type=IndicatorType.CHOICE, choices=["Epic", "Other"]),
]


def refusal(form) -> str:
    with pytest.raises(MalformedPost) as raised:
        form.refuse_malformed()
    return str(raised.value)


@pytest.mark.parametrize("data", [{}, {"version": ""}, {"version": "seven"}, {"version": "0"}, {"version": "9" * 5000}])
def test_a_missing_or_non_numeric_version_is_a_malformed_post(data):
    assert refusal(AssessmentChangeForm(data)) == VERSION_MISSING


def test_a_version_is_read_as_a_number():
    form = AssessmentChangeForm({"version": " 3 "})
    form.refuse_malformed()
    assert form.cleaned_data["version"] == 3


def test_a_level_outside_the_choices_is_malformed_with_the_answer_rules_message():
    form = PillarForm(DOMAINS, {"version": "1", "WL01-level": "7"})
    assert refusal(form) == "WL01 Board leadership: Level must be a whole number from 1 to 5, not ‘7’"


def test_a_typed_mistake_goes_back_to_its_field_not_to_a_bad_request():
    form = PillarForm(DOMAINS, {"version": "1", "WL01-level": "3", "WL01-evidence_link": "board papers"})
    form.refuse_malformed()
    assert not form.is_valid()
    assert form.field_errors() == {
        "WL01-evidence_link": "WL01 Board leadership: Evidence link must be a web address starting with https:// "
        "or http://"
    }


def test_the_pillar_form_reads_every_domain_and_a_field_left_out_as_empty():
    form = PillarForm(DOMAINS, {"version": "1", "WL01-level": "3", "WL01-evidence_note": " Board paper "})
    assert form.is_valid()
    assert form.posted_answers() == {
        "WL01": {"level": "3", "evidence_note": " Board paper ", "evidence_link": ""},
        "SF01": {"level": "", "evidence_note": "", "evidence_link": ""},
    }


def test_the_indicators_form_reads_a_date_from_its_three_boxes():
    data = {"version": "1", "indicator-go_live-day": "1", "indicator-go_live-month": "4", "indicator-go_live-year": ""}
    form = IndicatorsForm(INDICATORS, data)
    form.refuse_malformed()
    assert form.posted_values()["go_live"] == DateParts("1", "4", "")
    assert form.field_errors() == {"indicator-go_live": "EPR go-live date must include a year"}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("nan", "Devices on unsupported systems must be a number, not ‘nan’"),
        ("1e400", "Devices on unsupported systems must be a number, not ‘1e400’"),
        ("101", "Devices on unsupported systems must be at most 100, not 101"),
    ],
)
def test_a_figure_must_be_a_finite_number_within_the_indicators_bounds(typed, message):
    form = IndicatorsForm(INDICATORS, {"version": "1", "indicator-devices": typed})
    form.refuse_malformed()
    assert form.field_errors() == {"indicator-devices": message}


def test_valid_indicators_are_passed_on_as_typed():
    form = IndicatorsForm(INDICATORS, {"version": "2", "indicator-devices": "4%", "indicator-supplier": "epic"})
    assert form.is_valid()
    assert form.posted_values() == {"devices": "4%", "go_live": DateParts(), "supplier": "epic"}


@pytest.mark.parametrize(("declared", "read"), [({"declared": "yes"}, True), ({}, False)])
def test_the_declaration_is_ticked_or_not(declared, read):
    form = SubmitForm({"version": "4", "sign_off_name": "Jo", **declared})
    assert form.is_valid()
    assert form.sign_off() == {"sign_off_name": "Jo", "sign_off_role": "", "declared": read}


def test_a_declaration_box_sending_anything_but_yes_is_malformed():
    assert refusal(SubmitForm({"version": "4", "declared": "no"})) == (
        "The declaration's box sends ‘yes’ when it is ticked, not ‘no’"
    )


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (None, "The form did not say whether to return or approve the assessment"),
        ("publish", "A review is returned or approved, not ‘publish’"),
    ],
)
def test_a_review_decision_is_approve_or_return(decision, message):
    data = {"version": "5"} if decision is None else {"version": "5", "decision": decision}
    assert refusal(ReviewForm(["WL01"], data)) == message


def test_the_review_form_reads_every_comment_box_by_domain():
    form = ReviewForm(
        ["WL01", "SF01"], {"version": "5", "decision": "return", "comment-WL01": "Why?", "comment-X": "?"}
    )
    assert form.is_valid()
    assert form.comments() == {"": "", "WL01": "Why?", "SF01": ""}


def test_several_malformed_fields_are_all_named():
    assert refusal(ReviewForm([], {"decision": "publish"})) == (
        f"{VERSION_MISSING}; A review is returned or approved, not ‘publish’"
    )


# --- Cycles ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", ["27", "twenty", "1999", "", "2026.5"])
def test_a_new_cycles_year_is_four_digits(year):
    form = NewCycleForm({"year": year})
    form.refuse_malformed()
    assert form.field_errors() == {"year": "Enter the year as four digits, like 2027"}


def test_a_new_cycles_dates_are_iso_dates_and_optional():
    form = NewCycleForm({"year": "2027", "opens_on": "2027-09-01", "closes_on": "31/12/2027"})
    form.refuse_malformed()
    assert form.field_errors() == {"closes_on": "Enter a date like 2026-03-31"}
    form = NewCycleForm({"year": "2027", "opens_on": "2027-09-01"})
    assert form.is_valid()
    assert form.cleaned_data["opens_on"] == datetime.date(2027, 9, 1) and form.cleaned_data["closes_on"] is None


def test_a_framework_that_is_not_a_number_is_malformed():
    assert "That trust framework is not one of those listed" in refusal(
        NewCycleForm({"year": "2027", "trust_framework": "abc"})
    )


def test_a_cycle_state_outside_the_choices_is_malformed():
    assert refusal(CycleForm({"state": "finished"})) == (
        "A cycle's state is one of upcoming, open, closed, published, not ‘finished’"
    )


def target_rows(*rows, count=None):
    data = {"target_rows": str(len(rows) if count is None else count)}
    for number, row in enumerate(rows, start=1):
        data.update({f"target-{number}-{name}": value for name, value in row.items()})
    return data


def row(kind, value, description="A target", **extra):
    return {"description": description, "theme": "legacy_it", "kind": kind, "value": value, **extra}


@pytest.mark.parametrize(
    ("kind", "typed", "read"),
    [
        ("domain_level", "3.5", 3.5),
        ("indicator_at_most", " 5 ", 5.0),
        # Kept as typed, for actions.set_gap_targets to say what to type: not a number, or not a finite one.
        ("indicator_at_most", "5%", "5%"),
        ("indicator_at_least", "nan", "nan"),
        ("domain_level", "inf", "inf"),
        ("indicator_in", "Standards Met, Standards Exceeded,", ["Standards Met", "Standards Exceeded"]),
    ],
)
def test_a_targets_value_is_typed_by_its_kind(kind, typed, read):
    form = GapTargetsForm(target_rows(row(kind, typed)))
    form.refuse_malformed()
    assert form.is_valid()
    assert form.targets()[0]["value"] == read


def test_rows_without_a_description_are_not_targets_whatever_else_they_send():
    blank = row("guess", "", description=" ", theme="magic")
    form = GapTargetsForm(target_rows(blank, row("domain_level", "3"), blank))
    form.refuse_malformed()
    assert [target["value"] for target in form.targets()] == [3.0]


def test_a_target_row_with_a_theme_or_kind_outside_the_choices_is_malformed_and_named():
    form = GapTargetsForm(target_rows(row("domain_level", "3"), row("guess", "3", theme="magic")))
    assert refusal(form) == (
        "Target 2: the theme must be one of legacy_it, epr, cyber, workforce, investment; "
        "Target 2: what it measures must be one of domain_level, indicator_at_least, indicator_at_most, indicator_in"
    )


@pytest.mark.parametrize("count", ["many", "-1", "101", "10000000000", ""])
def test_a_row_count_that_is_not_a_small_number_is_malformed(count):
    assert "how many target rows" in refusal(GapTargetsForm(target_rows(count=count)))
