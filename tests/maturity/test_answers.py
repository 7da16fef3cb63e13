"""maturity.answers, the one place for answer rules, on the values people type that float() reads too kindly."""

import pytest
from django.core.exceptions import ValidationError

from maturity.answers import clean_indicator, clean_level
from maturity.models import Indicator, IndicatorType


def percent(min_value=0, max_value=100):
    return Indicator(
        code="unsupported_devices_pct", value_type=IndicatorType.PERCENT, min_value=min_value, max_value=max_value
    )


@pytest.mark.parametrize("typed", ["nan", "NaN", "inf", "-inf", "Infinity", "nan%"])
def test_not_a_number_and_infinity_are_not_numbers(typed):
    with pytest.raises(ValidationError, match="must be a number"):
        clean_indicator(percent(), typed)
    with pytest.raises(ValidationError, match="Level must be a whole number"):
        clean_level(typed)


@pytest.mark.parametrize(
    ("bounds", "typed", "message"),
    [
        ((0, 100), "101", "must be between 0 and 100, not 101"),
        ((0, None), "-1", "must be at least 0, not -1"),
        ((None, 100), "150", "must be at most 100, not 150"),
    ],
)
def test_a_number_out_of_bounds_names_the_bounds_it_has(bounds, typed, message):
    with pytest.raises(ValidationError, match=message):
        clean_indicator(percent(*bounds), typed)


def test_a_number_within_one_bound_is_kept():
    assert clean_indicator(percent(0, None), "12.5%").number == 12.5
