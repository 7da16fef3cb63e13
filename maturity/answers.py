"""Checking what a person entered, wherever it came from (the forms, a spreadsheet, the API): raw values in,
clean values or messages out. Pure functions; the actions call them and write nothing when there is a message.

Field keys name where a problem is: `<domain code>-level`, `<domain code>-evidence_link`,
`<domain code>-evidence_note`, `indicator-<indicator code>`. A date typed in the NHS.UK date input (day, month
and year boxes) comes as DateParts; the boxes to mark are those `date_parts_in_error` names."""

import datetime
import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from maturity.models import Domain, Indicator, IndicatorType

EVIDENCE_NOTE_LIMIT = 2000
EVIDENCE_LINK_LIMIT = 500
TEXT_LIMIT = 200
TRUE_WORDS = {"yes", "y", "true", "1"}
FALSE_WORDS = {"no", "n", "false", "0"}
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")


@dataclass(frozen=True)
class CleanAnswer:
    level: int | None
    evidence_note: str
    evidence_link: str


@dataclass(frozen=True)
class CleanValue:
    """An indicator value in the typed column its indicator uses; all empty means 'not answered'."""

    number: float | None = None
    text: str = ""
    date: datetime.date | None = None
    boolean: bool | None = None

    @property
    def is_empty(self):
        return self.number is None and self.text == "" and self.date is None and self.boolean is None

    def as_dict(self):
        return {"number": self.number, "text": self.text, "date": self.date, "boolean": self.boolean}


@dataclass(frozen=True)
class DateParts:
    """A date as the NHS.UK date input sends it: what was typed in the day, month and year boxes."""

    day: str = ""
    month: str = ""
    year: str = ""


DATE_PARTS = ("day", "month", "year")


class DateInputError(ValidationError):
    """A typed date that is incomplete or not a real date; `parts` are the boxes to mark (day, month, year)."""

    def __init__(self, message: str, parts: tuple[str, ...]):
        super().__init__(message)
        self.parts = parts


def date_from_parts(parts: DateParts) -> datetime.date | None:
    """The date typed in the three boxes, or None when all are empty. The messages follow the NHS.UK date input's
    guidance: say which part is missing, or that the date must be a real one, and mark only the boxes at fault."""
    typed = {name: getattr(parts, name).strip() for name in DATE_PARTS}
    if not any(typed.values()):
        return None
    missing = tuple(name for name in DATE_PARTS if not typed[name])
    if missing:
        raise DateInputError(f"must include a {' and '.join(missing)}", missing)
    limits = {"day": (1, 31), "month": (1, 12)}
    wrong = tuple(
        name for name, (low, high) in limits.items() if not typed[name].isdigit() or not low <= int(typed[name]) <= high
    )
    if wrong:
        raise DateInputError("must be a real date", wrong)
    if not (typed["year"].isdigit() and len(typed["year"]) == 4):
        raise DateInputError("must include a year with 4 numbers, for example 2019", ("year",))
    try:
        return datetime.date(int(typed["year"]), int(typed["month"]), int(typed["day"]))
    except ValueError:  # a day the month does not have, such as 31 April
        raise DateInputError("must be a real date", DATE_PARTS) from None


def date_parts_in_error(parts: DateParts) -> tuple[str, ...]:
    """The boxes of a typed date to mark as wrong: none when the date is fine or empty."""
    try:
        date_from_parts(parts)
    except DateInputError as error:
        return error.parts
    return ()


def _text(raw) -> str:
    return "" if raw is None else str(raw).strip()


def clean_level(raw) -> int | None:
    """A whole level from 1 to 5, or None for 'not answered yet'. Spreadsheets give 3.0 for 3: that is fine."""
    text = _text(raw)
    if text == "":
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValidationError(f"Level must be a whole number from 1 to 5, not ‘{text}’") from None
    if not number.is_integer() or not 1 <= number <= 5:
        raise ValidationError(f"Level must be a whole number from 1 to 5, not ‘{text}’")
    return int(number)


