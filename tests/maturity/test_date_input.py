"""Date indicators (the EPR go-live date) in the NHS.UK date input: day, month and year boxes, with a message that
says what is wrong and only the boxes at fault marked."""

import datetime

import pytest

from maturity.answers import DateInputError, DateParts, date_from_parts
from maturity.models import IndicatorType, IndicatorValue
from tests.factories import AssessmentFactory, CycleFactory, IndicatorFactory, TrustFactory, lead_of

URL = "/trusts/R0A/assessments/2026/acute/indicators/"


def test_a_whole_date_is_read_from_its_three_boxes():
    assert date_from_parts(DateParts(" 1", "04", "2024 ")) == datetime.date(2024, 4, 1)


def test_three_empty_boxes_are_no_date():
    assert date_from_parts(DateParts("", " ", "")) is None


@pytest.mark.parametrize(
    ("parts", "message", "marked"),
    [
        (DateParts("1", "", "2024"), "must include a month", ("month",)),
        (DateParts("", "4", ""), "must include a day and year", ("day", "year")),
        (DateParts("1", "13", "2024"), "must be a real date", ("month",)),
        (DateParts("first", "4", "2024"), "must be a real date", ("day",)),
        (DateParts("1", "4", "24"), "must include a year with 4 numbers, for example 2019", ("year",)),
        (DateParts("31", "4", "2024"), "must be a real date", ("day", "month", "year")),
    ],
)
def test_a_wrong_date_says_what_is_wrong_and_which_boxes(parts, message, marked):
    with pytest.raises(DateInputError) as raised:
        date_from_parts(parts)
    assert raised.value.messages == [message]
    assert raised.value.parts == marked


@pytest.fixture
def lead(db, client):
    cycle = CycleFactory()
    IndicatorFactory(
        framework=cycle.trust_framework,
        code="epr_go_live",
        name="EPR go-live date",
        value_type=IndicatorType.DATE,
        min_value=None,
        max_value=None,
        required=False,
    )
    trust = TrustFactory(code="R0A")
    AssessmentFactory(cycle=cycle, trust=trust)
    client.force_login(lead_of(trust))
    return client


def post(client, day, month, year):
    return client.post(
        URL,
        {
            "version": 1,
            "indicator-epr_go_live-day": day,
            "indicator-epr_go_live-month": month,
            "indicator-epr_go_live-year": year,
            "indicator-unsupported_devices_pct": "4",
        },
    )


def test_the_date_is_asked_in_three_boxes_not_the_browsers_date_picker(lead):
    content = lead.get(URL).content.decode()
    assert 'type="date"' not in content
    for part, label in [("day", "Day"), ("month", "Month"), ("year", "Year")]:
        label_html = (
            f'<label class="nhsuk-label nhsuk-date-input__label" for="indicator-epr_go_live-{part}">{label}</label>'
        )
        assert label_html in content
        assert f'name="indicator-epr_go_live-{part}" type="text" inputmode="numeric"' in content


def test_a_date_typed_in_three_boxes_is_saved_and_shown_in_them_again(lead):
    assert post(lead, "1", "4", "2024").status_code == 302
    assert IndicatorValue.objects.get(indicator_code="epr_go_live").date == datetime.date(2024, 4, 1)
    content = lead.get(URL).content.decode()
    for part, value in [("day", "1"), ("month", "4"), ("year", "2024")]:
        assert f'name="indicator-epr_go_live-{part}" type="text" inputmode="numeric" value="{value}"' in content


def test_a_missing_month_is_named_and_only_its_box_is_marked(lead):
    response = post(lead, "1", "", "2024")
    assert response.status_code == 400
    content = response.content.decode()
    assert '<a href="#indicator-epr_go_live-month">EPR go-live date must include a month</a>' in content
    assert 'id="indicator-epr_go_live-error"' in content
    marked = [part for part in ("day", "month", "year") if f'--error" id="indicator-epr_go_live-{part}"' in content]
    assert marked == ["month"]
    assert 'name="indicator-epr_go_live-day" type="text" inputmode="numeric" value="1"' in content  # kept
    assert not IndicatorValue.objects.exists()  # nor the valid percentage: nothing is saved


def test_emptying_the_three_boxes_clears_the_date(lead):
    post(lead, "1", "4", "2024")
    response = lead.post(URL, {"version": 2, "indicator-unsupported_devices_pct": "4"})
    assert response.status_code == 302
    assert not IndicatorValue.objects.filter(indicator_code="epr_go_live").exists()