def clean_evidence_link(raw) -> str:
    text = _text(raw)
    if text == "":
        return ""
    if len(text) > EVIDENCE_LINK_LIMIT:
        raise ValidationError(f"Evidence link must be {EVIDENCE_LINK_LIMIT} characters or fewer")
    try:
        URLValidator(schemes=["http", "https"])(text)
    except ValidationError:
        raise ValidationError("Evidence link must be a web address starting with https:// or http://") from None
    return text


def clean_evidence_note(raw) -> str:
    text = _text(raw)
    if len(text) > EVIDENCE_NOTE_LIMIT:
        raise ValidationError(f"Evidence note must be {EVIDENCE_NOTE_LIMIT} characters or fewer")
    return text


def clean_answers(domains: dict[str, Domain], raw: dict[str, dict]) -> tuple[dict[str, CleanAnswer], dict[str, str]]:
    """raw: domain code → {level, evidence_note, evidence_link}. Unknown domain codes are errors."""
    clean, errors = {}, {}
    for code, fields in raw.items():
        if code not in domains:
            errors[f"{code}-level"] = f"‘{code}’ is not a domain of this assessment"
            continue
        values = {}
        for name, cleaner in (
            ("level", clean_level),
            ("evidence_note", clean_evidence_note),
            ("evidence_link", clean_evidence_link),
        ):
            try:
                values[name] = cleaner(fields.get(name))
            except ValidationError as error:
                errors[f"{code}-{name}"] = f"{domains[code].code} {domains[code].name}: {error.messages[0]}"
        if len(values) == 3:
            clean[code] = CleanAnswer(**values)
    return clean, errors


def clean_indicator(indicator: Indicator, raw) -> CleanValue:
    if isinstance(raw, DateParts):  # from the forms' date input; spreadsheets and the API send text
        return CleanValue(date=date_from_parts(raw))
    text = _text(raw)
    if text == "":
        return CleanValue()
    kind = indicator.value_type
    if kind == IndicatorType.BOOLEAN:
        if text.lower() in TRUE_WORDS:
            return CleanValue(boolean=True)
        if text.lower() in FALSE_WORDS:
            return CleanValue(boolean=False)
        raise ValidationError(f"must be Yes or No, not ‘{text}’")
    if kind == IndicatorType.CHOICE:
        by_lower = {choice.lower(): choice for choice in indicator.choices}
        if text.lower() not in by_lower:
            raise ValidationError(f"must be one of {', '.join(indicator.choices)}, not ‘{text}’")
        return CleanValue(text=by_lower[text.lower()])
    if kind == IndicatorType.DATE:
        for date_format in DATE_FORMATS:
            try:
                return CleanValue(date=datetime.datetime.strptime(text[:10], date_format).date())
            except ValueError:
                continue
        raise ValidationError(f"must be a date like 2024-03-31, not ‘{text}’")
    if kind in (IndicatorType.NUMBER, IndicatorType.PERCENT):
        try:
            number = float(text.removesuffix("%"))
        except ValueError:
            raise ValidationError(f"must be a number, not ‘{text}’") from None
        if not math.isfinite(number):  # float() reads 'nan' and 'inf', which no figure can be
            raise ValidationError(f"must be a number, not ‘{text}’")
        low, high = indicator.min_value, indicator.max_value
        if (low is not None and number < low) or (high is not None and number > high):
            raise ValidationError(f"must be {_bounds(low, high)}, not {number:g}")
        return CleanValue(number=number)
    if len(text) > TEXT_LIMIT:
        raise ValidationError(f"must be {TEXT_LIMIT} characters or fewer")
    return CleanValue(text=text)


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"between {low:g} and {high:g}"
    return f"at least {low:g}" if low is not None else f"at most {high:g}"


def clean_indicators(indicators: dict[str, Indicator], raw: dict[str, object]) -> tuple[dict, dict[str, str]]:
    """raw: indicator code → raw value. Unknown indicator codes are errors."""
    clean, errors = {}, {}
    for code, value in raw.items():
        if code not in indicators:
            errors[f"indicator-{code}"] = f"‘{code}’ is not an indicator of this assessment"
            continue
        try:
            clean[code] = clean_indicator(indicators[code], value)
        except ValidationError as error:
            errors[f"indicator-{code}"] = f"{indicators[code].name} {error.messages[0]}"
    return clean, errors
